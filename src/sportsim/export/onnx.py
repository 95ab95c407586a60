"""A trained policy as ONNX: raw env observations in, the deterministic action out, with the observation
normalisation of training (VecNormalize: ``clip((obs - mean) / sqrt(var + eps), -clip_obs, clip_obs)``)
and SB3's action post-processing (clipping to the action space; SAC's tanh squashing rescaled to it)
baked into the graph. Input ``obs`` (batch, n_obs) float32, output ``action`` (batch, n_act) float32.

The MLP policies sportsim trains (:mod:`sportsim.export.mlp`, read without torch) are written node by node
with ``onnx.helper`` (the ``onnx`` extra; Sub, Div, Clip, Gemm + activation per layer, Max/Min); any
other policy - or any policy without the ``onnx`` package - goes through PyTorch's TorchScript-based
exporter (opset 17). When ONNX Runtime is installed (the ``onnx`` extra) the model is run once on sample
observations and compared with the policy's own actions (SB3's ``predict``, or its NumPy evaluation,
itself tested against SB3's) before the file is kept.
"""

from __future__ import annotations

import importlib.util
import io
import warnings
from pathlib import Path

import numpy as np

from sportsim.errors import ConfigError

OPSET = 17
CHECK_ATOL = 1e-5  # ONNX Runtime's actions vs SB3's, on sample observations


def _torch_module(loaded):
    """A torch module: raw observation -> deterministic action of the loaded policy (``runs.LoadedPolicy``)."""
    import torch  # noqa: PLC0415
    from stable_baselines3.common.policies import ActorCriticPolicy  # noqa: PLC0415
    from stable_baselines3.sac.policies import SACPolicy  # noqa: PLC0415

    model, normalizer = loaded.model, loaded.normalizer
    policy = model.policy
    space = model.action_space
    low = torch.as_tensor(space.low, dtype=torch.float32)
    high = torch.as_tensor(space.high, dtype=torch.float32)
    n_obs = int(np.prod(model.observation_space.shape))
    if normalizer is not None and normalizer.norm_obs:
        mean = torch.as_tensor(normalizer.obs_rms.mean, dtype=torch.float32)
        std = torch.as_tensor(np.sqrt(normalizer.obs_rms.var + normalizer.epsilon), dtype=torch.float32)
        clip = float(normalizer.clip_obs)
    else:
        mean, std, clip = torch.zeros(n_obs), torch.ones(n_obs), float("inf")

    class Exported(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)
            self.register_buffer("low", low)
            self.register_buffer("high", high)

        def forward(self, obs):
            x = torch.clamp((obs - self.mean) / self.std, -clip, clip)
            if isinstance(self.policy, ActorCriticPolicy):
                features = self.policy.extract_features(x, self.policy.pi_features_extractor)
                action = self.policy.action_net(self.policy.mlp_extractor.forward_actor(features))
                if self.policy.squash_output:
                    action = self.low + 0.5 * (torch.tanh(action) + 1.0) * (self.high - self.low)
            elif isinstance(self.policy, SACPolicy):  # tanh-squashed actions in [-1, 1], rescaled to the space
                action = self.policy.actor(x, deterministic=True)
                action = self.low + 0.5 * (action + 1.0) * (self.high - self.low)
            else:
                raise ConfigError(f"ONNX export: {type(self.policy).__name__} policies are not supported")
            return torch.minimum(torch.maximum(action, self.low), self.high)

    return Exported().eval(), n_obs


def onnx_bytes(loaded) -> bytes:
    """The ONNX model of a loaded policy (see the module docstring): an MLP policy read without torch
    (:mod:`sportsim.export.mlp`) builds its graph itself when the ``onnx`` package is installed, an SB3
    policy goes through PyTorch's exporter."""
    if hasattr(loaded, "onnx_model") and importlib.util.find_spec("onnx") is not None:
        return loaded.onnx_model()
    if not hasattr(loaded, "model"):  # an MLP policy and no onnx package: SB3 builds the same network
        from sportsim import runs  # noqa: PLC0415

        sb3 = runs.open_policy(loaded.location)
        try:
            return onnx_bytes(sb3)
        finally:
            sb3.close()
    import torch  # noqa: PLC0415

    module, n_obs = _torch_module(loaded)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, (torch.zeros(1, n_obs),), buffer, dynamo=False, opset_version=OPSET,
                          input_names=["obs"], output_names=["action"],
                          dynamic_axes={"obs": {0: "batch"}, "action": {0: "batch"}})
    return buffer.getvalue()


def sb3_actions(loaded, observations: np.ndarray) -> np.ndarray:
    """The loaded policy's deterministic actions for raw observations (normalised as in training): SB3's,
    or those of its NumPy evaluation (:mod:`sportsim.export.mlp`, equal to SB3's within float32 rounding)."""
    return np.stack([loaded.act(o, True) for o in observations]).astype(np.float32)


def onnx_actions(model: bytes | Path, observations: np.ndarray) -> np.ndarray:
    """Actions of an ONNX policy for raw observations, run by ONNX Runtime."""
    try:
        import onnxruntime as ort  # noqa: PLC0415
    except ImportError:
        raise ConfigError('running an ONNX policy needs onnxruntime: pip install "sportsim[onnx]"') from None
    source = model if isinstance(model, bytes) else str(model)
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return session.run(["action"], {"obs": np.asarray(observations, dtype=np.float32)})[0]


def check(model: bytes, loaded, observations: np.ndarray) -> float | None:
    """Largest |ONNX - policy| action difference on ``observations`` (None without onnxruntime); a
    difference above :data:`CHECK_ATOL` is a ConfigError."""
    try:
        import onnxruntime  # noqa: F401, PLC0415
    except ImportError:
        return None
    diff = float(np.abs(onnx_actions(model, observations) - sb3_actions(loaded, observations)).max())
    if diff > CHECK_ATOL:
        raise ConfigError(f"ONNX export: actions differ from the policy's by {diff:.2e} (> {CHECK_ATOL:g}); not written")
    return diff
