"""CLI tests of ``python -m sportsim.train`` and ``python -m sportsim.record`` with tiny budgets:
every run-directory artifact, resume, checkpoint integrity under signals, and the recorded video."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
import torch
from helpers import EPISODE_STEPS, TRAIN_ENVS, cli_env, module_command, run_module, tiny_overrides
from omegaconf import OmegaConf
from stable_baselines3.common import save_util
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from sportsim import builders, record, runs, train
from sportsim.errors import ConfigError, ModelFileError

# the fake env's runs are read back in this process too: its env config (tests/configs) vouches for its id
pytestmark = pytest.mark.usefixtures("test_configs")


@dataclass(frozen=True)
class SmokeRun:
    env: str
    run_dir: Path
    stdout: str


@pytest.fixture(scope="module", params=TRAIN_ENVS)
def ppo_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SmokeRun:
    """One tiny PPO run per env with the default run-directory naming, shared by the tests below."""
    workdir = tmp_path_factory.mktemp(f"smoke-{request.param}")
    result = run_module(
        "sportsim.train", *tiny_overrides(request.param, "ppo"), "seed=3", "total_timesteps=256",
        "eval_freq=128", "n_eval_episodes=2", "checkpoint_freq=64", "keep_checkpoints=2", cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    (run_dir,) = (workdir / "runs" / request.param / "ppo").iterdir()
    return SmokeRun(request.param, run_dir, result.stdout)


def reward_terms(run_dir: Path) -> set[str]:
    """The env's reward terms, read from the ``reward_<term>`` keys of one step's info."""
    env = builders.make_env(runs.load_config(run_dir).env)
    env.reset(seed=0)
    info = env.step(env.action_space.sample())[-1]
    env.close()
    return {key.removeprefix("reward_") for key in info if key.startswith("reward_")}


def event_steps(path: Path) -> list[int]:
    """Steps of the scalar summaries in one TensorBoard event file, in file order (not the HParams
    plugin's session summaries, which TensorBoard stores without a step)."""
    return [event.step for event in EventFileLoader(str(path)).Load()
            if event.summary.value and not event.summary.value[0].tag.startswith("_hparams_/")]


def test_smoke_run_writes_every_artifact(ppo_run: SmokeRun) -> None:
    run = ppo_run.run_dir
    assert re.fullmatch(r"\d{8}-\d{6}_seed3", run.name)
    assert f"sportsim: run directory {run}" in ppo_run.stdout
    assert f"tensorboard --logdir {run / 'tb'}" in ppo_run.stdout

    cfg = OmegaConf.load(run / "config.yaml")  # fully resolved
    assert (cfg.env.name, cfg.algo.name, cfg.seed, cfg.total_timesteps) == (ppo_run.env, "ppo", 3, 256)
    assert cfg.run_dir == str(run) and cfg.algo.n_steps == 64 and cfg.resume is None

    tb = EventAccumulator(str(run / "tb"))
    tb.Reload()
    tags = set(tb.Tags()["scalars"])
    terms = reward_terms(run)
    assert terms, "env info carries no reward_<term> keys"
    assert {f"reward/{term}" for term in terms} <= tags
    assert {"rollout/success_rate", "rollout/ep_rew_mean", "eval/mean_reward", "train/loss"} <= tags

    checkpoints = runs.complete_checkpoints(run)
    assert [p.name for p in checkpoints] == ["step_000000000192", "step_000000000256"]  # keep_checkpoints=2
    for directory in checkpoints:
        manifest = runs.read_manifest(directory)  # sizes and SHA-256 match
        assert set(manifest["files"]) == {"model.zip", "vecnormalize.npz", "evaluations.npz"}
        history = runs.read_npz(directory / "evaluations.npz", ("timesteps",))["timesteps"]
        assert history.tolist() == [t for t in (128, 256) if t <= manifest["num_timesteps"]]
    final = runs.read_manifest(run / "final")
    assert set(final["files"]) == {"model.zip", "vecnormalize.npz"} and final["num_timesteps"] == 256
    walls = [runs.read_manifest(d)["extra"]["train_wall_s"] for d in checkpoints]
    assert 0 < walls[0] < walls[1] <= final["extra"]["train_wall_s"]  # training time, recorded as it grows
    best = runs.read_manifest(run / "best")
    assert isinstance(best["extra"]["mean_reward"], float)

    with np.load(run / "evaluations.npz", allow_pickle=False) as evaluations:
        assert evaluations["timesteps"].tolist() == [128, 256]
        assert evaluations["results"].shape == (2, 2)
        assert best["extra"]["mean_reward"] == pytest.approx(evaluations["results"].mean(axis=1).max())
    with np.load(run / "final" / "vecnormalize.npz", allow_pickle=False) as stats:
        obs_shape = builders.make_env(cfg.env).observation_space.shape
        assert stats["obs_mean"].shape == stats["obs_var"].shape == obs_shape
        assert float(stats["obs_count"]) > 256 and float(stats["clip_obs"]) == 10.0 and float(stats["epsilon"]) > 0


def test_policy_loads_through_set_parameters_without_unpickling(
    ppo_run: SmokeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("loading a policy must not unpickle the model's data")

    monkeypatch.setattr(save_util, "json_to_data", refuse)
    monkeypatch.setattr(BaseAlgorithm, "load", refuse)
    location = runs.locate_model(ppo_run.run_dir, "final")
    cfg = runs.load_config(location.run_dir)
    venv = VecNormalize(DummyVecEnv([lambda: builders.make_env(cfg.env)]), training=False)
    runs.load_norm_stats(location.norm_file, venv)
    model = runs.load_model(location, venv, cfg)
    with zipfile.ZipFile(location.model_file) as archive, archive.open("policy.pth") as saved:
        expected = torch.load(saved, weights_only=True)
    for name, tensor in model.policy.state_dict().items():
        assert torch.equal(tensor, expected[name]), name
    action, _ = model.predict(venv.reset(), deterministic=True)
    assert action.shape == (1, *venv.action_space.shape)
    venv.close()


def test_record_writes_an_mp4_of_the_episodes(ppo_run: SmokeRun, tmp_path: Path) -> None:
    out = tmp_path / "video.mp4"
    result = run_module("sportsim.record", str(ppo_run.run_dir), "episodes=2", f"out={out}", "deterministic=true",
                        "panel=false", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reported = re.search(rf"sportsim: wrote {re.escape(str(out))} \((\d+) frames, (\d+)x(\d+) px", result.stdout)
    assert reported, result.stdout
    frames, width_px, height_px = (int(group) for group in reported.groups())
    assert 2 * 2 <= frames <= 2 * (EPISODE_STEPS + 1)  # per episode: the reset frame + one per step
    if ppo_run.env == "fake":  # never terminates early: both episodes run into the time limit
        assert frames == 2 * (EPISODE_STEPS + 1)
    env = builders.make_env(runs.load_config(ppo_run.run_dir).env, render_mode="rgb_array")
    env.reset(seed=0)
    assert env.render().shape[:2] == (height_px, width_px)
    fps = env.metadata["render_fps"]
    env.close()
    with imageio.get_reader(out) as reader:
        meta = reader.get_meta_data()
        assert reader.count_frames() == frames
        assert meta["size"] == (width_px, height_px) and meta["fps"] == pytest.approx(fps)


def test_record_never_overwrites(ppo_run: SmokeRun) -> None:
    first = record.record(ppo_run.run_dir, model="best", max_steps=2).path
    second = record.record(ppo_run.run_dir, model="best", max_steps=2).path
    assert first == ppo_run.run_dir / "videos" / "best.mp4" and second == first.with_name("best-1.mp4")
    before = first.read_bytes()
    with pytest.raises(ConfigError, match=f"out: {re.escape(str(first))} already exists"):
        record.record(ppo_run.run_dir, out=first)
    assert first.read_bytes() == before


def test_truncated_checkpoint_is_a_model_file_error(ppo_run: SmokeRun, tmp_path: Path) -> None:
    run = Path(shutil.copytree(ppo_run.run_dir, tmp_path / "run"))
    latest = runs.latest_checkpoint(run)
    model_file = latest / "model.zip"
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=f"{re.escape(str(model_file))} is truncated or altered"):
        runs.read_manifest(latest)
    lonely = run / "truncated.zip"  # a bare .zip (no manifest) fails when the zip itself is read
    shutil.copyfile(model_file, lonely)
    location = runs.locate_model(lonely)
    cfg = runs.load_config(run)
    venv = DummyVecEnv([lambda: builders.make_env(cfg.env)])
    with pytest.raises(ModelFileError, match=f"{re.escape(str(lonely))} is (not a readable SB3|truncated)"):
        runs.load_model(location, venv, cfg)
    venv.close()


def test_resume_falls_back_to_the_newest_valid_checkpoint(ppo_run: SmokeRun, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = Path(shutil.copytree(ppo_run.run_dir, tmp_path / "run"))
    older, newest = runs.complete_checkpoints(run)[-2:]
    model_file = newest / "model.zip"
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    older_steps = runs.read_manifest(older)["num_timesteps"]
    assert train.main([f"resume={run}", "total_timesteps=512", "verbose=0"]) == 0
    out = capsys.readouterr().out
    assert f"skipped a corrupt checkpoint: {model_file} is truncated or altered" in out
    assert f"from {older.name} ({older_steps} steps)" in out
    assert runs.read_manifest(run / "final")["num_timesteps"] == 512
    for checkpoint in runs.complete_checkpoints(run):  # none valid: one clear error
        (checkpoint / "model.zip").write_bytes(b"")
    with pytest.raises(ModelFileError, match="holds no complete, valid checkpoint"):
        train.main([f"resume={run}", "total_timesteps=1024"])


@pytest.mark.parametrize("env", TRAIN_ENVS)
def test_resume_continues_steps_tensorboard_and_replay_buffer(env: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    common = ["checkpoint_freq=100", "eval_freq=100", "n_eval_episodes=2", "verbose=0"]
    first = run_module("sportsim.train", *tiny_overrides(env, "sac"), *common, "total_timesteps=200",
                       f"run_dir={run}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    first_manifest = runs.read_manifest(runs.latest_checkpoint(run))
    assert first_manifest["num_timesteps"] == 200
    # A save killed half-way leaves a newer directory without a manifest: resume must skip and remove it.
    torn = runs.checkpoint_dir(run, 999)
    torn.mkdir()
    (torn / "model.zip").write_bytes(b"PK\x03\x04 torn")
    assert runs.latest_checkpoint(run).name == "step_000000000200"

    second = run_module("sportsim.train", f"resume={run}", "total_timesteps=400", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert f"removed incomplete {torn}" in second.stdout and not torn.exists()
    assert "from step_000000000200 (200 steps)" in second.stdout
    latest = runs.latest_checkpoint(run)
    manifest = runs.read_manifest(latest)
    assert latest.name == "step_000000000400" and manifest["num_timesteps"] == 400
    assert manifest["extra"]["train_wall_s"] > first_manifest["extra"]["train_wall_s"]  # the clock carries on
    replay = runs.read_npz(latest / "replay_buffer.npz", ("observations",))
    assert int(replay["pos"]) == 400 and len(replay["observations"]) == 400  # 200 restored + 200 new
    assert OmegaConf.load(run / "config.yaml").total_timesteps == 400
    with np.load(run / "evaluations.npz", allow_pickle=False) as evaluations:
        assert evaluations["timesteps"].tolist() == [100, 200, 300, 400]

    entries = list((run / "tb").iterdir())
    assert all(p.is_file() for p in entries), "SB3 must log into tb/ itself, not a new sub-folder"
    first_file, second_file = sorted(entries, key=lambda p: p.stat().st_mtime)
    assert max(event_steps(first_file)) <= 200 < min(event_steps(second_file))
    assert max(event_steps(second_file)) == 400


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_signal_mid_run_leaves_a_complete_resumable_checkpoint(sig: signal.Signals, tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = [*tiny_overrides("fake", "ppo"), "total_timesteps=100000000", "checkpoint_freq=64", "keep_checkpoints=2",
            "eval_freq=0", "verbose=0", f"run_dir={run}"]
    proc = subprocess.Popen(module_command("sportsim.train", *args), cwd=tmp_path, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(runs.complete_checkpoints(run)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoints within 60 s"
        time.sleep(0.05)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)

    manifest = runs.read_manifest(runs.latest_checkpoint(run))  # complete and intact, whatever was cut off
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "Traceback" not in stderr
        assert "SIGINT received" in stderr and f"python -m sportsim.train resume={run}" in stderr
        assert f"checkpoint {runs.checkpoint_dir(run, manifest['num_timesteps'])}" in stderr
        assert not (run / "final").exists()
        return  # resuming from that checkpoint is the same path as after SIGKILL, below
    assert proc.returncode == -signal.SIGKILL
    target = manifest["num_timesteps"] + 128
    resumed = run_module("sportsim.train", f"resume={run}", f"total_timesteps={target}", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert runs.read_manifest(run / "final")["num_timesteps"] == target
