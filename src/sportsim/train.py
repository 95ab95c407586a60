"""Train an SB3 agent on a sportsim env; everything a run produces lands in one run directory.

    python -m sportsim.train env=halfpipe algo=ppo seed=3 n_envs=2 total_timesteps=50000 algo.learning_rate=1e-3
    python -m sportsim.train resume=<run dir> [total_timesteps=100000]
    python -m sportsim.train --help

Reads top to bottom: config -> seed -> envs -> algorithm -> run directory -> callbacks -> learn -> save.
See :mod:`sportsim.runs` for the run-directory layout and how checkpoints stay consistent.
"""

from __future__ import annotations

import math
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.logger import configure
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sportsim import builders, config, paths, resolve, runs, zoo
from sportsim.callbacks import (
    AtomicCheckpointCallback,
    EvaluationFrames,
    EvaluationLine,
    HParamsCallback,
    ProgressBar,
    MetricsEvalCallback,
    RewardTermsCallback,
    SaveBestCallback,
    StopOnSignal,
    TrainingClock,
    restore_evaluations,
)
from sportsim.cli import EXIT_INTERRUPTED, run_cli, run_hydra_app, wants_hydra
from sportsim.errors import ConfigError, ModelFileError

EVAL_SEED_OFFSET = 1_000_000  # evaluation episodes use seeds no training env copy starts from


@contextmanager
def _sigint_ignored(active: bool) -> Iterator[None]:
    """Start subprocess env workers with SIGINT ignored, so Ctrl-C reaches only the trainer (which then
    saves a checkpoint) instead of killing the workers under it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if active else None
    try:
        yield
    finally:
        if active:
            signal.signal(signal.SIGINT, previous)


def make_envs(cfg: DictConfig, seed: int) -> tuple[VecEnv, VecEnv]:
    """The training copies (+ VecNormalize) and one evaluation copy with frozen statistics for ``cfg``;
    :mod:`sportsim.tune` builds its trials' envs with it too. A bad env id, kwargs or train_kwargs fails
    first, as one line, before any env worker starts."""
    builders.make_env(cfg.env, **builders.train_env_kwargs(cfg.env)).close()
    with _sigint_ignored(cfg.vec_env == "subproc"):
        train_env = builders.make_vec_envs(cfg, n_envs=cfg.n_envs, seed=seed, training=True,
                                           subproc=cfg.vec_env == "subproc")
    eval_env = builders.make_vec_envs(cfg, n_envs=1, seed=seed + EVAL_SEED_OFFSET, training=False)
    return train_env, eval_env


def _initialise(model: BaseAlgorithm, train_env: VecEnv, cfg: DictConfig) -> None:
    """``init=zoo`` (the best zoo entry for this env, task and algorithm) or ``init=<run dir | .zip | zoo
    entry>`` (:mod:`sportsim.resolve`): start from those weights (read without unpickling; a zoo entry
    hash-checked) and, when both runs normalise observations, from their normalisation statistics. The
    network must match the config."""
    if cfg.init == "zoo":
        entry = zoo.select(cfg.env.id, cfg.algo.name, cfg.get("task"))  # an entry of this env version
        ref = resolve.policy(f"{resolve.ZOO_PREFIX}{entry.name}")
    else:
        ref = resolve.policy(cfg.init, "final")
    location, source = ref.location, ref.describe()
    trained = runs.load_config(location.run_dir)
    # another version of the same env is fine (fine-tuning onto a changed body, e.g. Imitation-v0 -> v1):
    # the spaces are checked when the weights are loaded
    family = str(trained.env.id).rsplit("-v", 1)[0], str(cfg.env.id).rsplit("-v", 1)[0]
    if family[0] != family[1] or trained.algo.name != cfg.algo.name:
        raise ConfigError(f"init={cfg.init}: {source} is {trained.algo.name} on {trained.env.id}, "
                          f"this run is {cfg.algo.name} on {cfg.env.id}")
    runs.load_parameters(model, location.model_file)
    if isinstance(train_env, VecNormalize) and cfg.normalize.obs and location.norm_file.is_file():
        runs.load_norm_stats(location.norm_file, train_env)
    note = ""
    if cfg.get("init_std", "source") == "config":
        # a converged policy's action noise is tiny (0.07 rad for the v0 walk): every update then exceeds
        # PPO's KL target at its first minibatch and learning stalls on a changed env - restart the noise
        log_std_init = (cfg.algo.get("policy_kwargs") or {}).get("log_std_init")
        log_std = getattr(model.policy, "log_std", None)
        if log_std_init is None or log_std is None:
            raise ConfigError("init_std=config needs a policy with a learned log std (PPO/A2C) and "
                              "algo.policy_kwargs.log_std_init")
        with torch.no_grad():
            log_std.fill_(float(log_std_init))
        note = f", action noise restarted at log std {float(log_std_init):g}"
    elif cfg.get("init_std", "source") != "source":
        raise ConfigError(f"init_std must be source or config, got {cfg.init_std!r}")
    print(f"sportsim: initial weights from {source}{note}")


def _resume_point(run_dir: Path, total_timesteps: int) -> tuple[Path, dict[str, Any], bool]:
    """The newest *valid* checkpoint of ``run_dir``, its verified manifest, and whether the run only needs
    its ``final/`` written (a kill cut that write: the last checkpoint is at ``total_timesteps``).
    Incomplete checkpoints and cut ``best/``/``final/`` writes (a killed process) are removed; a newer
    checkpoint that fails its manifest check is skipped, saying why."""
    for path in [*runs.remove_incomplete_checkpoints(run_dir), *runs.clean_pending(run_dir)]:
        print(f"sportsim: removed incomplete {path}")
    found = runs.latest_valid_checkpoint(run_dir)
    if found is None:
        raise ModelFileError(f"{run_dir / runs.CHECKPOINTS_DIR} holds no complete, valid checkpoint to resume from")
    checkpoint, manifest, skipped = found
    for reason in skipped:
        print(f"sportsim: skipped a corrupt checkpoint: {reason}")
    done = manifest["num_timesteps"]
    final_missing = not (run_dir / runs.FINAL_DIR / runs.MANIFEST_FILE).is_file()
    if done >= total_timesteps and not final_missing:
        raise ConfigError(
            f"resume: {checkpoint.name} is at {done} steps, already >= total_timesteps={total_timesteps}; "
            f"pass a larger total_timesteps to train further"
        )
    return checkpoint, manifest, done >= total_timesteps


def planned_timesteps(model: BaseAlgorithm, total_timesteps: int) -> int:
    """The step count SB3 will actually stop at: it collects whole rollouts (n_steps x n_envs for A2C/PPO,
    train_freq x n_envs for SAC), so 200,000 asked of PPO with 2,048-step rollouts ends at 200,704."""
    done = model.num_timesteps
    if isinstance(model, OnPolicyAlgorithm):
        chunk = model.n_steps * model.n_envs
    else:
        train_freq = getattr(model, "train_freq", None)
        every = train_freq.frequency if train_freq is not None and train_freq.unit.value == "step" else 1
        chunk = every * model.n_envs
    return done + max(math.ceil((total_timesteps - done) / chunk), 0) * chunk


def _summary(run_dir: Path, model: BaseAlgorithm, seconds: float, evaluation: MetricsEvalCallback | None) -> str:
    """The closing lines: steps and time, the last and best evaluation, and what to run next."""
    lines = [f"sportsim: done - {model.num_timesteps:,} steps in {seconds:.0f} s of training; run directory {run_dir}"]
    if evaluation is not None and evaluation.evaluations_results:
        results = np.asarray(evaluation.evaluations_results, dtype=float).mean(axis=1)
        best = int(np.argmax(results))
        last = f"return {results[-1]:.2f} at step {evaluation.evaluations_timesteps[-1]:,}"
        if evaluation.evaluations_successes:
            last += f", success {100 * np.mean(evaluation.evaluations_successes[-1]):.0f} %"
        lines.append(f"sportsim: last evaluation {last}; best return {results[best]:.2f} "
                     f"at step {evaluation.evaluations_timesteps[best]:,} (best/)")
    lines += ["next:",
              f"  python -m sportsim.enjoy model={run_dir} which=best    # measure it",
              f"  python -m sportsim.record {run_dir} model=best         # an MP4 of one episode",
              f"  tensorboard --logdir {run_dir / runs.TB_DIR}"]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(config.help_text())
        return 0
    if wants_hydra(argv):  # -m sweeps, hydra/launcher=..., --cfg, --info, -sc: through @hydra.main
        return run_hydra_app([*argv, *config.searchpath_overrides()], str(paths.config_dir()),
                             config.PRIMARY_CONFIG, job=hydra_job, precheck=config.load_train_config)
    return train(config.load_train_config(argv))


def hydra_job(overrides: list[str]) -> int:
    """One job of a Hydra multirun (or a run with hydra.* settings): the same checks and run directory
    as a plain run. Parallel jobs (``hydra/launcher=joblib``) print no progress bars over each other."""
    from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415
    from hydra.types import RunMode  # noqa: PLC0415

    cfg = config.load_train_config(overrides)
    if HydraConfig.get().mode == RunMode.MULTIRUN and not any(o.startswith("progress_bar=") for o in overrides):
        cfg.progress_bar = False
    return train(cfg)


def train(cfg: DictConfig) -> int:
    """Train the composed, checked config ``cfg`` (a new run, or ``resume=`` with its saved config)."""
    # 1. Config (composed by the caller) and, for resume=, the run's lock and its newest valid checkpoint.
    lock = runs.RunLock(Path(cfg.run_dir)) if cfg.resume else None
    try:
        checkpoint, manifest, finish_only = (_resume_point(Path(cfg.run_dir), cfg.total_timesteps) if cfg.resume
                                             else (None, None, False))
        return _train(cfg, checkpoint, manifest, finish_only, lock)
    finally:
        if lock is not None:
            lock.release()


def _train(cfg: DictConfig, checkpoint: Path | None, manifest: dict[str, Any] | None, finish_only: bool,
           lock: runs.RunLock | None) -> int:
    start_step = manifest["num_timesteps"] if manifest else 0

    # 2. Seed and torch threads. A resumed run draws fresh random streams (seed + steps done), not step 0's.
    seed = cfg.seed + start_step
    set_random_seed(seed)
    if cfg.torch_threads is not None:
        torch.set_num_threads(cfg.torch_threads)

    # 3. Envs: training copies (+ VecNormalize) and one evaluation copy with frozen statistics.
    train_env, eval_env = make_envs(cfg, seed)
    frames: EvaluationFrames | None = None  # rendered evaluation episodes for TensorBoard (step 5)

    try:
        # 4. Algorithm, built from the config; a resumed run then loads its checkpoint into it.
        model = builders.build_algorithm(cfg, train_env, seed=seed)
        if checkpoint is not None:
            runs.restore_checkpoint(model, checkpoint, manifest)
            run_dir = Path(cfg.run_dir)
            print(f"sportsim: resuming {run_dir} from {checkpoint.name} ({model.num_timesteps:,} steps)")
        else:
            if cfg.init is not None:
                _initialise(model, train_env, cfg)
            run_dir, lock = runs.create_run_dir(cfg)  # exclusive and locked until this run ends
            cfg.run_dir = str(run_dir)
        clock = TrainingClock(manifest["extra"].get("train_wall_s", 0.0) if manifest else 0.0)
        if finish_only:  # a kill cut the final/ write after the last checkpoint: finish it
            runs.publish_model_dir(model, run_dir / runs.FINAL_DIR, extra={"train_wall_s": clock.seconds()})
            print(f"sportsim: {run_dir} had trained {model.num_timesteps:,} steps; wrote its final model")
            print(_summary(run_dir, model, clock.seconds(), None))
            return 0
        runs.save_config(cfg, run_dir)
        tb_dir = run_dir / runs.TB_DIR  # one folder for the whole run, resumes included
        model.set_logger(configure(str(tb_dir), ["stdout", "tensorboard"] if cfg.verbose >= 2 else ["tensorboard"]))
        print(f"sportsim: run directory {run_dir}")
        print(f"sportsim: watch with: tensorboard --logdir {tb_dir}", flush=True)

        # 5. Callbacks: reward terms -> TensorBoard, evaluation + best model, checkpoints, signals, console.
        planned = planned_timesteps(model, cfg.total_timesteps)
        progress = ProgressBar(planned) if cfg.progress_bar else None
        evaluation = None
        if cfg.eval_freq > 0:
            every = cfg.get("eval_frames_every") or 0
            frames = EvaluationFrames(lambda: builders.make_env(cfg.env, render_mode="rgb_array"), every) if every else None
            evaluation = MetricsEvalCallback(
                eval_env,
                every_steps=cfg.eval_freq,  # on multiples of eval_freq env steps, across resumes too
                report=EvaluationLine(planned, progress) if cfg.verbose else None,
                frames=frames,  # every k-th evaluation: a frame strip of one episode in TensorBoard
                n_eval_episodes=cfg.n_eval_episodes,
                log_path=str(run_dir),  # -> evaluations.npz
                best_model_save_path=None,  # SaveBestCallback swaps best/ in atomically instead
                callback_on_new_best=SaveBestCallback(run_dir / runs.BEST_DIR),
                deterministic=True,
                verbose=0,
            )
            if checkpoint is not None:
                restore_evaluations(evaluation, checkpoint, run_dir)
        checkpoints = AtomicCheckpointCallback(run_dir, cfg.checkpoint_freq, cfg.keep_checkpoints, evaluation,
                                               cfg.verbose, clock)
        stop = StopOnSignal()
        callbacks = [RewardTermsCallback(), HParamsCallback(cfg), *([evaluation] if evaluation is not None else []),
                     checkpoints, stop, *([progress] if progress is not None else [])]

        with stop:  # SIGINT/SIGTERM from here on: finish the step, save, exit (the saves are not cut short)
            # 6. Learn. With reset_num_timesteps=False SB3 counts on from the checkpoint's step.
            model.learn(
                total_timesteps=cfg.total_timesteps - model.num_timesteps,
                callback=CallbackList(callbacks),
                reset_num_timesteps=checkpoint is None,
                progress_bar=False,  # ProgressBar: the right total, and evaluation lines above it
            )
            interrupted = stop.received is not None

            # 7. Save: a last checkpoint (resume point) and, unless interrupted, the final model.
            last = checkpoints.save_now()
            if interrupted:
                print(f"sportsim: stopped at {model.num_timesteps:,} steps; checkpoint {last}", file=sys.stderr)
                print(f"sportsim: continue with: python -m sportsim.train resume={run_dir}", file=sys.stderr)
                return EXIT_INTERRUPTED
            runs.publish_model_dir(model, run_dir / runs.FINAL_DIR, extra={"train_wall_s": clock.seconds()})
        print(_summary(run_dir, model, clock.seconds(), evaluation))
        return 0
    finally:
        train_env.close()
        eval_env.close()
        if frames is not None:
            frames.close()
        if lock is not None:
            lock.release()


def cli() -> None:
    """The ``sportsim-train`` console script (same as ``python -m sportsim.train``; Hydra's shell completion
    installs for it: ``eval "$(sportsim-train -sc install=bash)"``)."""
    run_cli(main)


if __name__ == "__main__":
    run_cli(main)
