"""CLI tests of ``python -m sportsim.train`` and ``python -m sportsim.record`` with tiny budgets:
every run-directory artifact, resume, checkpoint integrity under signals, and the recorded video."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
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


# --- issue 18: no lost work, trust, console, Hydra ------------------------------------------------

def test_same_second_runs_get_their_own_directories_and_a_locked_run_is_refused(tmp_path: Path) -> None:
    cfg = OmegaConf.create({"runs_root": str(tmp_path), "run_dir": None, "seed": 0,
                            "env": {"name": "fake"}, "algo": {"name": "ppo"}})
    first, lock = runs.create_run_dir(cfg)
    second, other = runs.create_run_dir(cfg)  # the same second, the same seed: a suffix, never shared
    assert first != second and second.name in (f"{first.name}-1", second.name) and len({first, second}) == 2
    with pytest.raises(ConfigError, match=f"run directory {re.escape(str(first))} is in use by process"):
        runs.RunLock(first)
    lock.release()
    runs.RunLock(first).release()  # free again once its holder is done (or dead: the kernel drops flocks)
    other.release()


def test_a_run_cannot_be_resumed_twice_at_once(ppo_run: SmokeRun, tmp_path: Path) -> None:
    run = Path(shutil.copytree(ppo_run.run_dir, tmp_path / "run"))
    with runs.RunLock(run), pytest.raises(ConfigError, match=f"run directory {re.escape(str(run))} is in use"):
        train.main([f"resume={run}", "total_timesteps=512"])


def test_concurrent_trains_never_share_a_run_directory(tmp_path: Path) -> None:
    args = [*tiny_overrides("fake", "ppo"), "total_timesteps=64", "eval_freq=0", "verbose=0", "seed=7"]
    procs = [subprocess.Popen(module_command("sportsim.train", *args), cwd=tmp_path, env=cli_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [r[1] for r in results]
    dirs = sorted((tmp_path / "runs" / "fake" / "ppo").iterdir())
    assert len(dirs) == 3
    for run in dirs:  # each its own config and its own model
        assert OmegaConf.load(run / "config.yaml").run_dir == str(run)
        assert runs.read_manifest(run / "final")["num_timesteps"] == 64


def test_best_is_swapped_in_whole_and_a_cut_write_keeps_the_previous(ppo_run: SmokeRun, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    run = Path(shutil.copytree(ppo_run.run_dir, tmp_path / "run"))
    before = runs.read_manifest(run / "best")
    cfg = runs.load_config(run)
    venv = DummyVecEnv([lambda: builders.make_env(cfg.env)])
    model = builders.build_algorithm(cfg, VecNormalize(venv), seed=0)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(run / "best" / "model.zip"))

    monkeypatch.setattr(runs, "save_norm_stats", full_disk)  # fails after model.zip, before the manifest
    with pytest.raises(OSError, match="No space left"):
        runs.publish_model_dir(model, run / "best", extra={"mean_reward": 1.0})
    assert runs.read_manifest(run / "best") == before  # the previous best, whole
    assert not list(run.glob(".pending-*"))
    monkeypatch.undo()
    model.num_timesteps = 999
    runs.publish_model_dir(model, run / "best", extra={"mean_reward": 2.0})
    assert runs.read_manifest(run / "best")["num_timesteps"] == 999 and not list(run.glob(".pending-*"))
    venv.close()


def test_resume_finishes_a_cut_final_write(ppo_run: SmokeRun, tmp_path: Path) -> None:
    run = Path(shutil.copytree(ppo_run.run_dir, tmp_path / "run"))
    shutil.rmtree(run / "final")  # killed after the last checkpoint, during the final/ write
    (run / ".pending-final-x").mkdir()
    result = run_module("sportsim.train", f"resume={run}", "total_timesteps=256", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote its final model" in result.stdout and not (run / ".pending-final-x").exists()
    assert runs.read_manifest(run / "final")["num_timesteps"] == 256
    again = run_module("sportsim.train", f"resume={run}", "total_timesteps=256", cwd=tmp_path)
    assert again.returncode == 2 and "already >= total_timesteps" in again.stderr


def test_evaluations_keep_their_schedule_across_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    common = ["checkpoint_freq=96", "eval_freq=128", "n_eval_episodes=1", "verbose=0", "keep_checkpoints=null"]
    first = run_module("sportsim.train", *tiny_overrides("fake", "ppo"), *common, "algo.n_steps=32",
                       "total_timesteps=96", f"run_dir={run}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run_module("sportsim.train", f"resume={run}", "total_timesteps=320", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    with np.load(run / "evaluations.npz", allow_pickle=False) as evaluations:
        assert evaluations["timesteps"].tolist() == [128, 256]  # not 96 + 128 = 224 after the resume


def test_a_run_directory_cannot_name_a_module_to_import(ppo_run: SmokeRun, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run = Path(shutil.copytree(ppo_run.run_dir, tmp_path / "run"))
    (run / "evil.py").write_text("import pathlib; pathlib.Path('PWNED').write_text('ran')\n")
    cfg = OmegaConf.load(run / "config.yaml")
    cfg.env.id = "evil:sportsim/HalfPipe-v1"  # gymnasium would import evil.py from the working directory
    OmegaConf.save(cfg, run / "config.yaml")
    monkeypatch.chdir(tmp_path)
    for args in ((f"model={run}",), ()):
        module = "sportsim.enjoy" if args else "sportsim.record"
        result = run_module(module, *(args or (str(run),)), cwd=run)
        assert result.returncode == 2 and "is not a registered sportsim env id" in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1
    retrain = run_module("sportsim.train", f"config_from={run}", cwd=run)
    assert retrain.returncode == 2 and "is not a registered sportsim env id" in retrain.stderr
    assert not (run / "PWNED").exists() and not (tmp_path / "PWNED").exists()


def test_device_cuda_without_cuda_is_an_error(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU; the check is for machines without one")
    result = run_module("sportsim.train", *tiny_overrides("fake", "ppo"), "device=cuda", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("sportsim: device=cuda: torch ")
    assert "sees no CUDA GPU" in result.stderr and not (tmp_path / "runs").exists()


def test_console_prints_one_line_per_evaluation_and_a_summary(ppo_run: SmokeRun) -> None:
    lines = ppo_run.stdout.splitlines()
    evals = [line for line in lines if line.startswith("eval  step ")]
    assert [line.split()[2] for line in evals] == ["128/256", "256/256"]
    assert all(" return " in line and " success " in line for line in evals)
    assert not any("|" in line for line in lines), "SB3's tables belong to verbose=2"
    assert any(line.startswith("sportsim: done - 256 steps") for line in lines)
    assert f"  python -m sportsim.enjoy model={ppo_run.run_dir} which=best    # measure it" in lines
    assert len(lines) <= 20


def test_progress_bar_total_is_the_step_training_stops_at() -> None:
    cfg = OmegaConf.create({"n_envs": 2})
    del cfg
    from stable_baselines3 import PPO, SAC

    import fake_env

    env = DummyVecEnv([lambda: fake_env.FakeSportEnv()] * 2)
    assert train.planned_timesteps(PPO("MlpPolicy", env, n_steps=64, batch_size=32), 200) == 256  # 2 x 64 rollouts
    assert train.planned_timesteps(SAC("MlpPolicy", env, train_freq=3, learning_starts=0), 200) == 204
    env.close()


def test_hparams_reach_tensorboard(ppo_run: SmokeRun) -> None:
    events = [event for path in (ppo_run.run_dir / "tb").iterdir() for event in EventFileLoader(str(path)).Load()]
    tags = {value.tag for event in events for value in event.summary.value}
    assert "_hparams_/experiment" in tags and "_hparams_/session_start_info" in tags
    start = next(v for e in events for v in e.summary.value if v.tag == "_hparams_/session_start_info")
    assert b"algo.n_steps" in start.metadata.plugin_data.content


def test_multirun_with_the_joblib_launcher_runs_two_jobs_into_two_run_directories(tmp_path: Path) -> None:
    result = run_module("sportsim.train", "-m", *tiny_overrides("fake", "ppo"), "seed=0,1", "total_timesteps=64",
                        "eval_freq=0", "verbose=0", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                        cwd=tmp_path, timeout_s=240)
    assert result.returncode == 0, result.stderr
    assert "sportsim: multirun: 2 of 2 jobs finished" in result.stdout
    dirs = sorted((tmp_path / "runs" / "fake" / "ppo").iterdir())
    assert sorted(OmegaConf.load(d / "config.yaml").seed for d in dirs) == [0, 1]
    assert all(runs.read_manifest(d / "final")["num_timesteps"] == 64 for d in dirs)
    assert list((tmp_path / "runs" / "multirun").glob("*/multirun.yaml"))
    assert not (tmp_path / "outputs").exists() and not list(tmp_path.rglob(".hydra"))


def test_multirun_checks_every_job_first_and_hydra_errors_are_one_line(tmp_path: Path) -> None:
    bad = run_module("sportsim.train", "-m", "env=fake", "seed=0,1", "n_envs=0,1", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr == "sportsim: n_envs must be an integer >= 1, got 0\n"
    launcher = run_module("sportsim.train", "-m", "env=fake", "hydra/launcher=nope", cwd=tmp_path)
    assert launcher.returncode == 2 and len(launcher.stderr.splitlines()) == 1
    assert "hydra/launcher/nope" in launcher.stderr and "joblib" in launcher.stderr
    assert not (tmp_path / "runs" / "fake").exists()


def test_hydra_cfg_job_prints_the_composed_config(tmp_path: Path) -> None:
    result = run_module("sportsim.train", "--cfg", "job", "env=fake", "seed=5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = OmegaConf.create(result.stdout)
    assert printed.seed == 5 and printed.env.name == "fake" and not (tmp_path / "runs").exists()


def test_shell_completion_of_keys_and_groups(tmp_path: Path) -> None:
    env = {**cli_env(), "COMP_LINE": "python -m sportsim.train algo.learning_r"}
    query = subprocess.run(module_command("sportsim.train", "-sc", "query=bash"), cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert query.returncode == 0 and query.stdout.split() == ["algo.learning_rate="], query.stderr
    env["COMP_LINE"] = "sportsim-train env=half"
    query = subprocess.run(module_command("sportsim.train", "-sc", "query=bash"), cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert "env=halfpipe" in query.stdout.split(), query.stderr
    script = Path(sys.executable).parent / "sportsim-train"
    if not script.is_file():
        pytest.skip(f"no sportsim-train console script beside {sys.executable} (sportsim not pip-installed here)")
    install = subprocess.run([str(script), "-sc", "install=bash"], cwd=tmp_path, env=cli_env(),
                             capture_output=True, text=True, timeout=60, check=False)
    assert install.returncode == 0 and "-F hydra_bash_completion sportsim-train" in install.stdout


@pytest.mark.parametrize("launcher", ["joblib", "submitit_slurm", "ray"])
def test_cluster_launcher_configs_compose(launcher: str, tmp_path: Path) -> None:
    plugin = {"joblib": "hydra_plugins.hydra_joblib_launcher", "submitit_slurm": "hydra_plugins.hydra_submitit_launcher",
              "ray": "hydra_plugins.hydra_ray_launcher"}[launcher]
    import importlib.util

    if importlib.util.find_spec(plugin) is None:
        pytest.skip(f"the {launcher} launcher is an optional extra (pip install '.[{launcher.split('_')[-1]}]'), "
                    "not installed here")
    # the README's worked example (one Slurm job per clip) for Slurm
    extra = {"submitit_slurm": ["hydra.launcher.partition=cpu", "hydra.launcher.cpus_per_task=8",
                                "hydra.launcher.timeout_min=1440"]}.get(launcher, [])
    result = run_module("sportsim.train", "--cfg", "hydra", "env=fake", f"hydra/launcher={launcher}", *extra,
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = OmegaConf.create(result.stdout)
    assert launcher.split("_")[0] in printed.hydra.launcher._target_.lower()
    if extra:
        assert (printed.hydra.launcher.partition, printed.hydra.launcher.cpus_per_task) == ("cpu", 8)


@pytest.mark.parametrize("module, args", [
    ("sportsim.train", ("env=fake", "runs_root={ro}/runs", "total_timesteps=64")),
    ("sportsim.replay", ("mocap=mocap/cmu_02_01_walk.bvh", "seconds=0.1", "out={ro}/replay.mp4")),
])
def test_unwritable_outputs_are_one_line(module: str, args: tuple[str, ...], tmp_path: Path) -> None:
    ro = tmp_path / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):
        pytest.skip("running as a user who may write anywhere (root); /proc stands in below")
    result = run_module(module, *(a.format(ro=ro) for a in args), cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "Permission denied" in result.stderr


@pytest.mark.parametrize("module, args", [
    ("sportsim.train", ("env=fake", "runs_root=/proc/sportsim-test/runs", "total_timesteps=64")),
    ("sportsim.replay", ("mocap=mocap/cmu_02_01_walk.bvh", "seconds=0.1", "out=/proc/sportsim-test.mp4")),
])
def test_outputs_that_cannot_be_created_are_one_line(module: str, args: tuple[str, ...], tmp_path: Path) -> None:
    result = run_module(module, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1].startswith("sportsim: /proc/sportsim-test")
    assert "Traceback" not in result.stderr and ".tmp" not in result.stderr


def test_a_cut_mp4_is_never_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An encoder that stops early (a full disk, a killed ffmpeg) leaves an MP4 without its index: the
    writer raises an OSError naming the target and publishes nothing."""
    from sportsim import video

    frames = [np.full((32, 32, 3), i, dtype=np.uint8) for i in range(10)]
    with video.Mp4Writer(tmp_path / "whole.mp4", 25, explicit=True) as whole:
        for frame in frames:
            whole.append(frame)
    video.check_mp4(whole.path, whole.path)  # complete
    data = whole.path.read_bytes()

    def cut_close(self) -> None:  # what a full disk leaves: the file stops part-way
        original_close(self)
        self._tmp.write_bytes(data[: len(data) // 2])

    original_close = video.Mp4Writer._close_encoder
    monkeypatch.setattr(video.Mp4Writer, "_close_encoder", cut_close)
    with pytest.raises(OSError, match="cut.mp4"):
        with video.Mp4Writer(tmp_path / "cut.mp4", 25, explicit=True) as cut:
            for frame in frames:
                cut.append(frame)
    assert not (tmp_path / "cut.mp4").exists() and not list(tmp_path.glob(".cut*"))


def test_every_kth_evaluation_puts_a_frame_strip_in_tensorboard(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_module("sportsim.train", *tiny_overrides("fake", "ppo"), "total_timesteps=256", "eval_freq=64",
                        "n_eval_episodes=1", "eval_frames_every=2", "verbose=0", f"run_dir={run}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tb = EventAccumulator(str(run / "tb"), size_guidance={"images": 0})
    tb.Reload()
    strips = tb.Images("eval/frames")
    assert [image.step for image in strips] == [128, 256]  # evaluations 2 and 4 of 4
    assert strips[0].width > strips[0].height  # frames side by side
