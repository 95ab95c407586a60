"""HalfPipe-v0 API invariants: Gymnasium checker, determinism, finiteness, reward bookkeeping, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sportsim  # noqa: F401  (registers the envs)
from sportsim.envs.halfpipe import HalfPipeEnv
from sportsim.errors import ConfigError

ENV_ID = "sportsim/HalfPipe-v0"
VARIANTS = [
    {},
    {"pipe": "vert"},
    {"pipe": "superpipe", "surface": "snowboard"},
    {"pipe": "mini", "surface": "snowboard", "rider_mass_kg": 55.0, "rider_height_m": 1.6, "rider_sex": "female"},
]


def test_registered_and_passes_gymnasium_checker():
    env = gym.make(ENV_ID)
    assert isinstance(env.unwrapped, HalfPipeEnv)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_render_returns_an_image():
    env = gym.make(ENV_ID, render_mode="rgb_array", render_width=320, render_height=180)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8
    assert frame.std() > 10  # not a blank image
    env.close()


def _rollout(env, seed: int, actions: np.ndarray):
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append(np.append(obs, reward))
        if terminated or truncated:
            break
    return np.concatenate(out)


def test_deterministic_under_a_seed():
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(300, 1)).astype(np.float32)
    first = _rollout(gym.make(ENV_ID), 7, actions)
    second = _rollout(gym.make(ENV_ID), 7, actions)
    np.testing.assert_array_equal(first, second)
    other = _rollout(gym.make(ENV_ID), 8, actions)
    assert not np.array_equal(first[:12], other[:12]), "different seeds must give different starts"


@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("policy", ["random", "bang_bang", "chatter"])
def test_never_emits_nan_and_reward_terms_sum(kwargs, policy):
    env = gym.make(ENV_ID, **kwargs)
    obs, info = env.reset(seed=3)
    rng = np.random.default_rng(3)
    for t in range(500):
        if policy == "random":
            a = rng.uniform(-1, 1, size=1)
        elif policy == "bang_bang":  # +-1 held for about a second
            a = np.array([1.0 if (t // 25) % 2 else -1.0])
        else:  # extreme actions flipping every step, and out of range
            a = np.array([5.0 if t % 2 else -5.0])
        obs, reward, terminated, truncated, info = env.step(a.astype(np.float32))
        assert np.all(np.isfinite(obs)) and np.isfinite(reward)
        assert env.observation_space.contains(obs)
        terms = sum(v for k, v in info.items() if k.startswith("reward_"))
        assert reward == pytest.approx(terms, abs=1e-9)
        assert not info.get("physics_error", False)
        if terminated or truncated:
            obs, info = env.reset()
    env.close()


def test_info_reports_success_fall_and_heights():
    env = gym.make(ENV_ID)
    _, info = env.reset(seed=0)
    for key in ("is_success", "fall", "board_height_m", "max_board_height_m", "coping_height_m",
                "reward_progress", "reward_effort", "reward_success", "reward_fall"):
        assert key in info
    assert info["coping_height_m"] == pytest.approx(1.22)


def test_episode_truncates_at_the_time_limit():
    env = gym.make(ENV_ID, episode_time_s=2.0)
    env.reset(seed=0)
    steps = 0
    truncated = terminated = False
    while not (truncated or terminated):
        _, _, terminated, truncated, _ = env.step(np.zeros(1, dtype=np.float32))
        steps += 1
    assert truncated and steps == 50  # 2 s at 25 Hz


def test_observation_elements_are_not_constant():
    """dm_control invariant: every observation element carries information somewhere."""
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=1)
    rng = np.random.default_rng(1)
    rows = [obs]
    for _ in range(400):
        obs, _, term, trunc, _ = env.step(rng.uniform(-1, 1, size=1).astype(np.float32))
        rows.append(obs)
        if term or trunc:
            obs, _ = env.reset()
    assert np.all(np.ptp(np.array(rows), axis=0) > 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pipe": "bowl"}, "unknown pipe 'bowl' (choose from: mini, vert, superpipe)"),
        ({"surface": "ice"}, "unknown surface 'ice'"),
        ({"terminate_on_success": False}, "needs a vertical lip"),
        ({"control_hz": 33.0}, "not a multiple"),
        ({"stroke_m": 2.0}, "stroke_m=2.0"),
        ({"transition_radius_m": -1.0}, "invalid pipe"),
        ({"start_energy_frac": (0.5, 0.1)}, "start_energy_frac"),
        ({"episode_time_s": 0.0}, "must all be > 0"),
        ({"bail_load_bw": -1.0}, "bail_load_bw=-1.0"),
        ({"along_pipe_speed_mps": -3.0}, "along_pipe_speed_mps=-3.0"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HalfPipeEnv(**kwargs)
