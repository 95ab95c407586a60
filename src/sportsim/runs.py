"""Run directories: layout, atomic checkpoints, pickle-free statistics, and loading policies back.

A run directory holds everything one training run produced::

    config.yaml            fully resolved config (the only input needed to rebuild the algorithm)
    tb/                    TensorBoard event files (one folder, also across resumes)
    checkpoints/step_<n>/  periodic resume points: model.zip, vecnormalize.npz, replay_buffer.npz (SAC),
                           evaluations.npz (history so far), manifest.json (written last: names every
                           file with its size and SHA-256)
    best/  final/          model directories of the same shape (no replay buffer)
    evaluations.npz        SB3 EvalCallback history
    videos/                written by sportsim.record

Every file is written to a temporary name and moved into place with ``os.replace``; a model directory
counts only once its manifest exists, so a process killed at any moment leaves either the previous
complete checkpoint or the new one. Models are SB3 ``.zip`` files read with ``weights_only`` tensors
into an algorithm built from config.yaml: SB3's ``.load()`` (which unpickles code) is never used.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import itertools
import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sportsim.builders import build_algorithm, make_env
from sportsim.errors import ConfigError, ModelFileError
from sportsim.fileio import sha256_file

if TYPE_CHECKING:  # torch and SB3 are imported where they are used: finding a run or a zoo entry stays light
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.buffers import ReplayBuffer
    from stable_baselines3.common.vec_env import VecEnv, VecNormalize

CONFIG_FILE = "config.yaml"
TB_DIR = "tb"
CHECKPOINTS_DIR = "checkpoints"
BEST_DIR = "best"
FINAL_DIR = "final"
VIDEOS_DIR = "videos"
EVALUATIONS_FILE = "evaluations.npz"
MODEL_FILE = "model.zip"
NORM_FILE = "vecnormalize.npz"
REPLAY_FILE = "replay_buffer.npz"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
PENDING_PREFIX = ".pending-"  # a model directory being written: <run dir>/.pending-best-<pid>/
MANIFEST_FORMAT = 1
CHECKPOINT_PREFIX = "step_"
MODEL_CHOICES = ("final", "best", "latest")
_NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)
_NORM_KEYS = ("obs_mean", "obs_var", "obs_count", "ret_mean", "ret_var", "ret_count",
              "clip_obs", "clip_reward", "epsilon", "gamma", "norm_obs", "norm_reward")
_REPLAY_FIELDS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


# --- naming and plain files ---------------------------------------------------------------------

def new_run_dir(cfg: DictConfig, now: datetime | None = None) -> Path:
    """The one naming rule: ``<runs_root>/<env.name>/<algo.name>/<YYYYmmdd-HHMMSS>_seed<seed>``
    (:func:`create_run_dir` adds ``-1``, ``-2``, ... when that name is taken)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path(cfg.runs_root) / cfg.env.name / cfg.algo.name / f"{stamp}_seed{cfg.seed}"


def create_run_dir(cfg: DictConfig) -> tuple[Path, RunLock]:
    """Create the directory of a new run and lock it; never share or reuse a run.

    The default name is created exclusively (``mkdir`` fails if it exists), so two runs started in the
    same second with the same seed get ``<name>`` and ``<name>-1``. An explicit ``cfg.run_dir`` must not
    exist yet or be empty; it is locked before it is checked, so two runs cannot both take it."""
    if cfg.run_dir is None:
        base = new_run_dir(cfg)
        base.parent.mkdir(parents=True, exist_ok=True)
        for n in itertools.count():
            run_dir = base if n == 0 else base.with_name(f"{base.name}-{n}")
            try:
                run_dir.mkdir()
                break
            except FileExistsError:
                continue
    else:
        run_dir = Path(cfg.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    run_dir = run_dir.resolve()
    lock = RunLock(run_dir)
    if (run_dir / CONFIG_FILE).exists():
        lock.release()
        raise ConfigError(f"run_dir {run_dir} already holds a run; continue it with resume={run_dir}")
    if any(p.name != LOCK_FILE for p in run_dir.iterdir()):
        lock.release()
        raise ConfigError(f"run_dir {run_dir} exists and is not empty; choose another run_dir")
    return run_dir, lock


class RunLock:
    """An exclusive ``flock`` on ``<run dir>/.lock`` while a run trains or resumes: a second ``train``
    (or ``resume=``) of the same directory is refused with one line instead of writing into it. The
    kernel drops the lock when the process dies, so a killed run never leaves a stale one."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_FILE
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(self._fd)
            self._fd = None
            raise ConfigError(f"run directory {run_dir} is in use by {holder} (training or resuming); "
                              "wait for it to finish or stop it first") from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"process {os.getpid()}".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def default_file_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give (mkstemp's temporaries are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(file)`` into a temporary sibling, fsync, then ``os.replace`` it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, default_file_mode())
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def save_config(cfg: DictConfig, run_dir: Path) -> None:
    text = OmegaConf.to_yaml(cfg, resolve=True).encode()
    atomic_write(run_dir / CONFIG_FILE, lambda f: f.write(text))


def load_config(run_dir: Path) -> DictConfig:
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist (is {run_dir} a sportsim run directory?)")
    try:
        cfg = OmegaConf.load(path)
    except (OSError, ValueError, yaml.YAMLError, OmegaConfBaseException) as exc:
        raise ModelFileError(f"cannot read {path}: {exc}") from exc
    assert isinstance(cfg, DictConfig)
    check_env_id(cfg, path)
    return cfg


def check_env_id(cfg: DictConfig, path: Path) -> None:
    """A saved config may only name an env that is already registered as ``sportsim/<Name>-v<n>``, or
    one declared by an env config in the config search path (``configs/env/``, ``$SPORTSIM_CONFIG_PATH``):
    gymnasium imports the module of a ``module:Env`` id, so an id read from a run directory must never
    make it import (run) code shipped beside it."""
    env_id = OmegaConf.select(cfg, "env.id")
    if not isinstance(env_id, str):
        raise ModelFileError(f"{path}: env.id is missing or not a string ({env_id!r})")
    if ":" not in env_id and env_id.startswith("sportsim/") and env_id in gym.registry:
        return
    from sportsim.config import declared_env_ids  # noqa: PLC0415 - config imports this module

    if env_id in declared_env_ids():
        return
    raise ModelFileError(f"{path}: env.id {env_id!r} is not a registered sportsim env id (sportsim/<Name>-v<n>); "
                         "a run's config may not name a module to import")


def read_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """All ``keys`` of an ``.npz`` file, loaded eagerly with ``allow_pickle=False``."""
    if not path.is_file():
        raise ModelFileError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in keys if key not in data.files]
            if missing:
                raise ModelFileError(f"{path} lacks arrays {missing}")
            return {key: data[key] for key in data.files}
    except _NPZ_ERRORS as exc:
        raise ModelFileError(f"{path} is not a readable .npz file ({exc})") from exc


# --- observation / reward normalisation statistics ----------------------------------------------

def save_norm_stats(venv: VecNormalize, path: Path) -> None:
    """VecNormalize running statistics and settings as plain arrays (no pickle)."""
    if isinstance(venv.obs_rms, dict):
        raise ConfigError("normalize.obs supports Box observation spaces only, not Dict spaces")
    arrays = {
        "obs_mean": venv.obs_rms.mean, "obs_var": venv.obs_rms.var, "obs_count": np.float64(venv.obs_rms.count),
        "ret_mean": venv.ret_rms.mean, "ret_var": venv.ret_rms.var, "ret_count": np.float64(venv.ret_rms.count),
        "clip_obs": np.float64(venv.clip_obs), "clip_reward": np.float64(venv.clip_reward),
        "epsilon": np.float64(venv.epsilon), "gamma": np.float64(venv.gamma),
        "norm_obs": np.bool_(venv.norm_obs), "norm_reward": np.bool_(venv.norm_reward),
    }
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_norm_stats(path: Path, venv: VecNormalize) -> None:
    """Copy statistics saved by :func:`save_norm_stats` into ``venv`` (shape-checked)."""
    data = read_npz(path, _NORM_KEYS)
    shape = venv.observation_space.shape
    if data["obs_mean"].shape != shape or data["obs_var"].shape != shape:
        raise ModelFileError(f"{path}: obs_mean has shape {data['obs_mean'].shape}, env observations have {shape}")
    venv.obs_rms.mean, venv.obs_rms.var = data["obs_mean"].copy(), data["obs_var"].copy()
    venv.obs_rms.count = float(data["obs_count"])
    venv.ret_rms.mean, venv.ret_rms.var = data["ret_mean"].copy(), data["ret_var"].copy()
    venv.ret_rms.count = float(data["ret_count"])
    venv.clip_obs, venv.clip_reward = float(data["clip_obs"]), float(data["clip_reward"])
    venv.epsilon, venv.gamma = float(data["epsilon"]), float(data["gamma"])


# --- replay buffer ------------------------------------------------------------------------------

def save_replay_buffer(buffer: ReplayBuffer, path: Path) -> None:
    """The filled part of an SB3 ReplayBuffer as plain arrays (no pickle)."""
    if not isinstance(buffer.observations, np.ndarray):
        raise ConfigError("replay buffer checkpoints support Box observation spaces only, not Dict spaces")
    size = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {name: getattr(buffer, name)[:size]
              for name in _REPLAY_FIELDS if isinstance(getattr(buffer, name, None), np.ndarray)}
    meta = {"pos": np.int64(buffer.pos), "full": np.bool_(buffer.full), "buffer_size": np.int64(buffer.buffer_size)}
    atomic_write(path, lambda f: np.savez(f, **arrays, **meta))


def load_replay_buffer(path: Path, buffer: ReplayBuffer) -> None:
    """Fill ``buffer`` (built from the same config) with the arrays saved by :func:`save_replay_buffer`."""
    data = read_npz(path, ("observations", "actions", "rewards", "dones", "pos", "full", "buffer_size"))
    if int(data["buffer_size"]) != buffer.buffer_size:
        raise ModelFileError(f"{path}: saved buffer_size {int(data['buffer_size'])} != configured {buffer.buffer_size}")
    for name in _REPLAY_FIELDS:
        if name not in data:
            continue
        target = getattr(buffer, name)
        if data[name].shape[1:] != target.shape[1:] or len(data[name]) > len(target):
            raise ModelFileError(f"{path}: array '{name}' has shape {data[name].shape}, buffer expects {target.shape}")
        target[: len(data[name])] = data[name]
    buffer.pos, buffer.full = int(data["pos"]), bool(data["full"])


# --- model directories (checkpoints, best/, final/) ---------------------------------------------

def save_model_dir(model: BaseAlgorithm, directory: Path, *, replay_buffer: bool = False,
                   evaluations: Mapping[str, np.ndarray] | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save model weights, normalisation statistics and optionally the replay buffer and a snapshot of
    the evaluation history (``evaluations.npz`` arrays), each atomically; the manifest goes last."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST_FILE).unlink(missing_ok=True)  # the directory is incomplete until the new manifest
    atomic_write(directory / MODEL_FILE, lambda f: model.save(f))
    files = [MODEL_FILE]
    venv = model.get_vec_normalize_env()
    if venv is not None:
        save_norm_stats(venv, directory / NORM_FILE)
        files.append(NORM_FILE)
    if replay_buffer and getattr(model, "replay_buffer", None) is not None:
        save_replay_buffer(model.replay_buffer, directory / REPLAY_FILE)
        files.append(REPLAY_FILE)
    if evaluations is not None:
        atomic_write(directory / EVALUATIONS_FILE, lambda f: np.savez(f, **evaluations))
        files.append(EVALUATIONS_FILE)
    manifest = {
        "format": MANIFEST_FORMAT,
        "num_timesteps": int(model.num_timesteps),
        "episode_num": int(model._episode_num),
        "n_updates": int(getattr(model, "_n_updates", 0)),
        "files": {name: {"bytes": (directory / name).stat().st_size, "sha256": sha256_file(directory / name)}
                  for name in files},
        "extra": extra or {},
    }
    text = json.dumps(manifest, indent=2).encode()
    atomic_write(directory / MANIFEST_FILE, lambda f: f.write(text))
    return manifest


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def publish_model_dir(model: BaseAlgorithm, target: Path, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a model directory (``best/``, ``final/``) as a new directory beside ``target`` and swap it in
    atomically, so a kill or a full disk at any moment leaves the previous complete ``target`` (or none,
    for a first write) - never a half-written one. Returns the manifest."""
    pending = Path(tempfile.mkdtemp(prefix=f"{PENDING_PREFIX}{target.name}-", dir=target.parent))
    try:
        manifest = save_model_dir(model, pending, extra=extra)
        if target.exists() and _exchange(pending, target):
            shutil.rmtree(pending)  # now holds the previous version
        elif target.exists():  # no atomic exchange here: move the old one aside first (recovered on resume)
            old = target.with_name(f"{PENDING_PREFIX}{target.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            os.rename(target, old)
            os.rename(pending, target)
            shutil.rmtree(old)
        else:
            os.rename(pending, target)
    finally:
        shutil.rmtree(pending, ignore_errors=True)
    return manifest


def clean_pending(run_dir: Path) -> list[Path]:
    """Remove model directories whose write was cut (``.pending-*``), restoring a ``best/``/``final/``
    that was moved aside on a filesystem without atomic exchange; return what was removed."""
    removed = []
    for path in sorted(run_dir.glob(f"{PENDING_PREFIX}*")):
        name = path.name[len(PENDING_PREFIX):]
        if name.endswith("-old") and name[:-4] in (BEST_DIR, FINAL_DIR) and not (run_dir / name[:-4]).exists():
            os.rename(path, run_dir / name[:-4])
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a complete model directory, after checking every listed file's size and SHA-256."""
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise ModelFileError(f"{directory} is not a complete model directory ({MANIFEST_FILE} missing)")
    try:
        manifest = json.loads(path.read_text())
        files = manifest["files"]
        int(manifest["num_timesteps"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} is not a valid manifest ({exc})") from exc
    for name, meta in files.items():
        file = directory / name
        if not file.is_file():
            raise ModelFileError(f"{file} is listed in {path} but missing")
        size = file.stat().st_size
        if size != meta["bytes"]:
            raise ModelFileError(f"{file} is truncated or altered: {size} bytes, manifest says {meta['bytes']}")
        if sha256_file(file) != meta["sha256"]:
            raise ModelFileError(f"{file} is corrupt: SHA-256 differs from {path}")
    return manifest


def checkpoint_dir(run_dir: Path, num_timesteps: int) -> Path:
    return run_dir / CHECKPOINTS_DIR / f"{CHECKPOINT_PREFIX}{num_timesteps:012d}"


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint directories holding a manifest, oldest first (incomplete ones are skipped)."""
    root = run_dir / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    dirs = sorted(p for p in root.glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir())
    return [p for p in dirs if (p / MANIFEST_FILE).is_file()]


def latest_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = complete_checkpoints(run_dir)
    return checkpoints[-1] if checkpoints else None


def latest_valid_checkpoint(run_dir: Path) -> tuple[Path, dict[str, Any], list[str]] | None:
    """The newest checkpoint whose files all match its manifest, its manifest, and one line for each newer
    checkpoint skipped as corrupt (a disk error, a tampered file); None if none is valid."""
    skipped = []
    for checkpoint in reversed(complete_checkpoints(run_dir)):
        try:
            return checkpoint, read_manifest(checkpoint), skipped
        except ModelFileError as exc:
            skipped.append(str(exc))
    return None


def save_checkpoint(model: BaseAlgorithm, run_dir: Path, keep: int | None,
                    evaluations: Mapping[str, np.ndarray] | None = None,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``checkpoints/step_<n>/`` for the current step, then drop the oldest beyond ``keep``."""
    directory = checkpoint_dir(run_dir, model.num_timesteps)
    save_model_dir(model, directory, replay_buffer=True, evaluations=evaluations, extra=extra)
    if keep is not None:
        for old in complete_checkpoints(run_dir)[:-keep]:
            (old / MANIFEST_FILE).unlink()  # uncommit first: a half-deleted directory reads as incomplete
            shutil.rmtree(old)
    return directory


def remove_incomplete_checkpoints(run_dir: Path) -> list[Path]:
    """Delete checkpoint directories without a manifest (left by a killed process); return them."""
    root = run_dir / CHECKPOINTS_DIR
    candidates = sorted(root.glob(f"{CHECKPOINT_PREFIX}*"))
    incomplete = [p for p in candidates if p.is_dir() and not (p / MANIFEST_FILE).exists()]
    for path in incomplete:
        shutil.rmtree(path)
    return incomplete


def load_parameters(model: BaseAlgorithm, path: Path) -> None:
    """Weights (+ optimiser state and SB3's extra tensors, e.g. SAC's log_ent_coef) from an SB3 .zip.

    Reads only the zip's ``.pth`` tensors (``torch.load(weights_only=True)``) and hands them to
    ``model.set_parameters``; the pickled ``data`` entry that ``.load()`` would unpickle is ignored.
    """
    from stable_baselines3.common.save_util import load_from_zip_file, recursive_setattr  # noqa: PLC0415

    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    try:
        _, params, variables = load_from_zip_file(path, load_data=False, device=model.device)
    except (ValueError, OSError, RuntimeError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path} is not a readable SB3 model file ({exc})") from exc
    expected = set(model._get_torch_save_params()[0])
    if set(params) != expected:
        raise ModelFileError(
            f"{path} is truncated or not a {type(model).__name__} model file "
            f"(expected weights {sorted(expected)}, found {sorted(params) or 'none'})"
        )
    try:
        model.set_parameters(params, exact_match=True, device=model.device)
        for name, value in (variables or {}).items():
            recursive_setattr(model, f"{name}.data", value.data)
    except (ValueError, RuntimeError, KeyError, AttributeError) as exc:
        algo = type(model).__name__
        raise ModelFileError(f"{path} does not fit the {algo} built from the run config ({exc})") from exc


def restore_checkpoint(model: BaseAlgorithm, directory: Path, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load a checkpoint into ``model`` (built with its training env): weights, optimiser, normalisation
    statistics, replay buffer and step counters. ``manifest`` is one :func:`read_manifest` already
    verified; without it the directory is verified here. Returns the manifest."""
    manifest = manifest if manifest is not None else read_manifest(directory)
    load_parameters(model, directory / MODEL_FILE)
    venv = model.get_vec_normalize_env()
    if venv is not None:
        load_norm_stats(directory / NORM_FILE, venv)
    if REPLAY_FILE in manifest["files"] and getattr(model, "replay_buffer", None) is not None:
        load_replay_buffer(directory / REPLAY_FILE, model.replay_buffer)
    model.num_timesteps = int(manifest["num_timesteps"])
    model._episode_num = int(manifest.get("episode_num", 0))
    if hasattr(model, "_n_updates"):
        model._n_updates = int(manifest.get("n_updates", 0))
    return manifest


# --- finding a policy to run --------------------------------------------------------------------

@dataclass(frozen=True)
class ModelLocation:
    run_dir: Path      # holds config.yaml
    model_file: Path   # an SB3 .zip; vecnormalize.npz and manifest.json (if any) sit next to it
    label: str         # final | best | step_<n> | the .zip's stem

    @property
    def norm_file(self) -> Path:
        return self.model_file.parent / NORM_FILE


def locate_model(path: Path, which: str = "final") -> ModelLocation:
    """Resolve ``<run dir>`` (+ ``which`` of final/best/latest) or a ``.zip`` model inside a run directory."""
    if which not in MODEL_CHOICES:
        raise ConfigError(f"model must be one of {', '.join(MODEL_CHOICES)}, got {which!r}")
    path = path.expanduser().resolve()
    if path.suffix == ".zip":
        if not path.is_file():
            raise ModelFileError(f"model file {path} does not exist")
        run_dir = next((p for p in path.parents[:3] if (p / CONFIG_FILE).is_file()), None)
        if run_dir is None:
            raise ModelFileError(f"{path}: no {CONFIG_FILE} in the three folders above it; pass the run directory")
        label = path.parent.name if path.name == MODEL_FILE else path.stem
        return ModelLocation(run_dir, path, label)
    if not (path / CONFIG_FILE).is_file():
        raise ModelFileError(f"{path} is neither a model .zip nor a run directory with {CONFIG_FILE}")
    if which == "latest":
        latest = latest_checkpoint(path)
        if latest is None:
            raise ModelFileError(f"{path / CHECKPOINTS_DIR} holds no complete checkpoint")
        return ModelLocation(path, latest / MODEL_FILE, latest.name)
    model_dir = path / (FINAL_DIR if which == "final" else BEST_DIR)
    if not (model_dir / MANIFEST_FILE).is_file():
        hint = " (training was interrupted? try model=best or model=latest)" if which == "final" else ""
        raise ModelFileError(f"{model_dir} holds no complete model{hint}")
    return ModelLocation(path, model_dir / MODEL_FILE, which)


def load_model(location: ModelLocation, env: VecEnv, cfg: DictConfig) -> BaseAlgorithm:
    """An algorithm built from ``cfg`` for ``env`` with the located weights (manifest-verified when present)."""
    if location.model_file.name == MODEL_FILE and (location.model_file.parent / MANIFEST_FILE).is_file():
        read_manifest(location.model_file.parent)
    model = build_algorithm(cfg, env, inference=True)
    load_parameters(model, location.model_file)
    return model


@dataclass
class LoadedPolicy:
    """A trained policy with the env it acts in: observations go through ``act`` (normalised exactly
    as in training), actions come back ready for ``env.step``."""

    location: ModelLocation
    cfg: DictConfig
    env: gym.Env
    model: BaseAlgorithm
    normalizer: VecNormalize | None

    def act(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        policy_obs = self.normalizer.normalize_obs(obs) if self.normalizer is not None else obs
        action, _ = self.model.predict(policy_obs, deterministic=deterministic)
        return action

    def close(self) -> None:
        self.env.close()


def open_policy(location: ModelLocation, device: str = "cpu", env_overrides: Sequence[Any] = (),
                **env_kwargs: Any) -> LoadedPolicy:
    """Load the located policy with a fresh env built from its run's config (``env_kwargs`` such as
    ``render_mode`` go to the env; ``env_overrides``, parsed ``env.kwargs.<arg>=value`` / ``env.motion=``
    overrides, change the config first: :func:`sportsim.config.apply_env_overrides`); weights are read
    without unpickling."""
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize  # noqa: PLC0415

    cfg = load_config(location.run_dir)
    if env_overrides:
        from sportsim.config import apply_env_overrides  # noqa: PLC0415 - config imports this module

        apply_env_overrides(cfg, env_overrides, location.run_dir / CONFIG_FILE)
    cfg.device = device
    env = make_env(cfg.env, **env_kwargs)
    venv = DummyVecEnv([lambda: env])  # gives the algorithm its spaces; callers step `env` itself
    normalizer = None
    if cfg.normalize.obs or cfg.normalize.reward:
        normalizer = VecNormalize(venv, training=False, norm_obs=cfg.normalize.obs, norm_reward=False)
        load_norm_stats(location.norm_file, normalizer)
    model = load_model(location, normalizer if normalizer is not None else venv, cfg)
    return LoadedPolicy(location, cfg, env, model, normalizer)
