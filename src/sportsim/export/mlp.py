"""A trained SB3 MLP policy without torch or SB3: the export's fast path.

Importing torch and building an SB3 algorithm (its optimiser pulls in ``torch._dynamo``, its
orthogonal initialisation runs QR decompositions that the loaded weights then replace) took most of
``python -m sportsim.export <policy> ...`` - seconds, against well under a second for the rollout and
the writers. For the policies sportsim trains - ``MlpPolicy`` of PPO / A2C (no gSDE) and SAC, flat Box
observations - the deterministic action is a small MLP, so here it is evaluated with NumPy as SB3
evaluates it (observation normalised as ``VecNormalize.normalize_obs`` does, in float64; then float32
layers; PPO/A2C: the Gaussian's mean, clipped to the action space; SAC: ``tanh`` of the mean, rescaled
to the space), and exported to ONNX directly with ``onnx.helper``. :func:`open_policy` returns None for
anything else, and the export takes the SB3 path (:func:`sportsim.runs.open_policy`).

The weights are read from the model ``.zip``'s ``policy.pth`` (PyTorch's zip format: ``data.pkl``
plus one raw little-endian file per storage) by :class:`_StateDictReader`, a pickle reader that can
build nothing but an ``OrderedDict`` of tensors: its ``find_class`` admits only
``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` (answered by a NumPy rebuild) and
PyTorch's typed storage names (answered by dtypes), the restriction Python's documentation gives for
unpickling ("Restricting Globals"), which is what ``torch.load(weights_only=True)`` enforces too. Any
other global - or any other layout - ends this path (None) rather than the export. Tests compare the
arrays with ``torch.load``'s and the actions with SB3's.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sportsim.errors import ModelFileError

_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                   "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
                   "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}
ACTIVATIONS = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, np.float32(0.0))}
ONNX_ACTIVATIONS = {"tanh": "Tanh", "relu": "Relu"}
DEFAULT_ACTIVATION = {"ppo": "tanh", "a2c": "tanh", "sac": "relu"}  # SB3's MlpPolicy defaults
# policy_kwargs that leave the deterministic action an MLP of the flat observation
_PLAIN_POLICY_KWARGS = {"net_arch", "activation_fn", "log_std_init", "ortho_init", "share_features_extractor",
                        "n_critics", "optimizer_kwargs", "normalize_images"}
ONNX_OPSET = 17


class UnsupportedPolicy(Exception):
    """The model is not one this module evaluates (the caller takes the SB3 path)."""


class _Storage:
    def __init__(self, dtype: type) -> None:
        self.dtype = dtype


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    flat = storage
    if not isinstance(flat, np.ndarray):
        raise UnsupportedPolicy("a tensor without a storage")
    item = flat.itemsize
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    if (len(size) != len(stride) or offset < 0 or any(n < 0 for n in size) or any(s < 0 for s in stride)
            or (all(size) and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= len(flat))
            or (not size and offset >= len(flat))):
        raise UnsupportedPolicy("a tensor reaching outside its storage")  # as_strided does not check
    if len(size) == 0:
        return flat[offset].copy()
    view = np.lib.stride_tricks.as_strided(flat[offset:], shape=tuple(size),
                                           strides=tuple(s * item for s in stride), writeable=False)
    return np.array(view)


class _StateDictReader(pickle.Unpickler):
    """Unpickles a PyTorch ``state_dict`` into NumPy arrays and nothing else (module docstring)."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive, self._prefix = archive, prefix

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _Storage(_STORAGE_DTYPES[name])
        raise UnsupportedPolicy(f"global {module}.{name}")

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _Storage)):
            raise UnsupportedPolicy(f"persistent id {pid!r}")
        _, storage, key, _location, numel = pid
        raw = self._archive.read(f"{self._prefix}data/{key}")
        array = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))
        if len(array) != numel:
            raise UnsupportedPolicy(f"storage {key}: {len(array)} values, {numel} announced")
        return array


def read_state_dict(model_zip: Path, entry: str = "policy.pth") -> dict[str, np.ndarray]:
    """The tensors of ``entry`` (an SB3 model's ``policy.pth``) as NumPy arrays, name -> array."""
    try:
        with zipfile.ZipFile(model_zip) as outer:
            inner = zipfile.ZipFile(io.BytesIO(outer.read(entry)))
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{model_zip} is not a readable SB3 model file ({exc})") from exc
    with inner:
        pickles = [n for n in inner.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise UnsupportedPolicy(f"{entry}: not PyTorch's zip format")
        prefix = pickles[0][: -len("data.pkl")]
        order = inner.read(f"{prefix}byteorder").decode() if f"{prefix}byteorder" in inner.namelist() else "little"
        if order != "little":
            raise UnsupportedPolicy(f"{entry}: {order}-endian tensors")
        try:
            state = _StateDictReader(inner.read(pickles[0]), inner, prefix).load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError) as exc:
            raise UnsupportedPolicy(f"{entry}: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise UnsupportedPolicy(f"{entry}: not a state_dict of tensors")
    return dict(state)


def _linear_stack(state: dict[str, np.ndarray], prefix: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The Linear layers of an SB3 ``nn.Sequential`` (Linear, activation, Linear, ...) under ``prefix``."""
    indices = sorted({int(k[len(prefix):].split(".")[0]) for k in state if k.startswith(prefix)})
    if indices != list(range(0, 2 * len(indices), 2)):
        raise UnsupportedPolicy(f"{prefix}: not alternating Linear and activation layers ({indices})")
    return [(state[f"{prefix}{i}.weight"], state[f"{prefix}{i}.bias"]) for i in indices]


@dataclass
class MlpPolicy:
    """The deterministic action of an SB3 MLP policy, evaluated with NumPy (module docstring).

    ``hidden``: (weight (out, in), bias) per hidden layer, each followed by ``activation``; ``head``:
    the action layer; ``squash``: SAC's tanh and rescaling to [low, high] (else a clip to it);
    ``obs_mean``/``obs_std``/``clip_obs``: the observation normalisation, None without it."""

    hidden: list[tuple[np.ndarray, np.ndarray]]
    head: tuple[np.ndarray, np.ndarray]
    activation: str
    squash: bool
    low: np.ndarray
    high: np.ndarray
    obs_mean: np.ndarray | None = None
    obs_std: np.ndarray | None = None
    clip_obs: float = float("inf")

    @property
    def n_obs(self) -> int:
        return int((self.hidden[0][0] if self.hidden else self.head[0]).shape[1])

    def act(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """The action for one raw observation (or a batch), float32 as SB3 returns it."""
        if not deterministic:
            raise ValueError("MlpPolicy evaluates the deterministic action only")
        x = np.asarray(obs)
        if self.obs_mean is not None:  # VecNormalize.normalize_obs: float64
            x = np.clip((x - self.obs_mean) / self.obs_std, -self.clip_obs, self.clip_obs)
        x = x.astype(np.float32)
        act = ACTIVATIONS[self.activation]
        for weight, bias in self.hidden:
            x = act(x @ weight.T + bias)
        weight, bias = self.head
        x = x @ weight.T + bias
        if self.squash:
            half = np.float32(0.5) * (self.high - self.low)
            return (self.low + (np.tanh(x) + np.float32(1.0)) * half).astype(np.float32)
        return np.clip(x, self.low, self.high)

    def onnx_model(self) -> bytes:
        """This policy as ONNX (as :mod:`sportsim.export.onnx` describes the graph): ``obs`` (batch,
        n_obs) float32 in, ``action`` out."""
        import onnx  # noqa: PLC0415 - the onnx extra
        from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

        inits, nodes = [], []

        def const(name: str, value) -> str:
            inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
            return name

        x = "obs"
        if self.obs_mean is not None:
            nodes += [helper.make_node("Sub", [x, const("mean", self.obs_mean)], ["centred"]),
                      helper.make_node("Div", ["centred", const("std", self.obs_std)], ["scaled"]),
                      helper.make_node("Clip", ["scaled", const("clip_low", -self.clip_obs),
                                                const("clip_high", self.clip_obs)], ["normalised"])]
            x = "normalised"
        for i, (weight, bias) in enumerate(self.hidden):
            nodes += [helper.make_node("Gemm", [x, const(f"w{i}", weight), const(f"b{i}", bias)], [f"z{i}"], transB=1),
                      helper.make_node(ONNX_ACTIVATIONS[self.activation], [f"z{i}"], [f"h{i}"])]
            x = f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, const("w_out", self.head[0]), const("b_out", self.head[1])],
                                      ["mean_action"], transB=1))
        low, high = const("low", self.low), const("high", self.high)
        x = "mean_action"
        if self.squash:
            nodes += [helper.make_node("Tanh", [x], ["squashed"]),
                      helper.make_node("Add", ["squashed", const("one", 1.0)], ["shifted"]),
                      helper.make_node("Mul", ["shifted", const("half_range", 0.5 * (self.high - self.low))],
                                       ["scaled_action"]),
                      helper.make_node("Add", ["scaled_action", low], ["rescaled"])]
            x = "rescaled"
        nodes += [helper.make_node("Max", [x, low], ["above_low"]),
                  helper.make_node("Min", ["above_low", high], ["action"])]
        graph = helper.make_graph(
            nodes, "sportsim_policy",
            [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", self.n_obs])],
            [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["batch", len(self.low)])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
                                  producer_name="sportsim")
        onnx.checker.check_model(model)
        return model.SerializeToString()


def mlp_policy(cfg, state: dict[str, np.ndarray], observation_space, action_space,
               norm: dict[str, np.ndarray] | None) -> MlpPolicy:
    """The :class:`MlpPolicy` of a run config's ``algo`` and a ``policy.pth`` state dict, or
    :class:`UnsupportedPolicy`."""
    algo = cfg.algo
    name = str(algo.name)
    kwargs = dict(algo.get("policy_kwargs") or {})
    if str(algo.policy) != "MlpPolicy" or algo.get("use_sde"):
        raise UnsupportedPolicy(f"{name} {algo.policy}{' with gSDE' if algo.get('use_sde') else ''}")
    if set(kwargs) - _PLAIN_POLICY_KWARGS:
        raise UnsupportedPolicy(f"policy_kwargs {sorted(set(kwargs) - _PLAIN_POLICY_KWARGS)}")
    activation = str(kwargs.get("activation_fn") or DEFAULT_ACTIVATION.get(name, ""))
    if activation not in ACTIVATIONS:
        raise UnsupportedPolicy(f"activation {activation!r}")
    if len(observation_space.shape) != 1 or len(action_space.shape) != 1:
        raise UnsupportedPolicy("observations or actions that are not flat vectors")
    try:
        if name in ("ppo", "a2c"):
            hidden, head, squash = _linear_stack(state, "mlp_extractor.policy_net."), \
                (state["action_net.weight"], state["action_net.bias"]), False
        elif name == "sac":
            hidden, head, squash = _linear_stack(state, "actor.latent_pi."), \
                (state["actor.mu.weight"], state["actor.mu.bias"]), True
        else:
            raise UnsupportedPolicy(f"algorithm {name}")
    except KeyError as exc:  # the SB3 path names what is missing
        raise UnsupportedPolicy(f"no tensor {exc}") from None
    shapes = [w.shape for w, _ in [*hidden, head]]
    n_obs, n_act = observation_space.shape[0], action_space.shape[0]
    if shapes[0][1] != n_obs or shapes[-1][0] != n_act or any(a[0] != b[1] for a, b in zip(shapes, shapes[1:])):
        raise ModelFileError(f"policy layers {shapes} do not fit the env's {n_obs} observations and {n_act} actions")
    policy = MlpPolicy([(w.astype(np.float32), b.astype(np.float32)) for w, b in hidden],
                       (head[0].astype(np.float32), head[1].astype(np.float32)), activation, squash,
                       np.asarray(action_space.low, dtype=np.float32), np.asarray(action_space.high, dtype=np.float32))
    if norm is not None:
        if norm["obs_mean"].shape != (n_obs,):
            raise ModelFileError(f"obs_mean has shape {norm['obs_mean'].shape}, env observations have ({n_obs},)")
        policy.obs_mean = norm["obs_mean"].astype(np.float64)
        policy.obs_std = np.sqrt(norm["obs_var"].astype(np.float64) + float(norm["epsilon"]))
        policy.clip_obs = float(norm["clip_obs"])
    return policy


@dataclass
class LoadedMlpPolicy:
    """A policy with its env, shaped like :class:`sportsim.runs.LoadedPolicy` for the export: ``env``,
    ``act(obs, deterministic)``, ``close()``, and ``onnx_model()``."""

    location: Any  # sportsim.runs.ModelLocation
    cfg: Any
    env: Any
    policy: MlpPolicy

    def act(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return self.policy.act(obs, deterministic)

    def onnx_model(self) -> bytes:
        return self.policy.onnx_model()

    def close(self) -> None:
        self.env.close()


def open_policy(location, **env_kwargs: Any) -> LoadedMlpPolicy | None:
    """The located policy with a fresh env (as :func:`sportsim.runs.open_policy`, without torch), or
    None when it is not an MLP policy this module evaluates."""
    from sportsim import builders, runs  # noqa: PLC0415

    cfg = runs.load_config(location.run_dir)
    model_dir = location.model_file.parent
    if location.model_file.name == runs.MODEL_FILE and (model_dir / runs.MANIFEST_FILE).is_file():
        runs.read_manifest(model_dir)
    try:
        state = read_state_dict(location.model_file)
    except UnsupportedPolicy:
        return None
    norm = runs.read_npz(location.norm_file, ("obs_mean", "obs_var", "epsilon", "clip_obs")) \
        if cfg.normalize.obs else None
    env = builders.make_env(cfg.env, **env_kwargs)
    try:
        policy = mlp_policy(cfg, state, env.observation_space, env.action_space, norm)
    except UnsupportedPolicy:
        env.close()
        return None
    except BaseException:
        env.close()
        raise
    return LoadedMlpPolicy(location, cfg, env, policy)
