"""The sportsim humanoid's reference motion: :class:`ReferenceMotion` and its ``.npz`` file format.

A :class:`ReferenceMotion` is what :func:`sportsim.mocap.retarget.retarget` makes of a capture and what
the imitation env, the coach views, replay and video read: humanoid ``qpos`` per frame and what follows
from it (``qvel``, the world positions of :data:`POINT_NAMES`), the stance flags, the tracked source
points. Conventions: Z up, metres, x forward, y left, quaternions (w, x, y, z).

File format (:meth:`ReferenceMotion.save_npz` / :meth:`ReferenceMotion.load_npz`): an uncompressed
``.npz`` of plain arrays (no objects: read with ``allow_pickle=False``), ``format`` = :data:`FORMAT`,
``format_version`` = :data:`FORMAT_VERSION`, the humanoid's joint, point and contact names stored
beside the arrays and checked on reading; :func:`is_reference_motion` tells one from a mocap ``Clip``
``.npz``. Written atomically (temporary file, then rename), never over an existing file unless asked.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim.errors import MocapError
from sportsim.mocap._geometry import FOOT_GEOMS, POINT_NAMES
from sportsim.mocap.clip import write_npz

__all__ = ["CONTACT_NAMES", "FORMAT", "FORMAT_VERSION", "POINT_NAMES", "ReferenceMotion", "is_reference_motion"]

FORMAT = "sportsim.reference_motion"
FORMAT_VERSION = 1
CONTACT_NAMES = ("right_foot", "left_foot")  # the columns of ReferenceMotion.foot_contacts

_NQ = sum(humanoid.QPOS_SIZE[j.type] for j in humanoid.JOINTS)
_NV = sum({"free": 6, "ball": 3, "hinge": 1}[j.type] for j in humanoid.JOINTS)


@dataclass(frozen=True, eq=False)
class ReferenceMotion:
    """A motion on the sportsim humanoid, ready for a DeepMimic-style imitation env.

    Fields:
        fps: frame rate in Hz.
        qpos: ``(T, 43)`` humanoid qpos per frame (MuJoCo order of :data:`sportsim.humanoid.JOINTS`: root
            position + quaternion, ball quaternions, hinge angles in rad).
        qvel: ``(T, 34)`` by central finite differences (``mj_differentiatePos``; one-sided at the ends).
        positions_m: ``(T, P, 3)`` world positions of :data:`POINT_NAMES` (joint centres, then the
            end-effector sites) by forward kinematics.
        foot_contacts: ``(T, 2)`` bool stance flags of (right, left) foot.
        target_names / target_positions_m: tracked points (``(T, K, 3)``): the source's joints, scaled
            and placed relative to the humanoid's root (root alignment); see
            :data:`sportsim.mocap.retarget.TRACKED`.
        height_m, mass_kg, sex: the humanoid (``sportsim.humanoid.build_humanoid_model`` arguments).
        scale: humanoid metres per source metre. source / skeleton: the clip's file and skeleton family.
        meta: str -> str notes on how the motion was made.
    """

    fps: float
    qpos: np.ndarray
    qvel: np.ndarray
    positions_m: np.ndarray
    foot_contacts: np.ndarray
    target_names: tuple[str, ...]
    target_positions_m: np.ndarray
    height_m: float
    mass_kg: float
    sex: str = "male"
    scale: float = 1.0
    source: str = ""
    skeleton: str = "unknown"
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_frames = np.shape(self.qpos)[0] if np.ndim(self.qpos) == 2 else -1
        shapes = {"qpos": (n_frames, _NQ), "qvel": (n_frames, _NV),
                  "positions_m": (n_frames, len(POINT_NAMES), 3), "foot_contacts": (n_frames, 2),
                  "target_positions_m": (n_frames, len(self.target_names), 3)}
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name))
            if n_frames < 1 or value.shape != shape:
                raise MocapError(f"reference motion: field {name!r}: expected shape {shape}, got {value.shape}")
            kind = "b" if name == "foot_contacts" else "f"
            if value.dtype.kind != kind:
                raise MocapError(f"reference motion: field {name!r}: dtype {value.dtype} is not allowed")
            value = value.copy()
            value.flags.writeable = False
            object.__setattr__(self, name, value)
        unknown = [n for n in self.target_names if n not in POINT_NAMES]
        if unknown:
            raise MocapError(f"reference motion: target names {unknown} are not humanoid points")
        for name in ("fps", "height_m", "mass_kg", "scale"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value > 0):
                raise MocapError(f"reference motion: field {name!r} must be finite and positive, got {value}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "target_names", tuple(str(n) for n in self.target_names))
        object.__setattr__(self, "meta", MappingProxyType({str(k): str(v) for k, v in dict(self.meta).items()}))

    @property
    def n_frames(self) -> int:
        return int(self.qpos.shape[0])

    @property
    def duration_s(self) -> float:
        return (self.n_frames - 1) / self.fps

    def point(self, name: str) -> np.ndarray:
        """World positions ``(T, 3)`` of one of :data:`POINT_NAMES`."""
        return self.positions_m[:, POINT_NAMES.index(name)]

    @property
    def retarget_error_m(self) -> np.ndarray:
        """``(T, K)`` distance of each tracked humanoid point from its root-aligned source point."""
        index = [POINT_NAMES.index(n) for n in self.target_names]
        return np.linalg.norm(self.positions_m[:, index] - self.target_positions_m, axis=-1)

    def build_model(self) -> mujoco.MjModel:
        """The humanoid this motion was made for."""
        return humanoid.build_humanoid_model(self.height_m, self.mass_kg, self.sex)

    # ---- npz I/O --------------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays (no objects: loadable with ``allow_pickle=False``), as :meth:`save_npz` writes."""
        def text(value: str) -> np.ndarray:
            return np.array(value, dtype=np.str_)

        def names(values: Iterable[str]) -> np.ndarray:
            return np.array(list(values), dtype=np.str_).reshape(-1)

        return {
            "format": text(FORMAT), "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "fps": np.array(self.fps), "qpos": self.qpos, "qvel": self.qvel,
            "joint_names": names(humanoid.JOINT_NAMES), "point_names": names(POINT_NAMES),
            "positions_m": self.positions_m, "foot_contacts": self.foot_contacts,
            "contact_names": names(CONTACT_NAMES), "target_names": names(self.target_names),
            "target_positions_m": self.target_positions_m, "height_m": np.array(self.height_m),
            "mass_kg": np.array(self.mass_kg), "sex": text(self.sex), "scale": np.array(self.scale),
            "source": text(self.source), "skeleton": text(self.skeleton),
            "meta_json": text(json.dumps(dict(self.meta), sort_keys=True)),
        }

    def save_npz(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write atomically (temporary file, then rename); an existing file is kept unless ``overwrite``."""
        return write_npz(Path(path), self.to_arrays(), overwrite, "reference motion")

    @classmethod
    def load_npz(cls, path: str | os.PathLike[str]) -> "ReferenceMotion":
        """Read a file written by :meth:`save_npz` (``allow_pickle=False``), checking every field."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                data = {key: npz[key] for key in npz.files}
        except Exception as exc:  # zip/npy/pickle refusals surface as many types: report them as one
            raise MocapError(f"{path}: not a readable reference motion (.npz): {type(exc).__name__}: {exc}") from exc
        missing = sorted(set(cls._KEYS) - set(data))
        if missing or str(data.get("format", "")) != FORMAT:
            raise MocapError(f"{path}: not a sportsim reference motion (format {FORMAT!r}); missing fields {missing}")
        if int(data["format_version"]) != FORMAT_VERSION:
            raise MocapError(f"{path}: unsupported reference motion version {int(data['format_version'])}")
        for key, expected in (("joint_names", humanoid.JOINT_NAMES), ("point_names", POINT_NAMES),
                              ("contact_names", CONTACT_NAMES)):
            if tuple(str(n) for n in data[key]) != tuple(expected):
                raise MocapError(f"{path}: field {key!r} does not match this sportsim humanoid")
        try:
            meta = json.loads(str(data["meta_json"]))
            return cls(fps=float(data["fps"]), qpos=data["qpos"], qvel=data["qvel"], positions_m=data["positions_m"],
                       foot_contacts=data["foot_contacts"], target_names=tuple(str(n) for n in data["target_names"]),
                       target_positions_m=data["target_positions_m"], height_m=float(data["height_m"]),
                       mass_kg=float(data["mass_kg"]), sex=str(data["sex"]), scale=float(data["scale"]),
                       source=str(data["source"]), skeleton=str(data["skeleton"]), meta=meta)
        except (MocapError, ValueError, TypeError, AttributeError) as exc:
            raise MocapError(f"{path}: invalid reference motion: {exc}") from exc

    _KEYS = ("format", "format_version", "fps", "qpos", "qvel", "joint_names", "point_names", "positions_m",
             "foot_contacts", "contact_names", "target_names", "target_positions_m", "height_m", "mass_kg",
             "sex", "scale", "source", "skeleton", "meta_json")


def is_reference_motion(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an ``.npz`` written by :meth:`ReferenceMotion.save_npz` (and not a Clip)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return "format" in npz.files and str(npz["format"]) == FORMAT
    except Exception:  # unreadable or not an npz: not a reference motion; its reader reports why
        return False


# ---- a motion from its qpos (retarget and resample build every ReferenceMotion with it) --------------
def _forward(model: mujoco.MjModel, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(T, P, 3)`` of :data:`POINT_NAMES` and the lowest foot-box corner heights ``(T, 2)``."""
    data = mujoco.MjData(model)
    joints = [model.joint(n).id for n in humanoid.JOINT_NAMES[1:]]
    sites = [model.site(n).id for n in humanoid.END_EFFECTOR_NAMES]
    pelvis = model.body("pelvis").id
    geoms = [model.geom(n).id for n in FOOT_GEOMS]
    half = model.geom_size[geoms]  # (2, 3) box half sizes
    positions = np.empty((len(qpos), len(POINT_NAMES), 3))
    lowest = np.empty((len(qpos), 2))
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        positions[t, 0] = data.xpos[pelvis]
        positions[t, 1:len(joints) + 1] = data.xanchor[joints]
        positions[t, len(joints) + 1:] = data.site_xpos[sites]
        z_row = data.geom_xmat[geoms].reshape(2, 3, 3)[:, 2, :]  # world z of each box axis
        lowest[t] = data.geom_xpos[geoms, 2] - np.sum(half * np.abs(z_row), axis=1)
    return positions, lowest


def _motion(model: mujoco.MjModel, qpos: np.ndarray, fps: float, contacts: np.ndarray, target_names, targets,
            **fields: Any) -> ReferenceMotion:
    """The :class:`ReferenceMotion` of ``qpos (T, nq)`` on ``model``: ``positions_m`` by forward kinematics,
    ``qvel`` by central finite differences (one-sided at the ends); ``fields``: its other fields."""
    positions, _ = _forward(model, qpos)
    qvel = np.zeros((len(qpos), model.nv))
    if len(qpos) > 1:
        for t in range(len(qpos)):
            a, b = max(t - 1, 0), min(t + 1, len(qpos) - 1)
            mujoco.mj_differentiatePos(model, qvel[t], (b - a) / fps, qpos[a], qpos[b])
    return ReferenceMotion(fps=fps, qpos=qpos, qvel=qvel, positions_m=positions, foot_contacts=np.asarray(contacts),
                           target_names=tuple(target_names), target_positions_m=targets, **fields)
