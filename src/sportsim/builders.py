"""Turn configuration data into live objects: Gymnasium envs, vectorised envs, SB3 algorithms.

Algorithm hyperparameters are plain data in ``configs/algo/*.yaml``. The few values SB3 wants as
Python objects are written by name and mapped here (``activation_fn: tanh`` -> ``torch.nn.Tanh``,
``learning_rate: lin_3e-4`` -> a linear schedule); nothing from a config is ever evaluated as code.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import gymnasium as gym
from omegaconf import DictConfig, OmegaConf

from sportsim.errors import ConfigError

if TYPE_CHECKING:  # torch and SB3 are imported where they are used: make_env alone stays light
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

# algo.name -> SB3 class name; activation_fn name -> torch.nn class name (the class tables, ALGORITHMS
# and ACTIVATIONS, are built on first use: see __getattr__)
ALGORITHM_CLASSES = {"a2c": "A2C", "ppo": "PPO", "sac": "SAC"}
ACTIVATION_CLASSES = {"tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "leaky_relu": "LeakyReLU", "gelu": "GELU",
                      "silu": "SiLU"}


def __getattr__(name: str) -> Any:
    """``ALGORITHMS`` (name -> SB3 class) and ``ACTIVATIONS`` (name -> torch.nn class), imported on first use."""
    if name == "ALGORITHMS":
        import stable_baselines3  # noqa: PLC0415

        return {key: getattr(stable_baselines3, cls) for key, cls in ALGORITHM_CLASSES.items()}
    if name == "ACTIVATIONS":
        from torch import nn  # noqa: PLC0415

        return {key: getattr(nn, cls) for key, cls in ACTIVATION_CLASSES.items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# Keys of an `algo` config that are not SB3 constructor arguments.
ALGO_META_KEYS = ("name", "policy")
# Constructor arguments that sportsim sets from train.yaml (seed, device, ...) or from the run itself.
_SET_BY_SPORTSIM = {"self", "policy", "env", "seed", "device", "verbose", "tensorboard_log", "_init_setup_model"}
# Constructor arguments that need Python objects, which a data-only config cannot express.
_NEEDS_PYTHON_OBJECT = {"action_noise", "replay_buffer_class", "rollout_buffer_class"}
_SCHEDULE_KEYS = {"learning_rate", "clip_range", "clip_range_vf"}
_SCHEDULE_PREFIX = "lin_"
# Range checks on numeric hyperparameters: key -> (description, test).
_RANGES: dict[str, tuple[str, Any]] = {
    "learning_rate": ("> 0", lambda v: v > 0),
    "n_steps": (">= 1", lambda v: v >= 1),
    "batch_size": (">= 1", lambda v: v >= 1),
    "n_epochs": (">= 1", lambda v: v >= 1),
    "buffer_size": (">= 1", lambda v: v >= 1),
    "learning_starts": (">= 0", lambda v: v >= 0),
    "gamma": ("in (0, 1]", lambda v: 0 < v <= 1),
    "gae_lambda": ("in [0, 1]", lambda v: 0 <= v <= 1),
    "tau": ("in (0, 1]", lambda v: 0 < v <= 1),
    "clip_range": ("> 0", lambda v: v > 0),
    "vf_coef": (">= 0", lambda v: v >= 0),
    "max_grad_norm": ("> 0", lambda v: v > 0),
    "target_update_interval": (">= 1", lambda v: v >= 1),
}
ENV_INFO_KEYWORDS = ("is_success",)


def algorithm_class(name: str) -> type[BaseAlgorithm]:
    if name not in ALGORITHM_CLASSES:
        raise ConfigError(f"unknown algo.name '{name}' (choose from: {', '.join(sorted(ALGORITHM_CLASSES))})")
    import stable_baselines3  # noqa: PLC0415

    return getattr(stable_baselines3, ALGORITHM_CLASSES[name])


def _constructor_defaults(cls: type) -> dict[str, Any]:
    """Keyword arguments of ``cls.__init__`` and their defaults (``inspect.Parameter.empty`` if none)."""
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}


def sb3_kwarg_names(name: str) -> list[str]:
    """The SB3 constructor arguments an ``algo`` config may set for algorithm ``name``."""
    params = _constructor_defaults(algorithm_class(name))
    return sorted(set(params) - _SET_BY_SPORTSIM - _NEEDS_PYTHON_OBJECT)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_schedule(key: str, value: str) -> float:
    """Initial value of a ``lin_<value>`` schedule string."""
    try:
        if not value.startswith(_SCHEDULE_PREFIX):
            raise ValueError(value)
        return float(value[len(_SCHEDULE_PREFIX) :])
    except ValueError:
        raise ConfigError(f"algo.{key}: expected a number or 'lin_<number>', got '{value}'") from None


def _check_value(key: str, value: Any, default: Any) -> None:
    """Type check against SB3's default value, then the range rule for ``key`` if it has one."""
    if key == "train_freq" and isinstance(value, list):
        if len(value) != 2 or not isinstance(value[0], int) or value[1] not in ("step", "episode"):
            raise ConfigError(f"algo.train_freq: expected an int or [n, step|episode], got {value}")
        return
    if key in _SCHEDULE_KEYS and isinstance(value, str):
        value = _parse_schedule(key, value)
    elif isinstance(default, bool):  # before int: bool is a subclass of int
        if not isinstance(value, bool):
            raise ConfigError(f"algo.{key}: expected true or false, got {value!r}")
    elif isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"algo.{key}: expected an integer, got {value!r}")
    elif isinstance(default, float) and not _is_number(value):
        raise ConfigError(f"algo.{key}: expected a number, got {value!r}")
    if key in _RANGES and _is_number(value):
        description, test = _RANGES[key]
        if not test(value):
            raise ConfigError(f"algo.{key} must be {description}, got {value}")


def _check_policy_kwargs(algo_name: str, policy: str, policy_kwargs: Mapping[str, Any]) -> None:
    policy_cls = algorithm_class(algo_name).policy_aliases[policy]
    valid = set(_constructor_defaults(policy_cls)) - {"observation_space", "action_space", "lr_schedule"}
    for key in policy_kwargs:
        if key not in valid:
            raise ConfigError(
                f"unknown algo.policy_kwargs.{key} for {algo_name} {policy} (valid: {', '.join(sorted(valid))})"
            )
    activation = policy_kwargs.get("activation_fn")
    if activation is not None and activation not in ACTIVATION_CLASSES:
        raise ConfigError(
            f"algo.policy_kwargs.activation_fn: unknown activation '{activation}' "
            f"(choose from: {', '.join(ACTIVATION_CLASSES)})"
        )
    for key in ("optimizer_class", "features_extractor_class"):
        if key in policy_kwargs:
            raise ConfigError(f"algo.policy_kwargs.{key} needs a Python class and cannot be set from a config")


def validate_algo_config(algo: Mapping[str, Any]) -> None:
    """Check an ``algo`` config (plain dict) against the SB3 constructor; raise ConfigError on the first problem."""
    for key in ALGO_META_KEYS:
        if key not in algo:
            raise ConfigError(f"algo config has no '{key}' key")
    name, policy = algo["name"], algo["policy"]
    cls = algorithm_class(name)
    if policy not in cls.policy_aliases:
        raise ConfigError(f"unknown algo.policy '{policy}' for {name} (choose from: {', '.join(cls.policy_aliases)})")
    defaults = _constructor_defaults(cls)
    valid = sb3_kwarg_names(name)
    for key, value in algo.items():
        if key in ALGO_META_KEYS:
            continue
        if key in _NEEDS_PYTHON_OBJECT:
            raise ConfigError(f"algo.{key} needs a Python object and cannot be set from a config")
        if key not in valid:
            raise ConfigError(f"unknown SB3 argument algo.{key} for {name} (valid: {', '.join(valid)})")
        if value is not None:
            _check_value(key, value, defaults[key])
    policy_kwargs = algo.get("policy_kwargs") or {}
    if not isinstance(policy_kwargs, Mapping):
        raise ConfigError(f"algo.policy_kwargs must be a mapping, got {policy_kwargs!r}")
    _check_policy_kwargs(name, policy, policy_kwargs)


def sb3_kwargs(algo: Mapping[str, Any]) -> dict[str, Any]:
    """SB3 constructor kwargs from a validated ``algo`` config: names mapped to classes and schedules."""
    from stable_baselines3.common.utils import LinearSchedule  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    kwargs = {key: value for key, value in algo.items() if key not in ALGO_META_KEYS}
    for key in _SCHEDULE_KEYS & set(kwargs):
        if isinstance(kwargs[key], str):
            kwargs[key] = LinearSchedule(start=_parse_schedule(key, kwargs[key]), end=0.0, end_fraction=1.0)
    if isinstance(kwargs.get("train_freq"), list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    if "activation_fn" in policy_kwargs:
        policy_kwargs["activation_fn"] = getattr(nn, ACTIVATION_CLASSES[policy_kwargs["activation_fn"]])
    kwargs["policy_kwargs"] = policy_kwargs
    return kwargs


def build_algorithm(cfg: DictConfig, env: VecEnv, *, seed: int | None = None, inference: bool = False) -> BaseAlgorithm:
    """A fresh SB3 algorithm for ``env`` from a full training config (weights are loaded separately).

    ``inference=True`` sizes the training buffers for acting only: an off-policy replay buffer shrinks to
    one transition (loading a policy needs the networks, not gigabytes of buffer), and an on-policy
    minibatch becomes one rollout of ``env``'s copies (PPO would otherwise warn that the training
    ``batch_size`` does not divide ``n_steps * n_envs`` of a one-copy evaluation env).
    """
    algo = OmegaConf.to_container(cfg.algo, resolve=True)
    assert isinstance(algo, dict)
    kwargs = sb3_kwargs(algo)
    if inference and "buffer_size" in kwargs:
        kwargs["buffer_size"] = 1
    if inference and "batch_size" in kwargs and "n_steps" in kwargs:
        kwargs["batch_size"] = kwargs["n_steps"] * env.num_envs
    cls = algorithm_class(algo["name"])
    try:
        return cls(algo["policy"], env, seed=seed, device=cfg.device, verbose=0, **kwargs)
    except (AssertionError, ValueError, TypeError) as exc:
        raise ConfigError(f"{algo['name']} rejected the algo settings: {exc}") from exc


def env_kwargs(env_cfg: DictConfig) -> dict[str, Any]:
    kwargs = OmegaConf.to_container(env_cfg.get("kwargs") or OmegaConf.create({}), resolve=True)
    assert isinstance(kwargs, dict)
    return kwargs


def train_env_kwargs(env_cfg: DictConfig) -> dict[str, Any]:
    """``env.train_kwargs``: arguments only the training copies of the env receive (empty if unset)."""
    extra = env_cfg.get("train_kwargs")
    if extra is None:
        return {}
    if not isinstance(extra, DictConfig):
        raise ConfigError(f"env.train_kwargs of env '{env_cfg.name}' must be a mapping, got {extra!r}")
    out = OmegaConf.to_container(extra, resolve=True)
    assert isinstance(out, dict)
    return out


def version_kwargs(env_id: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``kwargs`` without the null ones that have a value of their own: in an env config, null for an argument
    that ``env_id``'s registration sets (Imitation-v8's ``foot_contact_weight``) or whose constructor default
    is not None means "this version's value", so that ``env.id=...`` picks a version whole - a number there
    would override the version (a run on ``env.id=sportsim/Imitation-v8`` with the config's old 0.1 trained
    v7's reward). Nulls for arguments whose default is None are passed on (the env's own meaning: a task's
    default, the motion's size). Unregistered ids: unchanged."""
    try:
        spec = gym.spec(env_id)
        creator = gym.envs.registration.load_env_creator(spec.entry_point) if isinstance(spec.entry_point, str) \
            else spec.entry_point
    except (gym.error.Error, ImportError, AttributeError):
        return dict(kwargs)
    params = inspect.signature(creator).parameters
    defaults = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    has_value = {k for k, v in defaults.items() if v is not None} | set(spec.kwargs)
    return {k: v for k, v in kwargs.items() if not (v is None and k in has_value)}


def make_env(env_cfg: DictConfig, **extra: Any) -> gym.Env:
    """``gymnasium.make(env.id, **env.kwargs, **extra)``, with config mistakes reported as ConfigError; a null
    argument the env version's registration sets takes that version's value (:func:`version_kwargs`)."""
    kwargs = version_kwargs(env_cfg.id, {**env_kwargs(env_cfg), **extra})
    try:
        with warnings.catch_warnings():  # a zoo entry of HalfPipe-v0 is meant to run on v0: no "upgrade" nag
            warnings.filterwarnings("ignore", message=".*is out of date. You should consider upgrading")
            return gym.make(env_cfg.id, **kwargs)
    except (gym.error.Error, ModuleNotFoundError) as exc:
        raise ConfigError(f"env '{env_cfg.name}': cannot make '{env_cfg.id}': {exc}") from exc
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise ConfigError(f"env '{env_cfg.name}': env.kwargs {kwargs} rejected by '{env_cfg.id}': {exc}") from exc


def make_vec_envs(cfg: DictConfig, *, n_envs: int, seed: int, training: bool, subproc: bool = False) -> VecEnv:
    """``n_envs`` Monitor-wrapped copies of the configured env, behind VecNormalize when normalising.

    Training copies also receive ``env.train_kwargs`` (training aids such as a start-state curriculum,
    merged over ``env.kwargs``); evaluation copies (``training=False``) get ``env.kwargs`` alone, freeze
    the statistics and leave rewards unscaled; SB3's EvalCallback copies the training statistics into
    them before each evaluation.
    """
    from stable_baselines3.common.env_util import make_vec_env  # noqa: PLC0415
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize  # noqa: PLC0415

    extra = train_env_kwargs(cfg.env) if training else {}
    venv = make_vec_env(
        partial(make_env, cfg.env, **extra),
        n_envs=n_envs,
        seed=seed,
        vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv,
        monitor_kwargs={"info_keywords": ENV_INFO_KEYWORDS},
    )
    norm = cfg.normalize
    if not (norm.obs or norm.reward):
        return venv
    return VecNormalize(
        venv,
        training=training,
        norm_obs=norm.obs,
        norm_reward=norm.reward and training,
        clip_obs=norm.clip_obs,
        clip_reward=norm.clip_reward,
        gamma=cfg.algo.get("gamma", 0.99),
    )
