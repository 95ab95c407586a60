"""The :class:`Clip`: one motion as plain numpy arrays, its forward kinematics and its ``.npz`` form.

Conventions: Z up, right-handed, metres, quaternions (w, x, y, z) of unit norm. A joint's rest
offset is expressed in its parent's frame; a local rotation turns the joint's frame relative to
its parent; the root is placed by ``root_pos_m`` and ``rotations[:, 0]`` in the world frame.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from sportsim.errors import MocapError
from sportsim.mocap import quat

NPZ_FORMAT_VERSION = 1
QUAT_NORM_EXACT_TOL = 1e-6  # norms this close to 1 are kept bit for bit
QUAT_NORM_FIX_TOL = 1e-3  # norms this close to 1 are renormalised; anything further is an error
NOMINAL_RATE_TOL = 5e-5  # relative: a rate this close to a whole number of Hz is taken as that number
FPS_RANGE_HZ = (0.1, 1e5)  # a capture rate outside this is a broken header (and would blow up resampling)


def nominal_fps(frame_time_s: float) -> float:
    """Frame rate of a frame time written with few digits: ``.0083333`` s gives 120 Hz, not 120.0005."""
    fps = 1.0 / frame_time_s
    whole = round(fps)
    return float(whole) if whole > 0 and abs(fps - whole) <= NOMINAL_RATE_TOL * fps else fps


def write_npz(path: Path, arrays: dict[str, np.ndarray], overwrite: bool, what: str) -> Path:
    """Save ``arrays`` as an uncompressed .npz at ``path`` atomically (temporary sibling, fsync, rename),
    with the permissions a plain ``open()`` gives; an existing file is kept unless ``overwrite``."""
    if path.exists() and not overwrite:
        raise MocapError(f"{path}: file exists; pass overwrite=True (--overwrite) to replace it")
    if not path.parent.is_dir():
        raise MocapError(f"{path}: folder {path.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)  # not mkstemp's 0600
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        raise MocapError(f"{path}: could not write {what}: {exc}") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return path


@dataclass(frozen=True, eq=False)
class Clip:
    """A motion clip (Z-up, metres, w-first unit quaternions). Arrays are stored read-only.

    Fields:
        fps: frame rate in Hz.
        joint_names: one name per joint, unique.
        parents: ``(J,)`` int, ``-1`` for the root (index 0), every parent before its children.
        offsets_m: ``(J, 3)`` rest offset of each joint from its parent, in the parent's frame. The
            root's row is the file's rest root position and is not used by forward kinematics.
        root_pos_m: ``(T, 3)`` world position of the root joint.
        rotations: ``(T, J, 4)`` local joint rotations (root: world rotation).
        end_site_parents / end_site_offsets_m: ``(E,)`` joint index and ``(E, 3)`` offset of each end
            site (a point fixed in its joint's frame, e.g. BVH "End Site").
        contacts / contact_names: optional ``(T, K)`` bool contact flags (e.g. Xsens foot contacts).
        recorded_positions_m: optional ``(T, J, 3)`` joint positions stored by the capture system
            (MVNX), kept to check forward kinematics against.
        source: the file the clip was read from. skeleton: the detected skeleton family or "unknown".
        meta: str -> str notes (units, conversions, format details).
    """

    fps: float
    joint_names: tuple[str, ...]
    parents: np.ndarray
    offsets_m: np.ndarray
    root_pos_m: np.ndarray
    rotations: np.ndarray
    end_site_parents: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    end_site_offsets_m: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    contacts: np.ndarray | None = None
    contact_names: tuple[str, ...] = ()
    recorded_positions_m: np.ndarray | None = None
    source: str = ""
    skeleton: str = "unknown"
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"{self.source or 'clip'}: field"
        set_ = object.__setattr__

        fps = _float_scalar(self.fps, f"{where} 'fps'")
        if not (np.isfinite(fps) and fps > 0):
            raise MocapError(f"{where} 'fps': must be a finite positive rate in Hz, got {fps}")
        if not FPS_RANGE_HZ[0] <= fps <= FPS_RANGE_HZ[1]:
            raise MocapError(f"{where} 'fps': {fps:g} Hz is not a capture rate (allowed {FPS_RANGE_HZ[0]:g} to "
                             f"{FPS_RANGE_HZ[1]:g} Hz)")
        set_(self, "fps", fps)

        names = _names(self.joint_names, f"{where} 'joint_names'")
        if not names:
            raise MocapError(f"{where} 'joint_names': a clip needs at least one joint")
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise MocapError(f"{where} 'joint_names': duplicate names {dupes}")
        set_(self, "joint_names", names)
        n_joints = len(names)

        parents = _int_array(self.parents, (n_joints,), f"{where} 'parents'")
        if parents[0] != -1:
            raise MocapError(f"{where} 'parents': joint 0 must be the root (parent -1), got {parents[0]}")
        bad = [j for j in range(1, n_joints) if not 0 <= parents[j] < j]
        if bad:
            raise MocapError(f"{where} 'parents': joint {bad[0]} ({names[bad[0]]!r}) has parent "
                             f"{parents[bad[0]]}; parents must precede their children")
        set_(self, "parents", _frozen(parents))

        set_(self, "offsets_m", _frozen(_float_array(self.offsets_m, (n_joints, 3), f"{where} 'offsets_m'")))
        root_pos = _float_array(self.root_pos_m, (None, 3), f"{where} 'root_pos_m'")
        n_frames = root_pos.shape[0]
        if n_frames < 1:
            raise MocapError(f"{where} 'root_pos_m': a clip needs at least one frame")
        set_(self, "root_pos_m", _frozen(root_pos))
        rotations = _float_array(self.rotations, (n_frames, n_joints, 4), f"{where} 'rotations'")
        set_(self, "rotations", _frozen(_unit_quaternions(rotations, f"{where} 'rotations'")))

        site_parents = _int_array(self.end_site_parents, (None,), f"{where} 'end_site_parents'")
        if np.any((site_parents < 0) | (site_parents >= n_joints)):
            raise MocapError(f"{where} 'end_site_parents': indices must lie in [0, {n_joints})")
        set_(self, "end_site_parents", _frozen(site_parents))
        site_offsets = _float_array(self.end_site_offsets_m, (len(site_parents), 3), f"{where} 'end_site_offsets_m'")
        set_(self, "end_site_offsets_m", _frozen(site_offsets))

        contact_names = _names(self.contact_names, f"{where} 'contact_names'")
        set_(self, "contact_names", contact_names)
        if self.contacts is None:
            if contact_names:
                raise MocapError(f"{where} 'contact_names': given without 'contacts'")
        else:
            contacts = np.asarray(self.contacts)
            if contacts.dtype != np.bool_ or contacts.shape != (n_frames, len(contact_names)):
                raise MocapError(f"{where} 'contacts': expected bool array of shape "
                                 f"{(n_frames, len(contact_names))}, got {contacts.dtype} {contacts.shape}")
            set_(self, "contacts", _frozen(contacts.copy()))
        if self.recorded_positions_m is not None:
            recorded = _float_array(self.recorded_positions_m, (n_frames, n_joints, 3),
                                    f"{where} 'recorded_positions_m'")
            set_(self, "recorded_positions_m", _frozen(recorded))

        for name in ("source", "skeleton"):
            if not isinstance(getattr(self, name), str):
                raise MocapError(f"{where} {name!r}: must be a string")
        meta = dict(self.meta)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            raise MocapError(f"{where} 'meta': keys and values must be strings")
        set_(self, "meta", MappingProxyType(meta))

    # ---- sizes -------------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(self.root_pos_m.shape[0])

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame."""
        return (self.n_frames - 1) / self.fps

    def frames(self, start: int, end: int) -> "Clip":
        """Frames ``start`` to ``end`` (exclusive) as a new clip, noted in ``meta["trimmed"]``; the
        caller checks the range against its own rules (and words the error for its own options)."""
        if (start, end) == (0, self.n_frames):
            return self
        cut = slice(start, end)
        return dataclasses.replace(
            self, root_pos_m=self.root_pos_m[cut], rotations=self.rotations[cut],
            contacts=None if self.contacts is None else self.contacts[cut],
            recorded_positions_m=None if self.recorded_positions_m is None else self.recorded_positions_m[cut],
            meta={**self.meta, "trimmed": f"source frames {start} to {end - 1} of {self.n_frames}"})

    # ---- forward kinematics ------------------------------------------------------------------
    def global_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """World rotations ``(T, J, 4)`` and world positions ``(T, J, 3)`` of every joint."""
        n_frames, n_joints = self.n_frames, self.n_joints
        rot = np.empty((n_frames, n_joints, 4))
        pos = np.empty((n_frames, n_joints, 3))
        rot[:, 0] = self.rotations[:, 0]
        pos[:, 0] = self.root_pos_m
        for j in range(1, n_joints):  # one vectorised step per joint, all frames at once
            p = self.parents[j]
            rot[:, j] = quat.multiply(rot[:, p], self.rotations[:, j])
            pos[:, j] = pos[:, p] + quat.rotate(rot[:, p], self.offsets_m[j])
        return rot, pos

    def world_positions(self) -> np.ndarray:
        """Joint positions ``(T, J, 3)`` in metres (forward kinematics)."""
        return self.global_transforms()[1]

    def end_site_positions(self) -> np.ndarray:
        """End-site positions ``(T, E, 3)`` in metres."""
        rot, pos = self.global_transforms()
        parents = self.end_site_parents
        return pos[:, parents] + quat.rotate(rot[:, parents], self.end_site_offsets_m)

    # ---- npz I/O -----------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays written by :meth:`save_npz` (no object arrays: loadable without pickle)."""
        arrays = {
            "format_version": np.array(NPZ_FORMAT_VERSION, dtype=np.int64),
            "fps": np.array(self.fps, dtype=np.float64),
            "joint_names": np.array(self.joint_names, dtype=np.str_),
            "parents": self.parents,
            "offsets_m": self.offsets_m,
            "root_pos_m": self.root_pos_m,
            "rotations": self.rotations,
            "end_site_parents": self.end_site_parents,
            "end_site_offsets_m": self.end_site_offsets_m,
            "source": np.array(self.source, dtype=np.str_),
            "skeleton": np.array(self.skeleton, dtype=np.str_),
            "meta_json": np.array(json.dumps(dict(self.meta), sort_keys=True), dtype=np.str_),
        }
        if self.contacts is not None:
            arrays["contacts"] = self.contacts
            arrays["contact_names"] = np.array(self.contact_names, dtype=np.str_).reshape(-1)
        if self.recorded_positions_m is not None:
            arrays["recorded_positions_m"] = self.recorded_positions_m
        return arrays

    def save_npz(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the clip to ``path`` atomically (temporary file, then rename). Refuses to replace an
        existing file unless ``overwrite`` is true."""
        return write_npz(Path(path), self.to_arrays(), overwrite, "clip")

    @classmethod
    def load_npz(cls, path: str | os.PathLike[str]) -> "Clip":
        """Read a clip written by :meth:`save_npz` (``allow_pickle=False``), validating every field."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                return _clip_from_npz(npz, path)
        except MocapError:
            raise
        except Exception as exc:  # zip/npy format errors surface as many types: report them as one
            raise MocapError(f"{path}: not a readable sportsim clip (.npz): {type(exc).__name__}: {exc}") from exc


# ---- npz validation -------------------------------------------------------------------------
_REQUIRED = ("format_version", "fps", "joint_names", "parents", "offsets_m", "root_pos_m", "rotations",
             "end_site_parents", "end_site_offsets_m", "source", "skeleton", "meta_json")
_OPTIONAL = ("contacts", "contact_names", "recorded_positions_m")
_KINDS = {"format_version": "iu", "fps": "f", "joint_names": "U", "parents": "iu", "offsets_m": "f",
          "root_pos_m": "f", "rotations": "f", "end_site_parents": "iu", "end_site_offsets_m": "f",
          "source": "U", "skeleton": "U", "meta_json": "U", "contacts": "b", "contact_names": "U",
          "recorded_positions_m": "f"}


def _clip_from_npz(npz: Any, path: Path) -> Clip:
    keys = set(npz.files)
    missing = [k for k in _REQUIRED if k not in keys]
    unknown = sorted(keys - set(_REQUIRED) - set(_OPTIONAL))
    if missing or unknown:
        raise MocapError(f"{path}: not a sportsim clip: missing fields {missing}, unknown fields {unknown}")
    data: dict[str, np.ndarray] = {}
    for key in sorted(keys):
        try:
            value = npz[key]
        except ValueError as exc:  # object arrays need pickle, which is refused
            raise MocapError(f"{path}: field {key!r}: cannot be loaded without pickle ({exc})") from exc
        if value.dtype.kind not in _KINDS[key]:
            raise MocapError(f"{path}: field {key!r}: dtype {value.dtype} is not allowed")
        data[key] = value
    version = int(data["format_version"].reshape(-1)[0]) if data["format_version"].size == 1 else None
    if version != NPZ_FORMAT_VERSION:
        raise MocapError(f"{path}: field 'format_version': unsupported version {version}")
    for key in ("fps", "source", "skeleton", "meta_json", "format_version"):
        if data[key].shape != ():
            raise MocapError(f"{path}: field {key!r}: expected a scalar, got shape {data[key].shape}")
    for key in ("joint_names", "contact_names"):
        if key in data and data[key].ndim != 1:
            raise MocapError(f"{path}: field {key!r}: expected a 1-D array of names, got shape {data[key].shape}")
    try:
        meta = json.loads(str(data["meta_json"]))
    except json.JSONDecodeError as exc:
        raise MocapError(f"{path}: field 'meta_json': not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise MocapError(f"{path}: field 'meta_json': expected a JSON object")
    if ("contacts" in data) != ("contact_names" in data):
        raise MocapError(f"{path}: fields 'contacts' and 'contact_names' must come together")
    try:
        return Clip(
            fps=float(data["fps"]),
            joint_names=tuple(str(n) for n in data["joint_names"]),
            parents=data["parents"],
            offsets_m=data["offsets_m"],
            root_pos_m=data["root_pos_m"],
            rotations=data["rotations"],
            end_site_parents=data["end_site_parents"],
            end_site_offsets_m=data["end_site_offsets_m"],
            contacts=data.get("contacts"),
            contact_names=tuple(str(n) for n in data.get("contact_names", ())),
            recorded_positions_m=data.get("recorded_positions_m"),
            source=str(data["source"]),
            skeleton=str(data["skeleton"]),
            meta=meta,
        )
    except MocapError as exc:
        raise MocapError(f"{path}: invalid clip data: {exc}") from exc


# ---- field checks -----------------------------------------------------------------------------
def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _float_scalar(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise MocapError(f"{what}: expected a number, got {value!r}") from exc


def _names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise MocapError(f"{what}: expected a sequence of names, got a single string")
    names = tuple(value)
    if not all(isinstance(n, str) and n for n in names):
        raise MocapError(f"{what}: every name must be a non-empty string")
    return tuple(str(n) for n in names)  # plain str, also for numpy string scalars


def _shape_ok(shape: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))


def _int_array(value: Any, shape: tuple[int | None, ...], what: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise MocapError(f"{what}: expected integers, got dtype {array.dtype}")
    if not _shape_ok(array.shape, shape):
        raise MocapError(f"{what}: expected shape {shape}, got {array.shape}")
    return array.astype(np.int64, copy=True)


def _float_array(value: Any, shape: tuple[int | None, ...], what: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise MocapError(f"{what}: expected real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=True)
    if not _shape_ok(array.shape, shape):
        raise MocapError(f"{what}: expected shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        first = np.argwhere(~np.isfinite(array))[0]
        raise MocapError(f"{what}: non-finite value at index {tuple(int(i) for i in first)}")
    return array


def _unit_quaternions(q: np.ndarray, what: str) -> np.ndarray:
    if q.size == 0:
        return q
    error = np.abs(np.linalg.norm(q, axis=-1) - 1.0)
    worst = float(error.max())
    if worst <= QUAT_NORM_EXACT_TOL:
        return q
    if worst <= QUAT_NORM_FIX_TOL:
        return quat.normalize(q)
    index = tuple(int(i) for i in np.unravel_index(int(error.argmax()), error.shape))
    raise MocapError(f"{what}: quaternion at (frame, joint) {index} has norm off by {worst:.3g} "
                     f"(more than {QUAT_NORM_FIX_TOL}); not a rotation")
