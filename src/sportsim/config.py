"""Compose, check and explain the training configuration (``configs/train.yaml`` and its groups).

Hydra's Compose API builds the config so that every mistake becomes one :class:`ConfigError` line
instead of a Hydra traceback. Config groups are searched in ``configs/`` (found through
:mod:`sportsim.paths`) and then in the folders listed in ``$SPORTSIM_CONFIG_PATH`` (``os.pathsep``
separated), which may add options such as ``env/<name>.yaml`` or ``hparams/<env>_<algo>.yaml``.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sportsim import paths
from sportsim.builders import sb3_kwarg_names, validate_algo_config
from sportsim.errors import ConfigError
from sportsim.runs import load_config

CONFIG_PATH_ENV = "SPORTSIM_CONFIG_PATH"
PRIMARY_CONFIG = "train"
CHOICE_GROUPS = ("env", "algo")  # groups whose option is validated before composing
RESUME_OVERRIDABLE = ("total_timesteps", "progress_bar", "device", "torch_threads", "verbose")
# a new run with a saved config (config_from=) may also choose where it goes and how its envs run
RETRAIN_OVERRIDABLE = (*RESUME_OVERRIDABLE, "runs_root", "vec_env", "seed")
VEC_ENV_KINDS = ("dummy", "subproc")
_MISSING = object()


# --- where configs live -------------------------------------------------------------------------

def extra_config_dirs() -> list[Path]:
    """Folders named in ``$SPORTSIM_CONFIG_PATH``, each of which must exist."""
    dirs = []
    for entry in os.environ.get(CONFIG_PATH_ENV, "").split(os.pathsep):
        if not entry:
            continue
        path = Path(entry).expanduser().resolve()
        if not path.is_dir():
            raise ConfigError(f"{CONFIG_PATH_ENV}: config folder {path} does not exist")
        dirs.append(path)
    return dirs


def search_dirs() -> list[Path]:
    return [paths.config_dir(), *extra_config_dirs()]


def declared_env_ids() -> set[str]:
    """The ``id`` of every env config in the search folders (ids the user's own configs vouch for)."""
    ids = set()
    for path in (p for d in search_dirs() for p in (d / "env").glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            ids.add(data["id"])
    return ids


def group_options(group: str) -> list[str]:
    """Sorted option names of a config group over all search folders (``<dir>/<group>/<option>.yaml``)."""
    return sorted({p.stem for d in search_dirs() for p in (d / group).glob("*.yaml")})


def _primary_defaults() -> dict[str, str]:
    """Default option of each plain group in the primary config's defaults list."""
    path = paths.config_dir() / f"{PRIMARY_CONFIG}.yaml"
    entries = yaml.safe_load(path.read_text()).get("defaults", [])
    return {k: v for entry in entries if isinstance(entry, dict) for k, v in entry.items() if "@" not in k}


def searchpath_overrides() -> list[str]:
    extras = extra_config_dirs()
    if not extras:
        return []
    quoted = ",".join("'file://" + str(d).replace("\\", "\\\\").replace("'", "\\'") + "'" for d in extras)
    return [f"hydra.searchpath=[{quoted}]"]


# --- overrides ----------------------------------------------------------------------------------

def _one_line(message: str) -> str:
    message = message.split("\nConfig search path")[0]
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


def parse_overrides(overrides: Sequence[str]) -> list[Override]:
    parser, parsed = OverridesParser.create(), []
    for line in overrides:
        try:
            parsed.extend(parser.parse_overrides([line]))
        except HydraException as exc:
            lines = [part for part in str(exc).splitlines() if not part.startswith("Error parsing override")]
            reason = _one_line("\n".join(lines))
            raise ConfigError(f"cannot parse override '{line}': {reason}") from None
    for override in parsed:
        if override.is_sweep_override():
            raise ConfigError(f"override '{override.input_line}': sweeps are not supported, run one config at a time")
    return parsed


def parse_env_overrides(lines: Sequence[str]) -> list[Override]:
    """``env.*=value`` lines (a script's changes to a trained policy's env) parsed in Hydra's grammar, as
    ``enjoy`` takes them; anything else is a one-line ConfigError."""
    parsed = parse_overrides(lines)
    for override in parsed:
        if not override.key_or_group.startswith("env."):
            raise ConfigError(f"'{override.input_line}': only env.* settings change the evaluated env")
    return parsed


def _is_group(key: str) -> bool:
    return any((d / key).is_dir() for d in search_dirs())


def _check_choices(parsed: Sequence[Override]) -> None:
    chosen = _primary_defaults()
    for override in parsed:
        if override.key_or_group in CHOICE_GROUPS and override.package is None and not override.is_delete():
            chosen[override.key_or_group] = override.value()
    for group in CHOICE_GROUPS:
        options = group_options(group)
        if chosen.get(group) not in options:
            raise ConfigError(f"unknown {group} '{chosen.get(group)}' (choose from: {', '.join(options) or 'none'})")


def _unknown_key_message(base: DictConfig, key: str) -> str:
    parent_key, _, leaf = key.rpartition(".")
    if parent_key == "algo":
        valid = ", ".join(sb3_kwarg_names(base.algo.name))
        return f"unknown SB3 argument algo.{leaf} for {base.algo.name} (valid: {valid})"
    parent = OmegaConf.select(base, parent_key) if parent_key else base
    if isinstance(parent, DictConfig):
        where = f"{parent_key}.*" if parent_key else "settings"
        valid = ", ".join(str(k) for k in parent)
        return f"unknown setting '{key}' (valid {where}: {valid}); add a new key with +{key}=..."
    return f"unknown setting '{key}'"


def _compose(overrides: Sequence[str], primary: str = PRIMARY_CONFIG) -> DictConfig:
    try:
        return compose(primary, overrides=[*searchpath_overrides(), *overrides])
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_one_line(str(exc))) from None


@contextmanager
def _compose_context() -> Iterator[None]:
    """Hydra's Compose API over ``configs/``; inside a ``@hydra.main`` job (a multirun of train or tune)
    the job's own Hydra instance is set aside meanwhile and restored afterwards."""
    global_hydra = GlobalHydra.instance()
    saved = global_hydra.hydra if global_hydra.is_initialized() else None
    global_hydra.clear()
    try:
        with initialize_config_dir(config_dir=str(paths.config_dir()), version_base=None):
            yield
    finally:
        if saved is not None:
            GlobalHydra.instance().initialize(saved)


def compose_train_config(overrides: Sequence[str], primary: str = PRIMARY_CONFIG) -> DictConfig:
    """Compose ``train.yaml`` with command-line ``overrides`` for a new run; checked and resolved.

    ``primary`` names another primary config that includes train.yaml in its defaults list and adds a
    block of its own (``tune`` for :mod:`sportsim.tune`); the train settings are checked the same way.
    """
    parsed = parse_overrides(overrides)
    with _compose_context():
        _check_choices(parsed)
        group_overrides = [o.input_line for o in parsed if _is_group(o.key_or_group)]
        base = _compose(group_overrides, primary)
        for override in parsed:
            key = override.key_or_group
            is_new_key = OmegaConf.select(base, key, default=_MISSING) is _MISSING
            if override.type == OverrideType.CHANGE and not _is_group(key) and is_new_key:
                raise ConfigError(_unknown_key_message(base, key))
        cfg = _compose(list(overrides), primary)
    return finalize(cfg)


def _apply_saved_run_overrides(cfg: DictConfig, overrides: Sequence[str], setting: str,
                               allowed: tuple[str, ...], refusal: str) -> None:
    """Apply the command-line ``overrides`` (except ``setting`` itself) to a saved config, each of which
    must be one of ``allowed``; anything else is a one-line error starting with ``refusal``."""
    for override in parse_overrides(overrides):
        key = override.key_or_group
        if key == setting:
            continue
        if key not in allowed or override.type != OverrideType.CHANGE:
            raise ConfigError(f"{setting}: '{override.input_line}' would change the saved {refusal} "
                              f"may only set {', '.join(allowed)}")
        cfg[key] = override.value()


def load_resume_config(run_dir: Path, overrides: Sequence[str]) -> DictConfig:
    """The saved config of ``run_dir`` with the few overrides a resumed run may change."""
    cfg = load_config(run_dir)
    _apply_saved_run_overrides(cfg, overrides, "resume", RESUME_OVERRIDABLE, "run config; a resumed run")
    cfg.run_dir = str(run_dir)
    cfg.resume = str(run_dir)
    return finalize(cfg)


def load_retrain_config(source: Path, overrides: Sequence[str]) -> DictConfig:
    """A new run with the exact saved config of ``source`` (a run directory or zoo entry): how a zoo entry
    is reproduced. Only where and how it runs (``RETRAIN_OVERRIDABLE``) may change."""
    cfg = load_config(source)
    cfg.runs_root = "runs"  # train.yaml's default, not wherever the source was trained
    _apply_saved_run_overrides(cfg, overrides, "config_from", RETRAIN_OVERRIDABLE,
                               f"config; a run from {source / 'config.yaml'}")
    cfg.run_dir = None
    cfg.resume = None
    cfg.config_from = str(source)
    return finalize(cfg)


def load_train_config(overrides: Sequence[str]) -> DictConfig:
    """The config for ``python -m sportsim.train <overrides>``: a new run, ``resume=<run dir>``, or a new
    run with a saved config, ``config_from=<run dir | zoo entry>``."""
    parsed = parse_overrides(overrides)
    resume = [o for o in parsed if o.key_or_group == "resume" and o.value() is not None]
    if resume:
        return load_resume_config(Path(str(resume[-1].value())).expanduser().resolve(), overrides)
    source = [o for o in parsed if o.key_or_group == "config_from" and o.value() is not None]
    if source:  # a run directory, model .zip or zoo entry (hash-checked), named as everywhere else
        from sportsim import resolve  # noqa: PLC0415 - resolve -> runs -> config

        return load_retrain_config(resolve.policy(str(source[-1].value())).location.run_dir, overrides)
    return compose_train_config(overrides)


# --- the key=value commands (enjoy, record, replay) --------------------------------------------

ENV_KEYS_HELP = "env.kwargs.<argument>=value, env.motion=<clip>"


def _parse_command_override(arg: str) -> Override:
    """One ``key=value`` in Hydra's grammar; a value the grammar cannot read (``~/clip.bvh``) is taken
    as a quoted string."""
    try:
        return parse_overrides([arg])[0]
    except ConfigError:
        key, _, value = arg.partition("=")
        quoted = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return parse_overrides([f"{key}={quoted}"])[0]


def command_options(name: str, argv: Sequence[str], options: Mapping[str, tuple[Any, Any]], usage: str,
                    positional: bool = False) -> tuple[list[str], dict[str, Any], list[Override]]:
    """The arguments of ``python -m sportsim.<name>``: ``key=value`` overrides of ``configs/<name>.yaml``
    in Hydra's grammar, the same as train's. Returns (arguments without ``=`` - an error unless
    ``positional`` -, the options checked by ``options``' parsers, and the ``env.*`` overrides, which
    change the evaluated policy's env config: :func:`apply_env_overrides`). Unknown keys and bad values
    are one-line ConfigErrors naming the option."""
    rest = [arg for arg in argv if "=" not in arg]
    if rest and not positional:
        raise ConfigError(f"expected key=value arguments, got '{rest[0]}'; usage: {usage}")
    parsed = [_parse_command_override(arg) for arg in argv if "=" in arg]
    env_overrides = [o for o in parsed if o.key_or_group.startswith("env.")]
    plain = [o for o in parsed if not o.key_or_group.startswith("env.")]
    for override in plain:
        if override.key_or_group not in options:
            raise ConfigError(f"unknown option '{override.key_or_group}' (valid: {', '.join(options)}, "
                              f"{ENV_KEYS_HELP})")
    with _compose_context():  # the defaults; the overrides are plain values (env=, algo= here are names)
        cfg = _compose([], name)
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    for override in plain:
        data[override.key_or_group] = None if override.is_delete() else override.value()
    values = {}
    for key, (parse, default) in options.items():
        value = data.get(key, default)
        try:
            values[key] = None if value is None else parse(str(value))
        except ValueError as exc:
            raise ConfigError(f"option {key}: {exc}") from None
    return rest, values, env_overrides


def apply_env_overrides(cfg: DictConfig, overrides: Sequence[Override], source: Path | str) -> list[str]:
    """Change the env config of a saved run (``env.kwargs.pipe=vert``, ``env.motion=<clip>``) before its
    policy is evaluated or recorded; returns the applied overrides. ``env.id`` and ``env.name`` stay (the
    policy is evaluated on the env it was trained on); a key the env config lacks needs ``+``."""
    applied = []
    for override in overrides:
        key = override.key_or_group
        if key in ("env.id", "env.name"):
            raise ConfigError(f"'{override.input_line}': a policy runs on the env it was trained on "
                              f"({cfg.env.id}); change its settings with {ENV_KEYS_HELP}")
        exists = OmegaConf.select(cfg, key, default=_MISSING) is not _MISSING
        if override.is_delete() or (not exists and override.type != OverrideType.ADD):
            parent = OmegaConf.select(cfg, key.rpartition(".")[0])
            valid = ", ".join(str(k) for k in parent) if isinstance(parent, DictConfig) else "none"
            raise ConfigError(f"{source}: unknown env setting '{key}' (valid {key.rpartition('.')[0]}.*: {valid}); "
                              f"add a new key with +{key}=...")
        value = override.value()
        with open_dict(cfg):
            OmegaConf.update(cfg, key, value, force_add=True)
            if key == "env.motion" and "motion" in (cfg.env.get("kwargs") or {}):
                cfg.env.kwargs.motion = value  # the saved config holds the resolved ${..motion}
        applied.append(override.input_line)
    return applied


# --- checks -------------------------------------------------------------------------------------

def _require_int(cfg: Mapping[str, Any], key: str, minimum: int, label: str | None = None) -> None:
    value = cfg[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{label or key} must be an integer >= {minimum}, got {value!r}")


def _require_bool(cfg: Mapping[str, Any], key: str, label: str | None = None) -> None:
    if not isinstance(cfg[key], bool):
        raise ConfigError(f"{label or key} must be true or false, got {cfg[key]!r}")


def _require_number(cfg: Mapping[str, Any], key: str, label: str) -> None:
    value = cfg[key]
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{label} must be a number > 0, got {value!r}")


def validate_train_config(cfg: Mapping[str, Any]) -> None:
    """Check every train.yaml setting and the algo and env groups; raise ConfigError on the first problem."""
    required = ("seed", "total_timesteps", "n_envs", "vec_env", "normalize", "eval_freq", "n_eval_episodes",
                "checkpoint_freq", "keep_checkpoints", "device", "torch_threads", "verbose", "runs_root", "run_dir",
                "resume", "progress_bar", "init", "env", "algo")
    for key in required:
        if key not in cfg:
            raise ConfigError(f"config has no '{key}' setting")
    env = cfg["env"]
    for key in ("name", "id", "default_timesteps"):
        if key not in env:
            raise ConfigError(f"env config has no '{key}' key")
    _require_int(env, "default_timesteps", 1, "env.default_timesteps")
    if not isinstance(env.get("kwargs") or {}, Mapping):
        raise ConfigError(f"env.kwargs must be a mapping, got {env['kwargs']!r}")
    _require_int(cfg, "seed", 0)
    _require_int(cfg, "total_timesteps", 1)
    _require_int(cfg, "n_envs", 1)
    if cfg["vec_env"] not in VEC_ENV_KINDS:
        raise ConfigError(f"vec_env must be one of {', '.join(VEC_ENV_KINDS)}, got {cfg['vec_env']!r}")
    norm = cfg["normalize"]
    for key in ("obs", "reward"):
        _require_bool(norm, key, f"normalize.{key}")
    for key in ("clip_obs", "clip_reward"):
        _require_number(norm, key, f"normalize.{key}")
    _require_int(cfg, "eval_freq", 0)
    _require_int(cfg, "n_eval_episodes", 1)
    if "eval_frames_every" in cfg:  # older run configs lack it
        _require_int(cfg, "eval_frames_every", 0)
    _require_int(cfg, "checkpoint_freq", 1)
    if cfg["keep_checkpoints"] is not None:
        _require_int(cfg, "keep_checkpoints", 1)
    if cfg["device"] != "auto":
        try:
            torch.device(str(cfg["device"]))
        except RuntimeError:
            message = f"device: unknown torch device {cfg['device']!r} (e.g. cpu, cuda, cuda:1, auto)"
            raise ConfigError(message) from None
        if str(cfg["device"]).startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"device={cfg['device']}: torch {torch.__version__} sees no CUDA GPU here "
                              "(a CPU-only build, or no driver); use device=cpu or device=auto")
    if cfg["torch_threads"] is not None:
        _require_int(cfg, "torch_threads", 1)
    if cfg["verbose"] not in (0, 1, 2) or isinstance(cfg["verbose"], bool):
        raise ConfigError(f"verbose must be 0, 1 or 2, got {cfg['verbose']!r}")
    _require_bool(cfg, "progress_bar")
    if cfg["init"] is not None and (not isinstance(cfg["init"], str) or not cfg["init"]):
        raise ConfigError(f"init must be null, zoo, or a run directory / model .zip path, got {cfg['init']!r}")
    validate_algo_config(cfg["algo"])


def envs_with_tasks() -> list[str]:
    """Sorted names of the env options whose config lists ``tasks``."""
    names = set()
    for path in (p for d in search_dirs() for p in (d / "env").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and "tasks" in data:
            names.add(path.stem)
    return sorted(names)


def apply_task(data: dict[str, Any]) -> None:
    """Resolve the top-level ``task`` setting in place.

    An env config that offers several tasks lists them as ``tasks``; ``task=<name>`` picks one and is
    copied into ``env.kwargs.task`` (``task: null`` keeps ``env.kwargs.task``, or the first listed).
    Afterwards ``task`` names the task that runs, so a saved config.yaml tells it. ``task`` set for an env
    without tasks is an error rather than silently ignored.
    """
    env, task = data.get("env"), data.get("task")
    if not isinstance(env, Mapping):
        return
    tasks, name = env.get("tasks"), env.get("name")
    if tasks is None:
        if task is not None:
            raise ConfigError(f"task={task}: env '{name}' has no tasks (envs with tasks: "
                              f"{', '.join(envs_with_tasks()) or 'none'})")
        return
    if not (isinstance(tasks, list) and tasks and all(isinstance(t, str) for t in tasks)):
        raise ConfigError(f"env.tasks of env '{name}' must be a non-empty list of task names, got {tasks!r}")
    kwargs = env.get("kwargs")
    if kwargs is None:
        kwargs = env["kwargs"] = {}
    if task is None:
        task = kwargs.get("task", tasks[0])
    if task not in tasks:
        raise ConfigError(f"unknown task '{task}' for env {name} (choose from: {', '.join(tasks)})")
    kwargs["task"] = task
    data["task"] = task


def finalize(cfg: DictConfig) -> DictConfig:
    """Resolve interpolations and defaults (``total_timesteps: null``, ``task``), validate, and lock the keys."""
    try:
        data = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise ConfigError(_one_line(str(exc))) from None
    assert isinstance(data, dict)
    if data.get("total_timesteps") is None and isinstance(data.get("env"), Mapping):
        data["total_timesteps"] = data["env"].get("default_timesteps")
    apply_task(data)
    validate_train_config(data)
    resolved = OmegaConf.create(data)
    OmegaConf.set_struct(resolved, True)
    return resolved


# --- help ---------------------------------------------------------------------------------------

def help_text() -> str:
    """``--help`` for ``python -m sportsim.train``: usage, group options and every setting with its comment."""
    primary = (paths.config_dir() / f"{PRIMARY_CONFIG}.yaml").read_text().split("\n# --- Hydra")[0]
    # the settings are everything after the defaults list (a top-level key starts each of them)
    settings = re.split(r"(?m)^(?=[a-z_]+:)", primary.split("defaults:", 1)[-1], maxsplit=1)[-1].strip("\n")
    defaults = _primary_defaults()
    groups = "\n".join(
        f"  {group:<7} {', '.join(group_options(group)) or '(none)'}   (default: {defaults.get(group)})"
        for group in CHOICE_GROUPS
    )
    hparams = ", ".join(group_options("hparams")) or "(none yet)"
    dirs = "\n".join(f"  {d}" for d in search_dirs())
    return f"""usage: python -m sportsim.train [env=<env>] [algo=<algo>] [key=value ...] [algo.<arg>=value ...]
       python -m sportsim.train resume=<run dir> [{'=... '.join(RESUME_OVERRIDABLE)}=...]

Train a stable-baselines3 agent on a sportsim env; everything lands in one run directory.

config groups (choose with group=option):
{groups}
  hparams tuned values merged automatically (last) from hparams/<env>_<algo>.yaml: {hparams}

settings (configs/{PRIMARY_CONFIG}.yaml; override with key=value, nested with normalize.obs=false):
{re.sub(r"(?m)^", "  ", settings)}

algorithm settings: algo.<SB3 argument>=value, e.g. algo.learning_rate=1e-3 (see configs/algo/<algo>.yaml);
  a valid SB3 argument missing from that file is added with +algo.<arg>=value.

config folders searched (add more with {CONFIG_PATH_ENV}=dir1{os.pathsep}dir2):
{dirs}

examples:
  python -m sportsim.train env=halfpipe algo=ppo seed=3 n_envs=2 total_timesteps=50000 algo.learning_rate=1e-3
  python -m sportsim.train resume=runs/halfpipe/ppo/20250101-120000_seed3 total_timesteps=100000
  python -m sportsim.train config_from=zoo:halfpipe/ppo            # a zoo entry's exact config (see sportsim.resolve)

Hydra's options (through @hydra.main): -m/--multirun with sweeps (seed=0,1,2) and launchers
(hydra/launcher=joblib hydra.launcher.n_jobs=3; submitit_slurm, ray as extras), --cfg job|hydra, --info,
shell completion (eval "$(sportsim-train -sc install=bash)"):
  python -m sportsim.train -m env=halfpipe seed=0,1,2 hydra/launcher=joblib
"""
