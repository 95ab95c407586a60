"""Invariants every sportsim env must keep, run over each registered env id and a few variants:
Gymnasium's checker, a rendered image, determinism under a seed, finite observations and rewards
under random, bang-bang and extreme (out-of-range, NaN) actions, and reward terms summing to the reward.
Env-specific behaviour is tested next to each env (tests/test_<env>.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sportsim  # noqa: F401  (registers the envs)
from sportsim.envs import ENV_SPECS

# (env id, constructor kwargs): defaults plus variants that change geometry, body size and surfaces.
CASES = [
    ("sportsim/HalfPipe-v0", {}),
    ("sportsim/HalfPipe-v0", {"pipe": "vert"}),
    ("sportsim/HalfPipe-v0", {"pipe": "superpipe", "surface": "snowboard"}),
    ("sportsim/HalfPipe-v0", {"surface": "snowboard", "rider_mass_kg": 55.0, "rider_height_m": 1.6,
                              "rider_sex": "female"}),
    ("sportsim/HalfPipe-v1", {}),
    ("sportsim/HalfPipe-v1", {"pipe": "vert", "surface": "snowboard", "rider_mass_kg": 55.0, "rider_height_m": 1.6,
                              "rider_sex": "female", "rider_inertia_kgm2": 7.0}),
    ("sportsim/HalfPipe-v2", {}),
    ("sportsim/HalfPipe-v2", {"pipe": "vert", "surface": "snowboard", "rider_mass_kg": 55.0, "rider_height_m": 1.6,
                              "rider_sex": "female", "along_pipe_speed_mps": 10.0}),
    ("sportsim/HighBar-v0", {"task": "handstand"}),
    ("sportsim/HighBar-v0", {"task": "giant"}),
    ("sportsim/HighBar-v0", {"task": "handstand", "gymnast_mass_kg": 55.0, "gymnast_height_m": 1.6,
                             "gymnast_sex": "female", "bar_stiffness_x_npm": 2.2e4, "bar_stiffness_z_npm": 8.8e4,
                             "grip_friction": 0.0}),
    ("sportsim/HighBar-v0", {"task": "giant", "bar_damping_ratio": 0.0, "grip_friction": 0.6, "control_hz": 25}),
    ("sportsim/HighBar-v1", {"task": "giant"}),
    ("sportsim/HighBar-v1", {"task": "handstand", "gymnast_mass_kg": 55.0, "gymnast_height_m": 1.6,
                             "gymnast_sex": "female", "grip_friction": 0.0, "grip_moment_nm": 0.0}),
    ("sportsim/HighBar-v1", {"task": "handstand_hold", "bar_damping_ratio": 0.0, "control_hz": 25}),
    ("sportsim/Imitation-v0", {}),
    ("sportsim/Imitation-v0", {"action_mode": "absolute", "humanoid_height_m": 1.6, "humanoid_sex": "female"}),
    ("sportsim/Imitation-v0", {"motion": ["mocap/cmu_02_01_walk.bvh", "mocap/cmu_01_01_forward_jumps.bvh"],
                               "loop": False}),
    ("sportsim/Imitation-v1", {}),
    ("sportsim/Imitation-v1", {"action_mode": "absolute", "humanoid_height_m": 1.6, "humanoid_sex": "female",
                               "kinetics": True}),
    ("sportsim/Imitation-v1", {"task": "jump"}),
    ("sportsim/Imitation-v1", {"motion": ["mocap/cmu_02_01_walk.bvh", "mocap/cmu_01_01_forward_jumps.bvh"],
                               "clip_weights": "length", "rsi": False}),  # several clips; frame 0: in turn
    ("sportsim/Imitation-v1", {"task": "jump", "kinetics": True, "physics_dt_s": 1 / 240}),
    ("sportsim/Imitation-v7", {"motion": ["mocap/cmu_02_01_walk.bvh", "mocap/cmu_01_01_forward_jumps.bvh"],
                               "clip_weights": "adaptive", "phase_weights": "adaptive", "rsi": True}),  # draws follow training
    ("sportsim/Imitation-v2", {}),
    ("sportsim/Imitation-v2", {"task": "jump", "kinetics": True}),
    ("sportsim/Imitation-v3", {}),
    ("sportsim/Imitation-v4", {}),
    ("sportsim/Imitation-v5", {}),
    ("sportsim/Imitation-v5", {"task": "kick", "kinetics": True}),  # the contact term through stands and a spin
    ("sportsim/Imitation-v6", {}),
    ("sportsim/Imitation-v6", {"task": "run", "action_mode": "absolute", "kinetics": True}),  # damping about v_ref
    ("sportsim/Imitation-v7", {}),
    ("sportsim/Imitation-v7", {"task": "kick", "strength_profile": "athlete", "physics_dt_s": 1 / 240}),  # cap at h
    ("sportsim/Imitation-v8", {}),
    ("sportsim/Imitation-v8", {"task": "run", "strength_profile": "runner", "kinetics": True}),  # the runner's hips
    ("sportsim/Imitation-v9", {}),
    ("sportsim/Imitation-v10", {"kinetics": True}),  # kinetics read the lagged servos' torque
]
IDS = [f"{env_id.split('/')[1]}-{i}" for i, (env_id, _) in enumerate(CASES)]


def test_every_registered_env_is_covered():
    assert {env_id for env_id, _ in CASES} == set(ENV_SPECS)


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=IDS)
def test_passes_gymnasium_checker(env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", sorted(ENV_SPECS))
def test_render_returns_an_image(env_id):
    env = gym.make(env_id, render_mode="rgb_array", render_width=320, render_height=180)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
    assert frame.std() > 10  # not a blank image
    env.close()


def _rollout(env_id: str, kwargs: dict, seed: int, actions: np.ndarray) -> np.ndarray:
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        out.append(np.append(obs, reward))
        if terminated or truncated:
            break
    env.close()
    return np.concatenate(out)


@pytest.mark.parametrize(("env_id", "kwargs"), CASES[::2], ids=IDS[::2])
def test_deterministic_under_a_seed(env_id, kwargs):
    shape = gym.make(env_id, **kwargs).action_space.shape
    actions = np.random.default_rng(0).uniform(-1, 1, size=(300, *shape)).astype(np.float32)
    first = _rollout(env_id, kwargs, 7, actions)
    np.testing.assert_array_equal(first, _rollout(env_id, kwargs, 7, actions))
    n_obs = gym.make(env_id, **kwargs).observation_space.shape[0]
    other = _rollout(env_id, kwargs, 8, actions)
    assert not np.array_equal(first[:n_obs], other[:n_obs]), "different seeds must give different starts"


def _action(policy: str, t: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    if policy == "random":
        return rng.uniform(-1, 1, size=dims)
    if policy == "bang_bang":  # +-1 held for 20 steps, neighbouring action dimensions in opposition
        s = 1.0 if (t // 20) % 2 else -1.0
        return np.array([s if i % 2 == 0 else -s for i in range(dims)])
    # extreme: out of range, flipping every step, with a NaN every other step
    a = np.full(dims, 5.0 if t % 2 else -5.0)
    if t % 2 == 0:
        a[-1] = np.nan
    return a


@pytest.mark.parametrize(("env_id", "kwargs"), CASES, ids=IDS)
@pytest.mark.parametrize("policy", ["random", "bang_bang", "extreme"])
def test_never_emits_nan_and_reward_terms_sum(env_id, kwargs, policy):
    env = gym.make(env_id, **kwargs)
    env.reset(seed=3)
    rng = np.random.default_rng(3)
    dims = env.action_space.shape[0]
    for t in range(400):
        obs, reward, terminated, truncated, info = env.step(_action(policy, t, dims, rng).astype(np.float32))
        assert np.all(np.isfinite(obs)) and np.isfinite(reward)
        assert env.observation_space.contains(obs)
        terms = sum(v for k, v in info.items() if k.startswith("reward_"))
        assert reward == pytest.approx(terms, abs=1e-9)
        assert not info.get("physics_error", False)
        if terminated or truncated:
            env.reset()
    env.close()
