"""A plain (non-editable) install, used from another directory, finds its models, configs and zoo."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
                   check=True, capture_output=True, text=True, timeout=300)
    (built,) = out.glob("sportsim-*.whl")
    return built


def test_wheel_carries_models_configs_and_zoo(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("sportsim/_resources/envs/halfpipe.xml", "sportsim/_resources/configs/train.yaml",
                     "sportsim/_resources/configs/env/halfpipe.yaml", "sportsim/_resources/configs/algo/ppo.yaml",
                     "sportsim/_resources/zoo/halfpipe/ppo/final/model.zip", "sportsim/envs/halfpipe.py"):
        assert required in names, required


def test_installed_package_works_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import gymnasium as gym, sportsim\n"
        "from sportsim import paths\n"
        "from sportsim.config import compose_train_config\n"
        "env = gym.make('sportsim/HalfPipe-v0'); env.reset(seed=0); env.step(env.action_space.sample())\n"
        "cfg = compose_train_config(['env=halfpipe', 'algo=sac'])\n"
        "print(paths.resource_dir('envs')); print(paths.zoo_dir()); print(cfg.algo.name, cfg.n_envs)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    envs_dir, zoo_dir, algo = result.stdout.splitlines()
    assert Path(envs_dir) == site / "sportsim" / "_resources" / "envs"
    assert Path(zoo_dir) == site / "sportsim" / "_resources" / "zoo"
    assert algo == "sac 1"  # the tuned hparams file was found and merged


def test_readme_commands_work_from_an_empty_directory_after_a_wheel_install(wheel: Path, tmp_path: Path) -> None:
    """The README's commands, run as a new user would after `pip install .`: from an empty directory,
    naming zoo entries and shipped clips; every output lands in that directory, none in the package."""
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MUJOCO_GL": "egl"}
    before = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    commands = [
        ("sportsim.enjoy", "env=halfpipe", "algo=ppo", "episodes=1"),
        ("sportsim.enjoy", "model=zoo:halfpipe/ppo", "episodes=1", "env.kwargs.pipe=vert"),
        ("sportsim.record", "zoo/halfpipe/ppo", "max_steps=5", "panel=false"),
        ("sportsim.replay", "mocap=mocap/cmu_02_01_walk.bvh", "seconds=0.2", "width=64", "height=64"),
        ("sportsim.train", "env=halfpipe", "total_timesteps=64", "algo.n_steps=64", "algo.batch_size=64",
         "algo.n_epochs=1", "n_envs=1", "eval_freq=0", "progress_bar=false"),
    ]
    for module, *args in commands:
        result = subprocess.run([sys.executable, "-m", module, *args], cwd=empty, env=env, capture_output=True,
                                text=True, timeout=300, check=False)
        assert result.returncode == 0, f"{module} {' '.join(args)}: {result.stderr}"
    assert (empty / "videos" / "halfpipe_ppo.mp4").stat().st_size > 1000
    assert (empty / "cmu_02_01_walk-replay.mp4").stat().st_size > 1000
    assert len(list((empty / "runs" / "halfpipe" / "ppo").glob("*/final/model.zip"))) == 1
    after = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert after == before, "a command wrote into the installed package"
