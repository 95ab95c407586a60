"""``python -m sportsim.export <source> <out> [key=value ...]``: motion and policies in the formats other
tools read, the format chosen by the output's extension.

Sources (named as every command names them, :mod:`sportsim.resolve`):

* a capture file (BVH, MVNX, DeepMimic ``.txt``/``.json``, a clip ``.npz``) - retargeted onto the sportsim
  humanoid at the performer's size, as ``sportsim/Imitation`` does (the motion cache included);
* ``deepmimic:<name>`` - a DeepMimic motion as pybullet ships it (:func:`sportsim.envs.imitation_params.deepmimic_motion_path`);
* a reference motion ``.npz`` (``python -m sportsim.mocap convert``) - exported as it is;
* a policy - a run directory, a model ``.zip`` or a zoo entry (``zoo:imitation/walk/ppo``): an
  ``Imitation`` policy is first rolled out once on its reference clip (deterministic actions, from the
  clip's start, ``episode_time_s`` long or until a fall) and the simulated humanoid is exported, with
  per-frame ground reaction forces where the env measures them (``kinetics``).

Outputs (:mod:`sportsim.export.formats`): ``.bvh`` (Y up, cm, through bvhio), ``.trc`` (OpenSim markers:
joint centres), ``.mot`` (OpenSim coordinates; ground reaction forces when available), ``.csv``
(per-frame angles and kinetics) and ``.onnx`` (a policy's network with the observation normalisation
baked in, :mod:`sportsim.export.onnx`; needs a policy source). Several outputs from one source share
one rollout: ``python -m sportsim.export zoo:imitation/walk/ppo walk.bvh walk.trc walk.mot walk.csv walk.onnx``.

An existing output is never replaced unless ``overwrite=true``; every file is written to a temporary
name and renamed. Failures are one line naming the source or file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sportsim.errors import ConfigError
from sportsim.export.formats import WRITERS, ExportMotion

FORMATS = (*WRITERS, ".onnx")
FORCE_FORMATS = (".mot", ".csv")  # formats with ground reaction forces: a rollout measures them only for these
ONNX_SAMPLE_OBSERVATIONS = 64  # rollout observations the ONNX model is checked on


@dataclass
class Exported:
    """What :func:`export` made: the files, the motion's frames and rate, and notes (e.g. the ONNX check)."""

    files: list[Path]
    n_frames: int
    fps: float
    notes: list[str]


def check_outputs(outputs: list[str | os.PathLike[str]], overwrite: bool) -> list[Path]:
    """The output paths, each with a known extension, a folder that exists and - unless ``overwrite`` -
    no file there yet."""
    paths = []
    for out in outputs:
        path = Path(out).expanduser()
        if path.suffix.lower() not in FORMATS:
            raise ConfigError(f"{path}: unknown export format {path.suffix or '(none)'!r}; "
                              f"expected one of {', '.join(FORMATS)}")
        if not path.parent.is_dir():
            raise ConfigError(f"{path}: folder {path.parent} does not exist")
        if path.exists() and not overwrite:
            raise ConfigError(f"{path}: file exists; add overwrite=true to replace it")
        paths.append(path)
    if len({p.resolve() for p in paths}) != len(paths):
        raise ConfigError("the same output is named twice")
    return paths


def export(source: str | os.PathLike[str], outputs: list[str | os.PathLike[str]], *, overwrite: bool = False,
           which: str | None = None, episode_time_s: float | None = None, engine: str | None = None,
           seed: int = 0, mapping: str | os.PathLike[str] | None = None) -> Exported:
    """Export ``source`` to every path in ``outputs`` (see the module docstring). ``mapping``: a skeleton
    mapping for a capture source, read as every mocap command reads ``--mapping``."""
    from sportsim.export import sources  # noqa: PLC0415 - torch / SB3 only when a policy is named

    paths = check_outputs(outputs, overwrite)
    wants_onnx = any(p.suffix.lower() == ".onnx" for p in paths)
    wants_forces = any(p.suffix.lower() in FORCE_FORMATS for p in paths)
    loaded = sources.load(source, which=which, episode_time_s=episode_time_s, engine=engine, seed=seed,
                          keep_policy=wants_onnx, kinetics=wants_forces, mapping=mapping)
    motion, notes = loaded.motion, list(loaded.motion.notes)
    try:
        written = []
        for path in paths:
            suffix = path.suffix.lower()
            if suffix == ".onnx":
                notes.append(_write_onnx(loaded, path))
            else:
                WRITERS[suffix](motion, path)
            written.append(path)
    finally:
        loaded.close()
    return Exported(written, motion.n_frames, motion.fps, notes)


def _write_onnx(loaded, path: Path) -> str:
    from sportsim.export import onnx  # noqa: PLC0415
    from sportsim.export.formats import write_atomically  # noqa: PLC0415

    if loaded.policy is None:
        raise ConfigError(f"{path}: ONNX export needs a policy (a run directory, model .zip or zoo entry), "
                          f"not a motion file")
    model = onnx.onnx_bytes(loaded.policy)
    observations = np.asarray(loaded.observations[:ONNX_SAMPLE_OBSERVATIONS], dtype=np.float32)
    diff = onnx.check(model, loaded.policy, observations)
    write_atomically(path, lambda tmp: tmp.write_bytes(model))
    if diff is None:
        return f"{path.name}: not checked (onnxruntime is not installed)"
    policy = "SB3's" if hasattr(loaded.policy, "model") else "the policy's (NumPy, SB3's layers)"
    return f"{path.name}: ONNX Runtime's actions = {policy} within {diff:.1e} on {len(observations)} observations"


__all__ = ["FORMATS", "ExportMotion", "Exported", "check_outputs", "export"]
