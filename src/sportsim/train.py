"""Train an SB3 agent on a sportsim env; everything a run produces lands in one run directory.

    python -m sportsim.train env=halfpipe algo=ppo seed=3 n_envs=2 total_timesteps=50000 algo.learning_rate=1e-3
    python -m sportsim.train resume=<run dir> [total_timesteps=100000]
    python -m sportsim.train --help

Reads top to bottom: config -> seed -> envs -> algorithm -> run directory -> callbacks -> learn -> save.
See :mod:`sportsim.runs` for the run-directory layout and how checkpoints stay consistent.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.logger import configure
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sportsim import builders, config, runs, zoo
from sportsim.callbacks import (
    AtomicCheckpointCallback,
    MetricsEvalCallback,
    RewardTermsCallback,
    SaveBestCallback,
    StopOnSignal,
    TrainingClock,
    restore_evaluations,
)
from sportsim.cli import EXIT_INTERRUPTED, run_cli
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
    """``init=zoo`` (the best zoo entry for this env, task and algorithm) or ``init=<run dir | .zip>``:
    start from those weights (read without unpickling; the zoo entry hash-checked) and, when both runs
    normalise observations, from their normalisation statistics. The network must match the config."""
    if cfg.init == "zoo":
        entry = zoo.select(cfg.env.name, cfg.algo.name, cfg.get("task"))
        location = zoo.locate(entry)
        source = f"zoo entry {entry.name} ({entry.model} weights, {entry.timesteps} steps)"
    else:
        location = runs.locate_model(Path(cfg.init), "final")
        source = str(location.model_file)
    trained = runs.load_config(location.run_dir)
    if trained.env.id != cfg.env.id or trained.algo.name != cfg.algo.name:
        raise ConfigError(f"init={cfg.init}: {source} is {trained.algo.name} on {trained.env.id}, "
                          f"this run is {cfg.algo.name} on {cfg.env.id}")
    runs.load_parameters(model, location.model_file)
    if isinstance(train_env, VecNormalize) and cfg.normalize.obs and location.norm_file.is_file():
        runs.load_norm_stats(location.norm_file, train_env)
    print(f"sportsim: initial weights from {source}")


def _resume_point(run_dir: Path, total_timesteps: int) -> tuple[Path, dict[str, Any]]:
    """The latest complete checkpoint of ``run_dir`` and its verified manifest; incomplete checkpoints
    (a save cut short by a kill) are removed."""
    for path in runs.remove_incomplete_checkpoints(run_dir):
        print(f"sportsim: removed incomplete checkpoint {path}")
    checkpoint = runs.latest_checkpoint(run_dir)
    if checkpoint is None:
        raise ModelFileError(f"{run_dir / runs.CHECKPOINTS_DIR} holds no complete checkpoint to resume from")
    manifest = runs.read_manifest(checkpoint)
    done = manifest["num_timesteps"]
    if done >= total_timesteps:
        raise ConfigError(
            f"resume: {checkpoint.name} is at {done} steps, already >= total_timesteps={total_timesteps}; "
            f"pass a larger total_timesteps to train further"
        )
    return checkpoint, manifest


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(config.help_text())
        return 0

    # 1. Config: compose a new one, or reload the run's config.yaml for resume=<run dir>.
    cfg = config.load_train_config(argv)
    checkpoint, manifest = _resume_point(Path(cfg.run_dir), cfg.total_timesteps) if cfg.resume else (None, None)
    start_step = manifest["num_timesteps"] if manifest else 0

    # 2. Seed and torch threads. A resumed run draws fresh random streams (seed + steps done), not step 0's.
    seed = cfg.seed + start_step
    set_random_seed(seed)
    if cfg.torch_threads is not None:
        torch.set_num_threads(cfg.torch_threads)

    # 3. Envs: training copies (+ VecNormalize) and one evaluation copy with frozen statistics.
    train_env, eval_env = make_envs(cfg, seed)

    try:
        # 4. Algorithm, built from the config; a resumed run then loads its checkpoint into it.
        model = builders.build_algorithm(cfg, train_env, seed=seed)
        if checkpoint is not None:
            runs.restore_checkpoint(model, checkpoint, manifest)
            run_dir = Path(cfg.run_dir)
            print(f"sportsim: resuming {run_dir} from {checkpoint.name} ({model.num_timesteps} steps)")
        else:
            if cfg.init is not None:
                _initialise(model, train_env, cfg)
            run_dir = runs.create_run_dir(cfg)
            cfg.run_dir = str(run_dir)
        runs.save_config(cfg, run_dir)
        tb_dir = run_dir / runs.TB_DIR  # one folder for the whole run, resumes included
        model.set_logger(configure(str(tb_dir), ["stdout", "tensorboard"] if cfg.verbose else ["tensorboard"]))
        print(f"sportsim: run directory {run_dir}")
        print(f"sportsim: watch with: tensorboard --logdir {tb_dir}", flush=True)

        # 5. Callbacks: reward terms -> TensorBoard, evaluation + best model, periodic checkpoints, signals.
        evaluation = None
        if cfg.eval_freq > 0:
            evaluation = MetricsEvalCallback(
                eval_env,
                n_eval_episodes=cfg.n_eval_episodes,
                eval_freq=max(cfg.eval_freq // cfg.n_envs, 1),  # SB3 counts calls, one per n_envs steps
                log_path=str(run_dir),  # -> evaluations.npz
                best_model_save_path=None,  # SaveBestCallback writes best/ atomically instead
                callback_on_new_best=SaveBestCallback(run_dir / runs.BEST_DIR),
                deterministic=True,
                verbose=0,
            )
            if checkpoint is not None:
                restore_evaluations(evaluation, checkpoint, run_dir)
        clock = TrainingClock(manifest["extra"].get("train_wall_s", 0.0) if manifest else 0.0)
        checkpoints = AtomicCheckpointCallback(run_dir, cfg.checkpoint_freq, cfg.keep_checkpoints, evaluation,
                                               cfg.verbose, clock)
        stop = StopOnSignal()
        callbacks = [RewardTermsCallback(), *([evaluation] if evaluation is not None else []), checkpoints, stop]

        with stop:  # SIGINT/SIGTERM from here on: finish the step, save, exit (the saves are not cut short)
            # 6. Learn. With reset_num_timesteps=False SB3 counts on from the checkpoint's step.
            model.learn(
                total_timesteps=cfg.total_timesteps - model.num_timesteps,
                callback=CallbackList(callbacks),
                reset_num_timesteps=checkpoint is None,
                progress_bar=cfg.progress_bar,
            )
            interrupted = stop.received is not None

            # 7. Save: a last checkpoint (resume point) and, unless interrupted, the final model.
            last = checkpoints.save_now()
            if interrupted:
                print(f"sportsim: stopped at {model.num_timesteps} steps; checkpoint {last}", file=sys.stderr)
                print(f"sportsim: continue with: python -m sportsim.train resume={run_dir}", file=sys.stderr)
                return EXIT_INTERRUPTED
            runs.save_model_dir(model, run_dir / runs.FINAL_DIR, extra={"train_wall_s": clock.seconds()})
        print(f"sportsim: done, {model.num_timesteps} steps in {clock.seconds():.0f} s of training; "
              f"final model {run_dir / runs.FINAL_DIR}")
        return 0
    finally:
        train_env.close()
        eval_env.close()


if __name__ == "__main__":
    run_cli(main)
