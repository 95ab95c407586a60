"""SB3 callbacks used by ``sportsim.train``: reward-term and episode-metric logging, atomic checkpoints,
best-model saving, and a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import numbers
import re
import time
import signal
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any
from pathlib import Path
from types import FrameType, TracebackType

import numpy as np
from omegaconf import DictConfig, OmegaConf
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.logger import HParam, Image
from stable_baselines3.common.vec_env import VecEnv
from tqdm import tqdm

from sportsim import runs

REWARD_INFO_PREFIX = "reward_"
METRICS_METADATA_KEY = "tb_metrics"  # env.metadata entry: {info key: "mean" | "last"}


def env_metrics(venv: VecEnv) -> dict[str, str]:
    """The per-episode figures an env asks to have logged: its ``metadata["tb_metrics"]``, a mapping of
    ``info`` key to ``"mean"`` (average over the episode's steps) or ``"last"`` (value at its end)."""
    metadata = venv.get_attr("metadata", indices=[0])[0] or {}
    wanted = metadata.get(METRICS_METADATA_KEY) or {}
    return {str(key): how for key, how in dict(wanted).items() if how in ("mean", "last")}


def env_clip_names(venv: VecEnv) -> tuple[str, ...]:
    """The clips of a multi-clip env (Imitation's ``clip_names``, indexed by ``info["clip"]``) as TensorBoard
    tag parts; () for an env with one clip or none."""
    if not venv.has_attr("clip_names"):  # (get_attr of a missing attribute ends a SubprocVecEnv worker)
        return ()
    names = tuple(venv.get_attr("clip_names", indices=[0])[0])
    return tuple(re.sub(r"[^A-Za-z0-9_.-]", "_", str(n)) for n in names) if len(names) > 1 else ()


def record_per_clip(logger: Any, prefix: str, clip_names: tuple[str, ...], info: dict, figures: dict[str, float]) -> None:
    """A multi-clip env's episode figures once more under ``<prefix>/<clip name>/<key>``."""
    clip = info.get("clip")
    if figures and isinstance(clip, numbers.Integral) and 0 <= clip < len(clip_names):
        for key, value in figures.items():
            logger.record_mean(f"{prefix}/{clip_names[clip]}/{key}", value)


class EpisodeMetrics:
    """Accumulates the figures of :func:`env_metrics` per env copy over each episode."""

    def __init__(self, metrics: dict[str, str], n_envs: int) -> None:
        self.metrics = metrics
        self._sums = [defaultdict(float) for _ in range(n_envs)]
        self._counts = [defaultdict(int) for _ in range(n_envs)]

    def add(self, index: int, info: dict, done: bool) -> dict[str, float]:
        """Count one step of env copy ``index``; at the episode's end return its figures (else {})."""
        sums, counts = self._sums[index], self._counts[index]
        for key, how in self.metrics.items():
            value = info.get(key)
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                sums[key] = sums[key] + float(value) if how == "mean" else float(value)
                counts[key] += 1
        if not done:
            return {}
        out = {key: (total / counts[key] if self.metrics[key] == "mean" else total) for key, total in sums.items()}
        self.clear(index)
        return out

    def clear(self, index: int | None = None) -> None:
        for i in range(len(self._sums)) if index is None else (index,):
            self._sums[i].clear()
            self._counts[i].clear()


class RewardTermsCallback(BaseCallback):
    """Log each env reward term as ``reward/<term>``, and the env's episode figures as ``metrics/<key>``.

    Per environment copy, ``info["reward_<term>"]`` is summed over an episode; when the episode ends the
    sum goes to ``Logger.record_mean``, so each logged value is the mean over the episodes finished since
    the previous log dump. The terms are the env's raw values, before any reward normalisation. Envs that
    list ``info`` keys in ``metadata["tb_metrics"]`` (:func:`env_metrics`) get each one's episode mean or
    final value logged the same way; a multi-clip env's (:func:`env_clip_names`) also per clip, as
    ``metrics_per_clip/<clip>/<key>`` (and :class:`MetricsEvalCallback`'s as ``eval_per_clip/<clip>/<key>``).
    """

    def _init_callback(self) -> None:
        self._sums: list[dict[str, float]] = [defaultdict(float) for _ in range(self.training_env.num_envs)]
        self._metrics = EpisodeMetrics(env_metrics(self.training_env), self.training_env.num_envs)
        self._clip_names = env_clip_names(self.training_env)

    def _on_step(self) -> bool:
        steps = zip(self._sums, self.locals["infos"], self.locals["dones"], strict=True)
        for i, (sums, info, done) in enumerate(steps):
            for key, value in info.items():
                if key.startswith(REWARD_INFO_PREFIX) and isinstance(value, numbers.Real):
                    sums[key[len(REWARD_INFO_PREFIX) :]] += float(value)
            figures = self._metrics.add(i, info, bool(done))
            for key, value in figures.items():
                self.logger.record_mean(f"metrics/{key}", value)
            if self._clip_names:
                record_per_clip(self.logger, "metrics_per_clip", self._clip_names, info, figures)
            if done:
                for term, total in sums.items():
                    self.logger.record_mean(f"reward/{term}", total)
                sums.clear()
        return True


HEADLINE_KEYS = ("max_board_height_m", "circles", "max_hold_s")  # last-info figures, when no tb_metrics


class MetricsEvalCallback(EvalCallback):
    """SB3's EvalCallback that also logs the evaluation env's episode figures (:func:`env_metrics`) as
    ``eval/<key>``, averaged over the evaluation's episodes, next to ``eval/mean_reward``.

    Evaluations fall on multiples of ``every_steps`` env steps counted from step 0 of the run, so a
    resumed run keeps its schedule (SB3 counts calls since the process started, which restarts it after
    every resume). ``report`` receives one dict per evaluation (step, mean/std return, success rate, the
    env's headline figure, new best) for the console line."""

    def __init__(self, eval_env: VecEnv, *, every_steps: int | None = None,
                 report: Callable[[dict], None] | None = None, eval_freq: int = 10_000,
                 frames: "EvaluationFrames | None" = None, **kwargs) -> None:
        # every_steps=None: SB3's own schedule, every eval_freq calls (one call per n_envs steps)
        super().__init__(eval_env, eval_freq=eval_freq if every_steps is None else 1, **kwargs)
        self.every_steps = every_steps
        self.report = report
        self.frames = frames
        self._next_step = 0

    def _init_callback(self) -> None:
        super()._init_callback()
        self._episode_metrics = EpisodeMetrics(env_metrics(self.eval_env), self.eval_env.num_envs)
        self._clip_names = env_clip_names(self.eval_env)
        self._figures: dict[str, list[float]] = defaultdict(list)
        if self.every_steps is not None:
            self._next_step = (self.model.num_timesteps // self.every_steps + 1) * self.every_steps

    def _due(self) -> bool:
        if self.every_steps is None:
            return self.eval_freq > 0 and self.n_calls % self.eval_freq == 0
        if self.num_timesteps < self._next_step:
            return False
        self._next_step = (self.num_timesteps // self.every_steps + 1) * self.every_steps
        return True  # eval_freq is 1: SB3's n_calls % eval_freq == 0 holds

    def _on_step(self) -> bool:
        if not self._due():
            return True
        self._episode_metrics.clear()  # evaluate_policy resets the eval env: no episode carries over
        self._figures.clear()
        best_before = self.best_mean_reward
        result = super()._on_step()
        if self.report is not None and self.evaluations_results:
            returns = np.asarray(self.evaluations_results[-1], dtype=float)
            line = {"step": self.num_timesteps, "mean_return": float(returns.mean()),
                    "std_return": float(returns.std()), "new_best": self.best_mean_reward > best_before,
                    "success_rate": float(np.mean(self._is_success_buffer)) if self._is_success_buffer else None}
            headline = next(iter(self._figures), None)
            if headline is not None:
                line["headline"] = (headline, float(np.mean(self._figures[headline])))
            self.report(line)
        if self.frames is not None:
            self.frames.maybe_log(self, len(self.evaluations_timesteps))
        return result

    def _log_success_callback(self, locals_: dict, globals_: dict) -> None:
        super()._log_success_callback(locals_, globals_)
        figures = self._episode_metrics.add(int(locals_["i"]), locals_["info"], bool(locals_["done"]))
        for key, value in figures.items():
            self.logger.record_mean(f"eval/{key}", value)
            self._figures[key].append(value)
        if self._clip_names:
            record_per_clip(self.logger, "eval_per_clip", self._clip_names, locals_["info"], figures)
        if locals_["done"] and not self._episode_metrics.metrics:
            info = locals_["info"]
            for key in HEADLINE_KEYS:
                if isinstance(info.get(key), numbers.Real):
                    self._figures[key].append(float(info[key]))


class EvaluationFrames:
    """Every ``every``-th evaluation, one deterministic episode of the current policy rendered as a strip
    of ``n_frames`` frames (evenly spread over the episode's time limit, half size) in TensorBoard as
    ``eval/frames``. Observations pass through the evaluation env's normalisation, as in the evaluation.
    An env that cannot render here (no GL) is reported once and skipped."""

    def __init__(self, make_render_env: Callable[[], Any], every: int, n_frames: int = 8, max_steps: int = 10_000):
        self.make_render_env, self.every, self.n_frames, self.max_steps = make_render_env, every, n_frames, max_steps
        self.env: Any = None
        self.failed = False

    def maybe_log(self, evaluation: EvalCallback, count: int) -> None:
        if self.failed or self.every <= 0 or count % self.every:
            return
        try:
            strip = self.strip(evaluation)
        except Exception as exc:  # noqa: BLE001 - rendering is optional: say why once, train on
            self.failed = True
            print(f"sportsim: no evaluation frames in TensorBoard ({type(exc).__name__}: {exc})", file=sys.stderr)
            return
        evaluation.logger.record("eval/frames", Image(strip, "HWC"), exclude=("stdout", "log", "json", "csv"))
        evaluation.logger.dump(evaluation.num_timesteps)

    def strip(self, evaluation: EvalCallback) -> np.ndarray:
        if self.env is None:
            self.env = self.make_render_env()
        env, venv = self.env, evaluation.eval_env
        limit = getattr(env.spec, "max_episode_steps", None) or self.max_steps
        stride = max(1, limit // self.n_frames)
        obs, _ = env.reset(seed=evaluation.num_timesteps)
        frames, step = [np.asarray(env.render())[::2, ::2]], 0
        while len(frames) < self.n_frames and step < limit:
            policy_obs = venv.normalize_obs(obs) if hasattr(venv, "normalize_obs") else obs
            action, _ = evaluation.model.predict(policy_obs, deterministic=True)
            obs, _, terminated, truncated, _ = env.step(action)
            step += 1
            if step % stride == 0 or terminated or truncated:
                frames.append(np.asarray(env.render())[::2, ::2])
            if terminated or truncated:
                break
        return np.hstack(frames)

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None


class ProgressBar(BaseCallback):
    """A tqdm bar over env steps whose total is the step SB3 will really stop at (see
    :func:`sportsim.train.planned_timesteps`); it starts at a resumed run's step. Lines printed through
    :meth:`write` go above the bar."""

    def __init__(self, total_steps: int) -> None:
        super().__init__()
        self.total_steps = total_steps
        self.bar: tqdm | None = None

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total_steps, initial=self.num_timesteps, unit="step", unit_scale=True,
                        dynamic_ncols=True, file=sys.stderr, mininterval=1.0)

    def _on_step(self) -> bool:
        if self.bar is not None:
            self.bar.update(self.num_timesteps - self.bar.n)
        return True

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.update(self.num_timesteps - self.bar.n)
            self.bar.close()
            self.bar = None

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)


class EvaluationLine:
    """The console's one line per evaluation (instead of SB3's tables, which ``verbose=2`` brings back):
    ``eval  step 20,000/200,704  return 12.31 +- 0.52  success 100 %  max_board_height_m 1.23  new best``."""

    def __init__(self, total_steps: int, progress: ProgressBar | None = None) -> None:
        self.total_steps, self.progress = total_steps, progress

    def __call__(self, figures: dict) -> None:
        parts = [f"eval  step {figures['step']:,}/{self.total_steps:,}",
                 f"return {figures['mean_return']:.2f} +- {figures['std_return']:.2f}"]
        if figures.get("success_rate") is not None:
            parts.append(f"success {100 * figures['success_rate']:.0f} %")
        if "headline" in figures:
            name, value = figures["headline"]
            parts.append(f"{name} {value:.4g}")
        if figures.get("new_best"):
            parts.append("new best")
        line = "  ".join(parts)
        if self.progress is not None:
            self.progress.write(line)
        else:
            print(line, flush=True)


def flat_hparams(cfg: Mapping, prefix: str = "") -> dict[str, bool | int | float | str]:
    """A config flattened to ``a.b.c`` keys with TensorBoard-HParams values (lists and null as text)."""
    out: dict[str, bool | int | float | str] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_hparams(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            out[name] = value
        else:
            out[name] = str(value)
    return out


class HParamsCallback(BaseCallback):
    """The run's hyperparameters (the whole resolved config, flattened) in TensorBoard's HParams tab,
    with the evaluation return and success rate as its metrics."""

    def __init__(self, cfg: DictConfig) -> None:
        super().__init__()
        self.hparams = flat_hparams(OmegaConf.to_container(cfg, resolve=True))

    def _on_training_start(self) -> None:
        metrics = {"eval/mean_reward": 0.0, "eval/success_rate": 0.0}
        self.logger.record("hparams", HParam(self.hparams, metrics), exclude=("stdout", "log", "json", "csv"))
        self.logger.dump(self.model.num_timesteps)

    def _on_step(self) -> bool:
        return True


class TrainingClock:
    """Wall-clock seconds spent training, carried across resumes through the checkpoints."""

    def __init__(self, already_s: float = 0.0) -> None:
        self.already_s = already_s
        self._start = time.perf_counter()

    def seconds(self) -> float:
        return round(self.already_s + time.perf_counter() - self._start, 3)


class AtomicCheckpointCallback(BaseCallback):
    """Save ``checkpoints/step_<n>/`` (see :mod:`sportsim.runs`) every ``every_steps`` env steps.

    Checkpoints are taken at the start of a rollout: the weights have just been updated and the
    on-policy rollout buffer is empty, so a resumed run continues from a consistent state.
    """

    def __init__(self, run_dir: Path, every_steps: int, keep: int | None, evaluation: EvalCallback | None = None,
                 verbose: int = 0, clock: "TrainingClock | None" = None) -> None:
        super().__init__(verbose)
        self.run_dir, self.every_steps, self.keep, self.evaluation = run_dir, every_steps, keep, evaluation
        self.clock = clock if clock is not None else TrainingClock()
        self.last_saved_step = -1
        self._last_due_step = 0

    def _init_callback(self) -> None:
        self._last_due_step = self.model.num_timesteps

    def _on_rollout_start(self) -> None:
        if self.model.num_timesteps - self._last_due_step >= self.every_steps:
            self.save_now()
            self._last_due_step = self.model.num_timesteps

    def _on_step(self) -> bool:
        return True

    def save_now(self) -> Path:
        """Checkpoint the current state unless this step is already saved; return the checkpoint dir."""
        directory = runs.checkpoint_dir(self.run_dir, self.model.num_timesteps)
        if self.model.num_timesteps != self.last_saved_step:
            history = evaluation_history(self.evaluation) if self.evaluation is not None else None
            runs.save_checkpoint(self.model, self.run_dir, self.keep, evaluations=history,
                                 extra={"train_wall_s": self.clock.seconds()})
            self.last_saved_step = self.model.num_timesteps
            if self.verbose >= 2:
                print(f"sportsim: checkpoint {directory}", flush=True)
        return directory


class SaveBestCallback(BaseCallback):
    """``callback_on_new_best`` of an EvalCallback: save the new best model as a new directory swapped in
    for ``directory`` (:func:`sportsim.runs.publish_model_dir`: a kill or a full disk keeps the previous
    best), with its normalisation statistics, the evaluation score and the step in the manifest."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def _on_step(self) -> bool:
        assert isinstance(self.parent, EvalCallback)
        runs.publish_model_dir(self.model, self.directory, extra={"mean_reward": float(self.parent.best_mean_reward),
                                                                 "step": int(self.model.num_timesteps)})
        return True


def evaluation_history(callback: EvalCallback) -> dict[str, np.ndarray]:
    """An EvalCallback's history as the arrays SB3 writes to ``evaluations.npz``."""
    history = {
        "timesteps": np.asarray(callback.evaluations_timesteps, dtype=np.int64),
        "results": np.asarray(callback.evaluations_results, dtype=np.float64),
        "ep_lengths": np.asarray(callback.evaluations_length, dtype=np.int64),
    }
    if callback.evaluations_successes:
        history["successes"] = np.asarray(callback.evaluations_successes, dtype=bool)
    return history


def restore_evaluations(callback: EvalCallback, checkpoint: Path, run_dir: Path) -> None:
    """Give a resumed run's EvalCallback the history saved with its checkpoint (so evaluations.npz
    continues instead of restarting) and the best score so far (so best/ only ever improves)."""
    path = checkpoint / runs.EVALUATIONS_FILE
    if path.is_file():
        data = runs.read_npz(path, ("timesteps", "results", "ep_lengths"))
        callback.evaluations_timesteps = data["timesteps"].tolist()
        callback.evaluations_results = data["results"].tolist()
        callback.evaluations_length = data["ep_lengths"].tolist()
        callback.evaluations_successes = data["successes"].tolist() if "successes" in data else []
    best = run_dir / runs.BEST_DIR
    if (best / runs.MANIFEST_FILE).is_file():
        callback.best_mean_reward = float(runs.read_manifest(best)["extra"].get("mean_reward", -np.inf))


class StopOnSignal(BaseCallback):
    """Ask SB3 to stop training after the current step when SIGINT or SIGTERM arrives.

    Use as a context manager around ``model.learn`` (it installs and restores the signal handlers). A
    second Ctrl-C falls back to Python's KeyboardInterrupt for an immediate abort.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        super().__init__()
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        signal.signal(signal.SIGINT, signal.default_int_handler)
        name = signal.Signals(signum).name
        print(f"\nsportsim: {name} received, saving a checkpoint and stopping (Ctrl-C again aborts)", file=sys.stderr)

    def __enter__(self) -> StopOnSignal:
        self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _on_step(self) -> bool:
        return self.received is None
