"""Tune an algorithm's hyperparameters on an env with Optuna, on one machine or on many.

    python -m sportsim.tune env=halfpipe algo=ppo tune.n_trials=50
    python -m sportsim.tune env=halfpipe algo=ppo tune.storage=postgresql://user:password@db-host:5432/tune
    python -m sportsim.tune --help

A trial is a short training run, configured exactly like ``python -m sportsim.train`` with the same
overrides plus the values a TPE sampler draws from the search space (``configs/tune/space/<algo>.yaml``,
data like every hyperparameter). It evaluates every ``eval_freq`` steps and reports each evaluation to
a median pruner, which stops trials that fall behind. The study lives in an Optuna RDB storage, SQLite
in the tune directory by default, so the same command continues it; a PostgreSQL URL lets workers on
many machines share it. Workers record heartbeats: a trial whose worker died is marked FAIL and queued
again. Each worker runs trials until the study holds ``tune.n_trials`` finished ones.

Tune directory ``<tune_root>/<study_name>/``::

    study.db             the SQLite storage (default storage only)
    trials/<n>/          trial.json (drawn values, worker, the train command), config.yaml, evaluations.npz
    best_hparams.yaml    the best trial as a configs/hparams/ file
    summary.md           every trial: state, value, duration, values

Reads top to bottom: settings -> search space -> storage and study -> trials -> results -> main.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import socket
import textwrap
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
import torch
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from optuna.trial import FrozenTrial, TrialState
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv

from sportsim import builders, config, paths, runs, train
from sportsim.cli import EXIT_INTERRUPTED, run_cli, run_hydra_app, wants_hydra
from sportsim.errors import ConfigError

PRIMARY_CONFIG = "tune"  # configs/tune.yaml: train.yaml + the tune block
SPACE_DIR = "tune/space"
STUDY_DB = "study.db"
TRIALS_DIR = "trials"
TRIAL_FILE = "trial.json"
BEST_FILE = "best_hparams.yaml"
SUMMARY_FILE = "summary.md"
METRICS = ("mean_reward", "best_mean_reward")
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)  # the states that count towards tune.n_trials
HPARAMS_KEYS = ("algo", "n_envs", "normalize")  # what a configs/hparams/ file may set (besides total_timesteps)
NOT_FOR_TRIALS = ("resume", "run_dir", "total_timesteps")  # train settings that tune sets per trial
SCHEMA_ATTEMPTS = 5  # workers starting together race to create the storage's tables; the losers retry
TOP_N = 5


# --- settings -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TuneSettings:
    """The checked ``tune:`` block, with its null defaults resolved."""

    n_trials: int
    trial_timesteps: int
    metric: str
    space: Path
    n_startup_trials: int
    n_warmup_steps: int
    seed: int | None
    storage: str           # SQLAlchemy URL
    study_name: str
    tune_dir: Path
    heartbeat_interval_s: int
    grace_period_s: int
    max_retry: int


def _one_line(error: object) -> str:
    return " ".join(str(error).split())


def _int(block: Mapping[str, Any], key: str, minimum: int) -> int:
    value = block[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"tune.{key} must be an integer >= {minimum}, got {value!r}")
    return value


def space_file(cfg: DictConfig) -> Path:
    """``tune.space``, or ``tune/space/<algo>.yaml`` from the config folders ($SPORTSIM_CONFIG_PATH ones first)."""
    if cfg.tune.space is not None:
        path = Path(str(cfg.tune.space)).expanduser()
        if not path.is_file():
            raise ConfigError(f"tune.space: search-space file {path} does not exist")
        return path
    for folder in reversed(config.search_dirs()):
        path = folder / SPACE_DIR / f"{cfg.algo.name}.yaml"
        if path.is_file():
            return path
    options = ", ".join(config.group_options(SPACE_DIR)) or "none"
    raise ConfigError(f"no search space for algo {cfg.algo.name} (tune/space/{cfg.algo.name}.yaml; "
                      f"spaces: {options}); write one or pass tune.space=<file>")


def storage_url(storage: str | None, tune_dir: Path) -> str:
    """The SQLAlchemy URL of the study's storage: SQLite in the tune dir by default. A plain
    ``postgresql://`` URL is pinned to the psycopg2 driver (``pip install 'sportsim[postgres]'``)."""
    if storage is None:
        return f"sqlite:///{(tune_dir / STUDY_DB).resolve()}"
    scheme, sep, rest = str(storage).partition("://")
    if not sep:
        raise ConfigError(f"tune.storage must be a database URL such as postgresql://user:password@host:5432/db, "
                          f"got {storage!r}")
    return f"postgresql+psycopg2://{rest}" if scheme == "postgresql" else str(storage)


def shown_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for files and logs)."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return url


def tune_settings(cfg: DictConfig) -> TuneSettings:
    """Check the ``tune:`` block of a composed tune config and resolve its defaults."""
    block = OmegaConf.to_container(cfg.tune, resolve=True)
    assert isinstance(block, dict)
    if cfg.eval_freq < 1:
        raise ConfigError("eval_freq must be >= 1 for tuning: trials are judged by their evaluations")
    trial_timesteps = cfg.env.default_timesteps // 4 if block["trial_timesteps"] is None else \
        _int(block, "trial_timesteps", 1)
    if trial_timesteps < cfg.eval_freq:
        raise ConfigError(f"tune.trial_timesteps={trial_timesteps} < eval_freq={cfg.eval_freq}: "
                          f"a trial would never be evaluated")
    if block["metric"] not in METRICS:
        raise ConfigError(f"tune.metric must be one of {', '.join(METRICS)}, got {block['metric']!r}")
    warmup = trial_timesteps // 3 if block["n_warmup_steps"] is None else _int(block, "n_warmup_steps", 0)
    seed = None if block["seed"] is None else _int(block, "seed", 0)
    heartbeat, grace = _int(block, "heartbeat_interval_s", 1), _int(block, "grace_period_s", 1)
    if grace <= heartbeat:
        raise ConfigError(f"tune.grace_period_s={grace} must be longer than tune.heartbeat_interval_s={heartbeat}")
    name = block["study_name"] or "_".join(str(p) for p in (cfg.env.name, cfg.algo.name, cfg.task) if p is not None)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", str(name)):
        raise ConfigError(f"tune.study_name must be letters, digits, '_', '.', '-', got {name!r}")
    tune_dir = Path(str(block["tune_root"])).expanduser() / str(name)
    return TuneSettings(
        n_trials=_int(block, "n_trials", 1), trial_timesteps=trial_timesteps, metric=block["metric"],
        space=space_file(cfg), n_startup_trials=_int(block, "n_startup_trials", 0), n_warmup_steps=warmup,
        seed=seed, storage=storage_url(block["storage"], tune_dir), study_name=str(name), tune_dir=tune_dir,
        heartbeat_interval_s=heartbeat, grace_period_s=grace, max_retry=_int(block, "max_retry", 0),
    )


def _config_file(name: str) -> dict[str, Any]:
    return yaml.safe_load((paths.config_dir() / f"{name}.yaml").read_text())


def expand_tune_keys(argv: Sequence[str]) -> list[str]:
    """``n_trials=50`` is short for ``tune.n_trials=50``: a tune setting whose name no train setting has
    may be given without the ``tune.`` prefix."""
    bare_tune_keys = set(_config_file(PRIMARY_CONFIG)["tune"]) - set(_config_file(config.PRIMARY_CONFIG))
    out = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        out.append(f"tune.{key}={value}" if sep and key in bare_tune_keys else arg)
    return out


def split_overrides(argv: Sequence[str]) -> list[str]:
    """The train overrides among ``argv`` (every trial's config starts from them); a train setting that
    tune decides per trial is an error."""
    train_overrides = []
    for override in config.parse_overrides(argv):
        key = override.key_or_group
        if key == "tune" or key.startswith("tune."):
            continue
        if key in NOT_FOR_TRIALS:
            raise ConfigError(f"'{override.input_line}': tune sets {key} for every trial "
                              f"(trial length: tune.trial_timesteps)")
        train_overrides.append(override.input_line)
    return train_overrides


# --- search space -------------------------------------------------------------------------------

_FIELDS = {"float": {"low", "high", "log", "step"}, "int": {"low", "high", "log", "step"}, "categorical": {"choices"}}
_PRIMITIVES = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class Dimension:
    """One searched setting: ``key`` as written on the command line and the distribution of its values.
    Optuna stores categorical values that are not plain scalars (network shapes) as their JSON text."""

    key: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def labels(self) -> list[Any]:
        if all(isinstance(c, _PRIMITIVES) for c in self.choices):
            return list(self.choices)
        return [json.dumps(c) for c in self.choices]

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return self.value(trial.suggest_categorical(self.key, self.labels()))

    def value(self, param: Any) -> Any:
        """The setting's value for a parameter as Optuna stores it."""
        return self.choices[self.labels().index(param)] if self.kind == "categorical" else param

    def probe(self, i: int) -> Any:
        """A value for the ``i``-th probe config: the bounds in turn, or every choice in turn."""
        if self.kind == "categorical":
            return self.choices[i % len(self.choices)]
        bound = self.low if i % 2 == 0 else self.high
        return int(bound) if self.kind == "int" else float(bound)


def _dimension(path: Path, key: Any, spec: Any) -> Dimension:
    where = f"search space {path}: {key}"
    if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        raise ConfigError(f"search space {path}: {key!r} is not a setting name such as algo.learning_rate")
    if key in ("env", "algo", "hparams", "task") or key.split(".")[0] == "tune" or key in NOT_FOR_TRIALS:
        raise ConfigError(f"{where}: this setting cannot be searched")
    if not isinstance(spec, dict) or spec.get("type") not in _FIELDS:
        raise ConfigError(f"{where}: expected {{type: float|int|categorical, ...}}, got {spec!r}")
    kind = spec["type"]
    unknown = set(spec) - _FIELDS[kind] - {"type"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))} for type {kind} "
                          f"(valid: {', '.join(sorted(_FIELDS[kind]))})")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: choices must be a non-empty list, got {choices!r}")
        dim = Dimension(key, kind, choices=tuple(choices))
        if len(set(map(json.dumps, dim.labels()))) != len(choices):
            raise ConfigError(f"{where}: choices repeat a value: {choices!r}")
        return dim
    number = int if kind == "int" else (int, float)
    low, high, log, step = spec.get("low"), spec.get("high"), spec.get("log", False), spec.get("step")
    for name, value in (("low", low), ("high", high), ("step", step)):
        if (value is not None or name != "step") and (not isinstance(value, number) or isinstance(value, bool)):
            raise ConfigError(f"{where}: {name} must be {'an integer' if kind == 'int' else 'a number'}, got {value!r}")
    if low > high:
        raise ConfigError(f"{where}: low {low} > high {high}")
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: log must be true or false, got {log!r}")
    if log and (low <= 0 or step is not None):
        raise ConfigError(f"{where}: log: true needs low > 0 and no step")
    if step is not None and step <= 0:
        raise ConfigError(f"{where}: step must be > 0, got {step}")
    return Dimension(key, kind, low=low, high=high, log=log, step=step)


def load_space(path: Path) -> list[Dimension]:
    """The dimensions of a search-space file, each checked; a mistake is one ConfigError naming file and key."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"search space {path}: cannot read it ({_one_line(exc)})") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"search space {path}: expected a mapping of settings to distributions")
    return [_dimension(path, key, spec) for key, spec in data.items()]


def _reads_back(text: str) -> bool:
    """Whether Hydra reads the unquoted ``text`` back as the same string (not a number, bool, null, list)."""
    try:
        return OverridesParser.create().parse_override(f"key={text}").value() == text
    except HydraException:
        return False


def hydra_value(value: Any) -> str:
    """``value`` as Hydra override syntax."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if _reads_back(value):
            return value  # relu, lin_3e-4: plain words stay readable
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write {value!r} as an override")


def override(key: str, value: Any) -> str:
    """A command-line override setting ``key``; ``algo.*`` keys may add SB3 arguments missing from
    configs/algo/<algo>.yaml (they are still checked against the SB3 constructor)."""
    return f"{'++' if key.startswith('algo.') else ''}{key}={hydra_value(value)}"


def check_space(space: list[Dimension], path: Path, train_overrides: Sequence[str]) -> None:
    """Compose train configs with the space's bounds and every choice, so that a key naming no setting or
    a value of the wrong type fails now, naming the file, instead of in the middle of the study."""
    n_probes = max([2, *(len(d.choices) for d in space)])
    for i in range(n_probes):
        try:
            config.compose_train_config([*train_overrides, *(override(d.key, d.probe(i)) for d in space)])
        except ConfigError as exc:
            raise ConfigError(f"search space {path}: {exc}") from None


# --- storage and study --------------------------------------------------------------------------

def open_storage(s: TuneSettings) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage with heartbeats: a trial whose worker stops beating for ``grace_period_s``
    is marked FAIL (by the next worker that starts a trial) and queued again with the same values."""
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=s.max_retry)
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(s.storage, heartbeat_interval=s.heartbeat_interval_s,
                                              grace_period=s.grace_period_s, heartbeat_stale_trial_callback=retry)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.5 * (attempt + 1))  # another worker is creating the tables right now
        except ImportError:
            raise ConfigError(f"tune.storage {shown_url(s.storage)}: its database driver is not installed "
                              f"(PostgreSQL: pip install 'sportsim[postgres]')") from None
        except sqlalchemy.exc.SQLAlchemyError as exc:
            reason = _one_line(getattr(exc, "orig", None) or exc)
            raise ConfigError(f"tune.storage {shown_url(s.storage)}: cannot open it: {reason}") from None
    raise AssertionError("unreachable")


def _worker_alive(pid: int) -> bool:
    """Whether process ``pid`` on this machine is still a sportsim worker (not dead, not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    return not cmdline.is_file() or b"sportsim" in cmdline.read_bytes()


def fail_dead_local_trials(study: optuna.Study, s: TuneSettings) -> list[int]:
    """Trials left RUNNING by a worker of this machine that no longer runs (killed, crashed) are marked
    FAIL and queued again with the same values (at most ``tune.max_retry`` times) at once - the
    heartbeat's grace period covers workers on other machines. Returns their numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=s.max_retry)
    host, failed = socket.gethostname(), []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker") or {}
        if worker.get("host") != host or _worker_alive(int(worker.get("pid", -1))):
            continue
        if study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL):
            retry(study, study._storage.get_trial(trial._trial_id))
            failed.append(trial.number)
    return failed


def study_identity(cfg: DictConfig, s: TuneSettings) -> dict[str, Any]:
    """What makes the values of two trials comparable; a study keeps the identity it was created with."""
    return {"env": cfg.env.name, "algo": cfg.algo.name, "task": cfg.task, "metric": s.metric,
            "trial_timesteps": s.trial_timesteps}


def make_pruner(s: TuneSettings) -> optuna.pruners.BasePruner:
    """The median pruner: once ``n_startup_trials`` trials are complete, a trial past ``n_warmup_steps``
    whose evaluation is below the median of the other trials' evaluations at the same step stops."""
    return optuna.pruners.MedianPruner(n_startup_trials=s.n_startup_trials, n_warmup_steps=s.n_warmup_steps)


def open_study(cfg: DictConfig, s: TuneSettings, storage: optuna.storages.RDBStorage) -> optuna.Study:
    """Create the study, or load it when it exists (another worker's, or an earlier run of this command)."""
    new = s.study_name not in optuna.get_all_study_names(storage)
    trials_dir = s.tune_dir / TRIALS_DIR
    if new and trials_dir.is_dir() and any(trials_dir.iterdir()):
        raise ConfigError(f"{trials_dir} holds trials of a study that {shown_url(s.storage)} no longer has; "
                          f"move it away or choose another tune.study_name")
    study = optuna.create_study(storage=storage, study_name=s.study_name, direction="maximize",
                                pruner=make_pruner(s), load_if_exists=True)
    identity, recorded = study_identity(cfg, s), study.user_attrs.get("sportsim")
    if recorded is None:
        study.set_user_attr("sportsim", identity)
    elif recorded != identity:
        changed = ", ".join(f"{k}={recorded.get(k)!r} (now {v!r})" for k, v in identity.items() if recorded.get(k) != v)
        raise ConfigError(f"study {s.study_name} was created with {changed}; its values would not compare: "
                          f"choose another tune.study_name")
    # constant_liar: workers running in parallel avoid proposing the values another worker is running
    seed = None if s.seed is None else s.seed + len(study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=s.n_startup_trials, constant_liar=True)
    return study


def n_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


# --- trials -------------------------------------------------------------------------------------

class TrialEvalCallback(EvalCallback):
    """SB3's EvalCallback (history in ``evaluations.npz``) that reports each evaluation to an Optuna trial
    and stops training once the pruner calls the trial hopeless. Evaluations are reported at their
    nominal step, k * eval_freq, so that trials with different n_envs compare at the same steps."""

    def __init__(self, trial: optuna.Trial, eval_env: VecEnv, cfg: DictConfig, metric: str, log_dir: Path) -> None:
        super().__init__(eval_env, n_eval_episodes=cfg.n_eval_episodes,
                         eval_freq=max(cfg.eval_freq // cfg.n_envs, 1),  # SB3 counts calls, one per n_envs steps
                         log_path=str(log_dir), deterministic=True, verbose=0)
        self.trial, self.metric, self.every_steps = trial, metric, cfg.eval_freq
        self.pruned_at: int | None = None

    def value(self) -> float | None:
        """The trial's metric so far (None before the first evaluation)."""
        if not self.evaluations_results:
            return None
        return float(self.best_mean_reward if self.metric == "best_mean_reward" else self.last_mean_reward)

    def _on_step(self) -> bool:
        done_before = len(self.evaluations_results)
        keep_going = super()._on_step()
        if len(self.evaluations_results) > done_before:
            step = len(self.evaluations_results) * self.every_steps
            self.trial.report(self.value(), step)
            if self.trial.should_prune():
                self.pruned_at = step
                return False
        return keep_going


def _prune(trial: optuna.Trial, reason: str) -> optuna.TrialPruned:
    trial.set_user_attr("pruned", reason)
    return optuna.TrialPruned(reason)


def _check_combination(cfg: DictConfig) -> str | None:
    """Why SB3 cannot train this draw sensibly, or None."""
    if cfg.algo.name == "ppo" and cfg.algo.batch_size > cfg.algo.n_steps * cfg.n_envs:
        return f"batch_size {cfg.algo.batch_size} > n_steps * n_envs = {cfg.algo.n_steps * cfg.n_envs}"
    return None


def run_trial(trial: optuna.Trial, space: Sequence[Dimension], train_overrides: Sequence[str], s: TuneSettings) -> float:
    """The objective: draw values, compose the trial's train config, train with evaluations, return the metric."""
    values = {d.key: d.suggest(trial) for d in space}
    overrides = [*train_overrides, *(override(k, v) for k, v in values.items()),
                 f"total_timesteps={s.trial_timesteps}"]
    trial.set_user_attr("overrides", overrides)
    trial.set_user_attr("worker", {"host": socket.gethostname(), "pid": os.getpid()})
    cfg = config.compose_train_config(overrides)
    trial_dir = s.tune_dir / TRIALS_DIR / f"{trial.number:04d}"
    cfg.run_dir = str(trial_dir.resolve())
    runs.save_config(cfg, trial_dir)
    record = {"number": trial.number, "values": values, "host": socket.gethostname(), "pid": os.getpid(),
              "started": datetime.now().isoformat(timespec="seconds"),
              "train_command": shlex.join(["python", "-m", "sportsim.train", *overrides])}
    text = json.dumps(record, indent=2).encode()
    runs.atomic_write(trial_dir / TRIAL_FILE, lambda f: f.write(text))  # also marks the trial's worker
    invalid = _check_combination(cfg)
    if invalid:
        raise _prune(trial, f"invalid combination: {invalid}")

    set_random_seed(cfg.seed)
    train_env, eval_env = train.make_envs(cfg, cfg.seed)
    try:
        try:
            model = builders.build_algorithm(cfg, train_env, seed=cfg.seed)
        except ConfigError as exc:
            raise _prune(trial, f"invalid combination: {exc}") from None
        evaluation = TrialEvalCallback(trial, eval_env, cfg, s.metric, trial_dir)
        try:
            model.learn(total_timesteps=cfg.total_timesteps, callback=evaluation, progress_bar=False)
        except ValueError as exc:  # torch rejects NaN parameters: these values make training diverge
            raise _prune(trial, f"training diverged: {_one_line(exc)[:200]}") from None
    finally:
        train_env.close()
        eval_env.close()
    value = evaluation.value()
    if evaluation.pruned_at is not None:
        raise _prune(trial, f"stopped by the pruner at step {evaluation.pruned_at} ({s.metric} {value:.4g})")
    assert value is not None  # trial_timesteps >= eval_freq
    return value


def _values_text(trial: FrozenTrial, digits: int = 4) -> str:
    """``key=value`` for every drawn value, floats rounded (for tables and logs, not for configs)."""
    def show(value: Any) -> str:
        if isinstance(value, float):
            return format(value, f".{digits}g")
        return str(value).lower() if isinstance(value, bool) or value is None else str(value)
    return " ".join(f"{key}={show(value)}" for key, value in trial.params.items())


def print_trial(study: optuna.Study, trial: FrozenTrial) -> None:
    """Optuna callback: one line per finished trial."""
    seconds = trial.duration.total_seconds() if trial.duration else math.nan
    outcome = f"{trial.value:.4g}" if trial.value is not None else trial.user_attrs.get("pruned", "")
    print(f"sportsim: trial {trial.number} {trial.state.name.lower()} in {seconds:.1f} s: {outcome} | "
          f"{_values_text(trial, 3)}", flush=True)


# --- results ------------------------------------------------------------------------------------

def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


class _HparamsDumper(yaml.SafeDumper):
    """Block mappings and one-line lists (``net_arch: [64, 64]``), like the hand-written hparams files."""


_HparamsDumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def _hparams_settings(cfg: DictConfig) -> dict[str, Any]:
    data = OmegaConf.to_container(cfg)
    assert isinstance(data, dict)
    return _flatten({key: data[key] for key in HPARAMS_KEYS})


def best_hparams_text(best: FrozenTrial, n_done: int, cfg: DictConfig, s: TuneSettings,
                      space: Sequence[Dimension]) -> str:
    """The best trial as a ``configs/hparams/`` file: its algo, n_envs and normalize settings that differ
    from configs/algo/<algo>.yaml and train.yaml (searched values and the trials' fixed ones alike)."""
    tuned = config.compose_train_config(best.user_attrs["overrides"])
    plain = config.compose_train_config([f"env={cfg.env.name}", f"algo={cfg.algo.name}", "~hparams"])
    tuned_flat, plain_flat = _hparams_settings(tuned), _hparams_settings(plain)
    changed = {k: v for k, v in tuned_flat.items() if k not in plain_flat or plain_flat[k] != v}
    target = f"{cfg.env.name}_{cfg.algo.name}"
    header = [
        "# @package _global_",
        f"# {cfg.algo.name.upper()} on {cfg.env.id}, tuned by python -m sportsim.tune ({datetime.now():%Y-%m-%d %H:%M}):",
        f"# study {s.study_name} in {shown_url(s.storage)}, best of {n_done} finished trials:",
        f"# trial {best.number}, {s.metric} {best.value:.6g} after {s.trial_timesteps} env steps (seed {tuned.seed}).",
        *textwrap.wrap(f"Searched ({s.space.name}): {', '.join(d.key for d in space) or 'nothing'}.", 110,
                       initial_indent="# ", subsequent_indent="#   "),
        f"# The other values are the trials' fixed settings that differ from configs/algo/{cfg.algo.name}.yaml and",
        "# train.yaml. Trials are short: set total_timesteps (here or on the command line) for a full run.",
        f"# Use: copy to configs/hparams/{target}.yaml (python -m sportsim.train env={cfg.env.name} algo={cfg.algo.name}",
        f"# then merges it), or to <dir>/hparams/{target}_tuned.yaml and add hparams={target}_tuned to the train",
        "# command, with SPORTSIM_CONFIG_PATH=<dir> (configs/hparams/ is searched first, so keep the new name).",
    ]
    body = yaml.dump(_nest(changed), Dumper=_HparamsDumper, sort_keys=False) if changed else ""
    return "\n".join(header) + "\n" + body


def summary_text(study: optuna.Study, s: TuneSettings, ranked: Sequence[FrozenTrial]) -> str:
    """summary.md: counts, the best trial and one table row per trial (complete best first, then the rest)."""
    trials = study.get_trials(deepcopy=False)
    counts = ", ".join(f"{sum(t.state == state for t in trials)} {state.name.lower()}" for state in TrialState)
    rest = [t for t in trials if t.state != TrialState.COMPLETE]
    rows = []
    for t in [*ranked, *rest]:
        state = t.state.name.lower() + (f" (retry of {t.system_attrs['failed_trial']})"
                                         if "failed_trial" in t.system_attrs else "")
        value = f"{t.value:.6g}" if t.value is not None else ""
        seconds = f"{t.duration.total_seconds():.1f}" if t.duration else ""
        rows.append(f"| {t.number} | {state} | {value} | {seconds} | {_values_text(t)} |")
    best = f"trial {ranked[0].number}, {s.metric} {ranked[0].value:.6g} ({BEST_FILE})" if ranked else "none yet"
    lines = [
        f"# Study {s.study_name}", "",
        f"- storage: {shown_url(s.storage)}",
        f"- objective: {s.metric} (maximised) after {s.trial_timesteps} env steps per trial; search space {s.space}",
        f"- trials: {counts}; n_trials {s.n_trials} counts complete + pruned",
        f"- best: {best}",
        f"- written {datetime.now():%Y-%m-%d %H:%M:%S} by {socket.gethostname()} (pid {os.getpid()})", "",
        "| trial | state | value | duration_s | values |", "|---:|---|---:|---:|---|", *rows,
    ]
    return "\n".join(lines) + "\n"


def write_results(study: optuna.Study, cfg: DictConfig, s: TuneSettings, space: Sequence[Dimension]) -> None:
    """Write summary.md and best_hparams.yaml (atomically, in the tune dir) and print the best trials."""
    ranked = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: -t.value)
    summary = summary_text(study, s, ranked).encode()
    runs.atomic_write(s.tune_dir / SUMMARY_FILE, lambda f: f.write(summary))
    print(f"sportsim: study {s.study_name}: {n_finished(study)} finished trials of n_trials={s.n_trials}, "
          f"{len(ranked)} complete")
    if ranked:
        print(f"sportsim: best trials by {s.metric}:")
        for t in ranked[:TOP_N]:
            print(f"  trial {t.number:>4}  {t.value:>10.4g}  {_values_text(t, 3)}")
        best = best_hparams_text(ranked[0], n_finished(study), cfg, s, space).encode()
        runs.atomic_write(s.tune_dir / BEST_FILE, lambda f: f.write(best))
        print(f"sportsim: best hyperparameters {s.tune_dir / BEST_FILE} "
              f"(copy to configs/hparams/{cfg.env.name}_{cfg.algo.name}.yaml to train with them)")
    else:
        print("sportsim: no complete trial yet, so no best_hparams.yaml")
    print(f"sportsim: every trial: {s.tune_dir / SUMMARY_FILE}")
    print(f"sportsim: watch with: optuna-dashboard {s.storage}", flush=True)


# --- entry point --------------------------------------------------------------------------------

def help_text() -> str:
    """``--help``: usage, the tune settings with their comments, the search spaces."""
    text = (paths.config_dir() / f"{PRIMARY_CONFIG}.yaml").read_text()
    block = text.split("\ntune:\n", 1)[1].rstrip("\n")
    spaces = ", ".join(config.group_options(SPACE_DIR)) or "(none)"
    return f"""usage: python -m sportsim.tune [env=<env>] [algo=<algo>] [tune.<key>=value ...] [train setting=value ...]

Tune an algorithm's hyperparameters on an env with Optuna (TPE sampler, median pruner on evaluations).
Trials are short training runs: every train setting (python -m sportsim.train --help) configures them.

tune settings (configs/{PRIMARY_CONFIG}.yaml; override with tune.<key>=value):
{block}

search spaces (tune/space/<algo>.yaml in the config folders): {spaces}
  <setting>: {{type: float|int, low: <n>, high: <n>, log: <bool>, step: <n>}} or {{type: categorical, choices: [...]}}

examples:
  python -m sportsim.tune env=halfpipe algo=ppo tune.n_trials=50
  python -m sportsim.tune env=halfpipe algo=ppo tune.storage=postgresql://user:password@db-host:5432/tune   # every machine
"""


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(help_text())
        return 0
    if wants_hydra(argv):  # -m (a study per job: env=halfpipe,highbar), hydra/launcher=..., --cfg, -sc
        return run_hydra_app([*expand_tune_keys(argv), *config.searchpath_overrides()], str(paths.config_dir()),
                             PRIMARY_CONFIG, job=main,
                             precheck=lambda o: tune_settings(config.compose_train_config(o, primary=PRIMARY_CONFIG)))
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # sportsim prints one line per trial instead
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    # 1. Config: train.yaml + the tune block; the train overrides start every trial's config.
    argv = expand_tune_keys(argv)
    train_overrides = split_overrides(argv)
    cfg = config.compose_train_config(argv, primary=PRIMARY_CONFIG)
    s = tune_settings(cfg)

    # 2. Search space: checked; settings fixed on the command line are left out; probed against the config.
    fixed = {o.key_or_group for o in config.parse_overrides(train_overrides)}
    space = [d for d in load_space(s.space) if d.key not in fixed]
    check_space(space, s.space, train_overrides)
    if cfg.torch_threads is not None:
        torch.set_num_threads(cfg.torch_threads)

    # 3. Storage and study: created by the first worker, joined (or resumed) by every later one.
    s.tune_dir.mkdir(parents=True, exist_ok=True)
    study = open_study(cfg, s, open_storage(s))
    for number in fail_dead_local_trials(study, s):
        print(f"sportsim: trial {number} was left running by a worker that died; marked failed and queued again")
    done = n_finished(study)
    print(f"sportsim: study {s.study_name} in {shown_url(s.storage)}: {done} of n_trials={s.n_trials} finished")
    print(f"sportsim: tune directory {s.tune_dir}; searching {', '.join(d.key for d in space)} ({s.space})")
    print(f"sportsim: watch with: optuna-dashboard {s.storage}", flush=True)

    # 4. Trials until the study holds n_trials finished ones (all workers together; retries of dead
    #    workers' trials count once they finish).
    if done >= s.n_trials:
        print(f"sportsim: the study already holds {done} finished trials; pass a larger tune.n_trials to tune further")
    else:
        try:
            study.optimize(lambda trial: run_trial(trial, space, train_overrides, s),
                           callbacks=[optuna.study.MaxTrialsCallback(s.n_trials, states=FINISHED), print_trial])
        except KeyboardInterrupt:
            print("sportsim: stopped; run the same command again to continue the study", flush=True)
            return EXIT_INTERRUPTED
    optuna.storages.fail_stale_trials(study)  # trials of dead workers past their grace period

    # 5. Results: summary.md, best_hparams.yaml, the best trials on stdout.
    write_results(study, cfg, s, space)
    return 0


def cli() -> None:
    """The ``sportsim-tune`` console script (same as ``python -m sportsim.tune``; Hydra's shell completion
    installs for it: ``eval "$(sportsim-tune -sc install=bash)"``)."""
    run_cli(main)


if __name__ == "__main__":
    run_cli(main)
