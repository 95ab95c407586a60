"""The export's torch-free policy (:mod:`sportsim.export.mlp`): the weights it reads equal ``torch.load``'s,
its actions equal SB3's ``predict`` (within float32 rounding) for the zoo walk (PPO, ReLU) and for fresh
SAC and PPO-tanh models, its ONNX graph equals SB3's actions within 1e-5 (ONNX Runtime), and its pickle
reader builds nothing but tensors."""

from __future__ import annotations

import io
import pickle
import zipfile

import gymnasium as gym
import numpy as np
import pytest
from omegaconf import OmegaConf

from sportsim import resolve, runs
from sportsim.export import mlp

ZOO_WALK = "zoo:imitation/walk/ppo"
ACTION_ATOL = 1e-5  # float32 layers, NumPy's summation order against torch's


@pytest.fixture(scope="module")
def zoo_walk():
    ref = resolve.policy(ZOO_WALK)
    fast = mlp.open_policy(ref.location, rsi=False)
    sb3 = runs.open_policy(ref.location, rsi=False)
    yield ref, fast, sb3
    fast.close()
    sb3.close()


def _observations(env, n: int, seed: int = 0) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    out = [obs]
    rng = np.random.default_rng(seed)
    while len(out) < n:
        obs, _, terminated, truncated, _ = env.step(rng.uniform(-1, 1, env.action_space.shape))
        out.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
    return np.array(out, dtype=np.float32)


def test_weights_equal_torch_load(zoo_walk):
    torch = pytest.importorskip("torch")
    ref, _, _ = zoo_walk
    ours = mlp.read_state_dict(ref.location.model_file)
    with zipfile.ZipFile(ref.location.model_file) as z:
        theirs = torch.load(io.BytesIO(z.read("policy.pth")), weights_only=True, map_location="cpu")
    assert list(ours) == list(theirs)
    for name, tensor in theirs.items():
        assert ours[name].dtype == tensor.numpy().dtype and np.array_equal(ours[name], tensor.numpy()), name


def test_zoo_walk_actions_equal_sb3(zoo_walk):
    _, fast, sb3 = zoo_walk
    obs = _observations(fast.env, 64)
    ours = np.stack([fast.act(o) for o in obs])
    theirs = np.stack([sb3.act(o, True) for o in obs])
    assert ours.dtype == theirs.dtype == np.float32
    assert np.abs(ours - theirs).max() < ACTION_ATOL
    assert np.abs(fast.policy.act(obs) - ours).max() < ACTION_ATOL  # a batch gives the rows (BLAS: gemm, not gemv)


def test_zoo_walk_onnx_equals_sb3(zoo_walk):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from sportsim.export.onnx import onnx_actions

    _, fast, sb3 = zoo_walk
    obs = _observations(fast.env, 32, seed=3)
    theirs = np.stack([sb3.act(o, True) for o in obs])
    assert np.abs(onnx_actions(fast.onnx_model(), obs) - theirs).max() < ACTION_ATOL


@pytest.mark.parametrize("algo,kwargs", [("sac", {"net_arch": [32, 16]}),
                                         ("ppo", {"net_arch": [16], "activation_fn": "tanh"})])
def test_fresh_models_equal_sb3(tmp_path, algo, kwargs):
    """SAC's squashed, rescaled actions and PPO with tanh layers, on a box of unequal bounds."""
    import stable_baselines3
    from stable_baselines3.common.vec_env import DummyVecEnv

    from sportsim import builders

    env = gym.make("Pendulum-v1")  # actions in [-2, 2]
    cfg = OmegaConf.create({"algo": {"name": algo, "policy": "MlpPolicy", "policy_kwargs": kwargs}})
    sb3_kwargs = {"policy_kwargs": {**kwargs, **({"activation_fn": builders.ACTIVATIONS["tanh"]}
                                                 if "activation_fn" in kwargs else {})}}
    model = getattr(stable_baselines3, algo.upper())("MlpPolicy", DummyVecEnv([lambda: env]), seed=0, device="cpu",
                                                     **sb3_kwargs)
    model.save(tmp_path / "model.zip")
    rng = np.random.default_rng(0)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2.0, 3)
    norm = {"obs_mean": mean, "obs_var": var, "epsilon": np.float64(1e-8), "clip_obs": np.float64(10.0)}
    policy = mlp.mlp_policy(cfg, mlp.read_state_dict(tmp_path / "model.zip"), env.observation_space,
                            env.action_space, norm)
    obs = _observations(env, 40)
    normalised = np.clip((obs - mean) / np.sqrt(var + 1e-8), -10.0, 10.0)
    theirs = model.predict(normalised, deterministic=True)[0]
    assert np.abs(policy.act(obs) - theirs).max() < ACTION_ATOL
    assert np.abs(theirs).max() > 0.01  # the comparison is not one of zeros


class _Evil:
    def __reduce__(self):
        return (print, ("this must not run",))


def test_reader_builds_nothing_but_tensors(tmp_path, capsys):
    """A policy.pth whose pickle names any other global ends the fast path (UnsupportedPolicy) unrun."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": _Evil()}, protocol=2))
        z.writestr("archive/byteorder", "little")
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("policy.pth", inner.getvalue())
    with pytest.raises(mlp.UnsupportedPolicy, match="print"):
        mlp.read_state_dict(path)
    assert "must not run" not in capsys.readouterr().out


def test_unsupported_configs_fall_back():
    state = {"mlp_extractor.policy_net.0.weight": np.zeros((4, 3), np.float32)}
    space = gym.spaces.Box(-1, 1, (3,))
    for algo in ({"name": "ppo", "policy": "MlpPolicy", "use_sde": True},
                 {"name": "ppo", "policy": "CnnPolicy"},
                 {"name": "ppo", "policy": "MlpPolicy", "policy_kwargs": {"activation_fn": "gelu"}},
                 {"name": "ppo", "policy": "MlpPolicy"}):  # no action_net in the state
        with pytest.raises(mlp.UnsupportedPolicy):
            mlp.mlp_policy(OmegaConf.create({"algo": algo}), state, space, space, None)


def test_a_tensor_cannot_reach_outside_its_storage():
    """A crafted policy.pth naming a tensor larger than its storage (or with negative strides) is refused
    before numpy's unchecked as_strided would read memory past the storage."""
    storage = np.arange(6, dtype=np.float32)
    assert mlp._rebuild_tensor_v2(storage, 0, (2, 3), (3, 1)).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert mlp._rebuild_tensor_v2(storage, 5, (), ()) == 5
    for offset, size, stride in ((0, (4, 3), (3, 1)), (4, (3,), (1,)), (0, (2,), (-1,)), (6, (), ()),
                                 (0, (2, 3), (3,)), (-1, (2,), (1,))):
        with pytest.raises(mlp.UnsupportedPolicy, match="outside its storage"):
            mlp._rebuild_tensor_v2(storage, offset, size, stride)
