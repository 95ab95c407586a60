"""``engine=pybullet``: Imitation on PyBullet is a valid, deterministic gymnasium env with the same
observation, reward and metrics code; ``python -m sportsim.train env=imitation engine=pybullet`` trains
(tiny budget) and ``enjoy`` says which engine ran; what PyBullet cannot do is one line."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from helpers import run_module

import sportsim  # noqa: F401 - registers the envs
from sportsim import runs
from sportsim.errors import ConfigError

pytest.importorskip("pybullet", reason="the pybullet extra is not installed")

ENV_ID = "sportsim/Imitation-v1"
TINY = ["algo=ppo", "n_envs=1", "progress_bar=false", "total_timesteps=128", "algo.n_steps=64", "algo.batch_size=32",
        "algo.n_epochs=1", "algo.policy_kwargs.net_arch=[16,16]", "eval_freq=64", "n_eval_episodes=1",
        "checkpoint_freq=1000", "env.kwargs.episode_time_s=1.0"]


def _rollout(env: gym.Env, seed: int, steps: int = 12) -> tuple[np.ndarray, list[float]]:
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    observations, rewards = [obs], []
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        terms = sum(v for k, v in info.items() if k.startswith("reward_"))
        assert reward == pytest.approx(terms, abs=1e-9)
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            obs, _ = env.reset()
    return np.array(observations), rewards


def test_imitation_on_pybullet_is_a_valid_deterministic_env():
    env = gym.make(ENV_ID, engine="pybullet", episode_time_s=1.0)
    try:
        assert env.unwrapped.engine.name == "pybullet"
        check_env(env.unwrapped, skip_render_check=True)
        first, rewards = _rollout(env, seed=5)
        again, rewards_again = _rollout(env, seed=5)
        assert np.array_equal(first, again) and rewards == rewards_again
        assert np.isfinite(first).all()
    finally:
        env.close()


def test_pybullet_needs_its_extra(monkeypatch):
    from sportsim.sim import bullet

    monkeypatch.setattr(bullet, "_pb", None)
    with pytest.raises(ConfigError, match=r'pip install "sportsim\[pybullet\]"'):
        gym.make(ENV_ID, engine="pybullet")


def test_train_and_enjoy_on_pybullet(tmp_path):
    result = run_module("sportsim.train", "env=imitation", "engine=pybullet", *TINY, cwd=tmp_path, timeout_s=300)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "runs" / "imitation" / "ppo").iterdir()
    assert runs.load_config(run_dir).env.kwargs.engine == "pybullet"
    result = run_module("sportsim.enjoy", f"model={run_dir}", "episodes=1", cwd=tmp_path, timeout_s=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["engine"] == "pybullet"


def test_export_rolls_out_in_pybullet(tmp_path):
    from sportsim.export import export

    done = export("zoo:imitation/walk/ppo", [tmp_path / "walk.csv"], engine="pybullet", episode_time_s=1.0)
    assert any(note.startswith("engine: pybullet") for note in done.notes)
    assert any(note.startswith("ground reaction forces") for note in done.notes)  # PyBullet's contacts
    header = (tmp_path / "walk.csv").read_text().splitlines()[0].split(",")
    assert "right_knee_deg" in header and "ground_force_r_vz_n" in header
