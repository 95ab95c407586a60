"""Helpers shared by the training-machinery tests: which envs to run against, tiny budgets, and
running ``python -m sportsim.*`` in a subprocess that sees the test configs and the fake env; and stepping
two env versions side by side (:func:`paired_steps`)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sportsim import paths
from sportsim.config import CONFIG_PATH_ENV

TESTS_DIR = Path(__file__).resolve().parent
TEST_CONFIG_DIR = TESTS_DIR / "configs"  # env/fake.yaml (tests/fake_env.py), hparams/fake_ppo.yaml
EPISODE_STEPS = 20


def env_available(name: str) -> bool:
    """A sportsim env is testable once configs/env/<name>.yaml and its module exist."""
    return (paths.config_dir() / "env" / f"{name}.yaml").is_file() and (
        importlib.util.find_spec(f"sportsim.envs.{name}") is not None
    )


# The training tests run against each of these; the machinery must not depend on which env it drives.
TRAIN_ENVS = [
    "fake",
    pytest.param("halfpipe", marks=pytest.mark.skipif(not env_available("halfpipe"), reason="no HalfPipe-v0 yet")),
]

# Overrides that make any env and algorithm train in seconds: short episodes, small networks and batches.
TINY_ALGO = {
    "ppo": ["algo.n_steps=64", "algo.batch_size=32", "algo.n_epochs=2", "algo.policy_kwargs.net_arch=[16,16]"],
    "a2c": ["algo.n_steps=8", "algo.policy_kwargs.net_arch=[16,16]"],
    "sac": ["algo.buffer_size=5000", "algo.learning_starts=50", "algo.batch_size=32",
            "algo.policy_kwargs.net_arch=[16,16]"],
}


def tiny_overrides(env: str, algo: str) -> list[str]:
    """One env copy (tuned hparams files may ask for more), short episodes, no progress bar."""
    return [f"env={env}", f"algo={algo}", "n_envs=1", "progress_bar=false",
            f"++env.kwargs.max_episode_steps={EPISODE_STEPS}", *TINY_ALGO[algo]]


def cli_env() -> dict[str, str]:
    """Environment for `python -m sportsim.*` subprocesses: test configs, and tests/ importable (fake_env)."""
    env = dict(os.environ)
    env[CONFIG_PATH_ENV] = str(TEST_CONFIG_DIR)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p)
    return env


def module_command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def run_module(module: str, *args: str, cwd: Path, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> <args>`` in ``cwd`` and capture its output."""
    return subprocess.run(module_command(module, *args), cwd=cwd, env=cli_env(), capture_output=True, text=True,
                          timeout=timeout_s, check=False)


def video_test_data() -> Path:
    """The folder of third-party test videos (``../shared/video`` beside the repository; sources and
    licences in tests/data/video/SOURCES.md), after skipping the calling test module - saying why - when
    the video extra is missing or unusable or the videos are not there."""
    pytest.importorskip("mediapipe", reason="the video extra is not installed: pip install \"sportsim[video]\"")
    pytest.importorskip("cv2", reason="the video extra is not installed: pip install \"sportsim[video]\"")
    if int(__import__("google.protobuf").protobuf.__version__.split(".")[0]) >= 5:  # pip never resolves this
        pytest.skip("the video extra is unusable: another package upgraded protobuf past the <5 that mediapipe "
                    "0.10.14 needs (pip install \"protobuf>=4.25.3,<5\")", allow_module_level=True)
    data = TESTS_DIR.parents[1] / "shared" / "video"
    if not (data / "mediapipe_dance.mp4").is_file():
        pytest.skip(f"the third-party test videos are not in {data} (../shared/video beside the repository; "
                    "tests/data/video/SOURCES.md lists them)", allow_module_level=True)
    return data


def paired_steps(env_a, env_b, seed: int, steps: int, scale: float = 0.3):
    """Step two envs (reset by the caller) with the same random actions, uniform in +-``scale``; yields both
    step results ``(obs, reward, terminated, truncated, info)`` and stops after either terminates - how a
    test compares two versions of an env step by step."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        action = rng.uniform(-scale, scale, env_a.action_space.shape).astype(np.float32)
        a, b = env_a.step(action), env_b.step(action)
        yield a, b
        if a[2] or b[2]:
            return
