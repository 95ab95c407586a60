"""HalfPipe-v0 API: registration, info keys, time limit, observation content, argument errors (the invariants
shared by every env are in test_env_invariants.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import sportsim  # noqa: F401  (registers the envs)
from sportsim.envs.halfpipe_v0 import HalfPipeEnv
from sportsim.errors import ConfigError

ENV_ID = "sportsim/HalfPipe-v0"
def test_registered():
    assert isinstance(gym.make(ENV_ID).unwrapped, HalfPipeEnv)


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
