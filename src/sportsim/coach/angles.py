"""The joint angles coaches use, in degrees, from 3-D joint positions.

Computed from joint centres only (no joint rotations), so they mean the same for every capture skeleton;
``python -m sportsim.compare`` takes the positions of the retargeted humanoid (``ReferenceMotion.
positions_m``), so both movements of a comparison are measured on one skeleton. Z up, metres.

Points (:data:`sportsim.mocap.reference_motion.POINT_NAMES`): ``pelvis`` is the mid-hip point, ``neck`` the base
of the neck (cervicale), ``<side>_hand`` the wrist centre. The trunk frame of every frame:

* up ``u`` = unit vector from the mid-hip point to the base of the neck (the trunk axis);
* left ``l`` = the hip line (right hip -> left hip) made perpendicular to ``u``;
* forward ``f = l x u``; the trunk's sagittal plane is spanned by ``f`` and ``u``.

Angles (``<side>_<group>`` for side ``left``/``right``; ``trunk`` once):

| group | angle | 0 deg | positive |
|---|---|---|---|
| knee | flexion: angle between thigh (hip -> knee) and shank (knee -> ankle), 3-D | straight leg | bent |
| elbow | flexion: angle between upper arm (shoulder -> elbow) and forearm (elbow -> wrist), 3-D | straight arm | bent |
| hip | flexion: thigh (hip -> knee) against the trunk axis in the trunk's sagittal plane, ``atan2(d.f, -d.u)`` | thigh in line with the trunk | thigh forward (flexion); negative = behind (extension) |
| shoulder | flexion: upper arm (shoulder -> elbow) in the trunk's sagittal plane, same formula | arm hanging along the trunk | arm forward / up (90 = forward horizontal, 180 = overhead); negative = behind (extension) |
| trunk | inclination: trunk axis against the vertical, in the vertical plane of the hips' forward direction ``h = unit(l x z)``: ``atan2(u.h, u.z)`` | upright | leaning forward; negative = backward |

The hip, shoulder and trunk angles are projections onto a plane, as a 2-D video analysis from the side
measures them: sideways movement (abduction, lateral lean) is left out, and a segment pointing straight
out of the plane (an arm held sideways at shoulder height) has no defined angle. They are unwrapped over
time, so an arm swinging up past vertical reads 190 deg rather than -170 deg, and then shifted by whole
turns so that the median over the frames lies in (-180, 180] (a movement that turns a segment through
full circles, a cartwheel's arms, can still read a turn apart in two excerpts:
:func:`sportsim.coach.report.match_turns` puts two series on the same turn).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from sportsim.errors import ConfigError
from sportsim.mocap.reference_motion import POINT_NAMES, ReferenceMotion

GROUPS = ("knee", "hip", "elbow", "shoulder", "trunk")
SIDES = ("left", "right")
# group -> what is measured (labels of plots and tables)
LABELS = {"knee": "knee flexion", "hip": "hip flexion", "elbow": "elbow flexion",
          "shoulder": "shoulder flexion", "trunk": "trunk inclination"}
# group -> the sign convention, for every axis label
SIGNS = {"knee": "+ bent", "hip": "+ thigh forward", "elbow": "+ bent", "shoulder": "+ arm forward/up",
         "trunk": "+ leaning forward"}
_EPS = 1e-9


def parse_groups(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"knee,hip"`` (or an iterable of names) -> the groups in :data:`GROUPS` order; unknown names are a
    ConfigError that lists the valid ones."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in GROUPS]
    if unknown or not names:
        what = f"unknown joint group(s) {', '.join(unknown)}" if unknown else "no joint group given"
        raise ConfigError(f"joints: {what} (valid: {', '.join(GROUPS)})")
    return tuple(g for g in GROUPS if g in names)


def angle_names(groups: Sequence[str] = GROUPS) -> tuple[str, ...]:
    """The angle names of ``groups``: ``left_<group>``, ``right_<group>`` for each limb group, ``trunk``."""
    out: list[str] = []
    for group in parse_groups(groups):
        out += ["trunk"] if group == "trunk" else [f"{side}_{group}" for side in SIDES]
    return tuple(out)


def label(name: str) -> str:
    """``"left_knee"`` -> ``"left knee flexion"``; ``"trunk"`` -> ``"trunk inclination"``."""
    side, _, group = name.rpartition("_")
    return f"{side} {LABELS[group]}" if side else LABELS[group]


def axis_label(name: str) -> str:
    """The label with unit and sign convention: ``"right knee flexion (deg, + bent)"``."""
    return f"{label(name)} (deg, {SIGNS[name.rpartition('_')[2]]})"


def joint_angles(positions_m: np.ndarray, point_names: Sequence[str] = POINT_NAMES,
                 groups: Sequence[str] = GROUPS) -> np.ndarray:
    """Angles ``(T, K)`` in degrees, columns in :func:`angle_names` order, from point positions
    ``(T, P, 3)`` (or one pose ``(P, 3)``, giving ``(K,)``) named by ``point_names``; definitions in the
    module docstring."""
    positions = np.asarray(positions_m, dtype=float)
    single = positions.ndim == 2
    positions = positions[None] if single else positions
    index = {name: i for i, name in enumerate(point_names)}

    def point(name: str) -> np.ndarray:
        return positions[:, index[name]]

    up = _unit(point("neck") - point("pelvis"))
    hips = point("left_hip") - point("right_hip")
    left = _unit(hips - np.sum(hips * up, axis=-1, keepdims=True) * up)
    forward = np.cross(left, up)
    columns = []
    for name in angle_names(groups):
        side, _, group = name.rpartition("_")
        if group == "knee":
            angle = _between(point(f"{side}_knee") - point(f"{side}_hip"),
                             point(f"{side}_ankle") - point(f"{side}_knee"))
        elif group == "elbow":
            angle = _between(point(f"{side}_elbow") - point(f"{side}_shoulder"),
                             point(f"{side}_hand") - point(f"{side}_elbow"))
        elif group in ("hip", "shoulder"):
            joint, end = (f"{side}_hip", f"{side}_knee") if group == "hip" else (f"{side}_shoulder", f"{side}_elbow")
            d = point(end) - point(joint)
            angle = _unwrap(np.arctan2(np.sum(d * forward, axis=-1), -np.sum(d * up, axis=-1)))
        else:  # trunk
            ahead = _unit(np.cross(left, np.array([0.0, 0.0, 1.0])))
            angle = _unwrap(np.arctan2(np.sum(up * ahead, axis=-1), up[:, 2]))
        columns.append(np.degrees(angle))
    out = np.stack(columns, axis=-1)
    return out[0] if single else out


@dataclass(frozen=True)
class JointAngles:
    """Joint angles of one movement: ``degrees`` ``(T, K)`` sampled at ``fps``, columns named ``names``."""

    names: tuple[str, ...]
    degrees: np.ndarray
    fps: float

    def series(self, name: str) -> np.ndarray:
        """The ``(T,)`` angle ``name`` (e.g. ``"right_knee"``)."""
        if name not in self.names:
            raise KeyError(f"no angle {name!r}; have {', '.join(self.names)}")
        return self.degrees[:, self.names.index(name)]

    @property
    def n_frames(self) -> int:
        return int(self.degrees.shape[0])


def motion_angles(motion: ReferenceMotion, groups: Sequence[str] = GROUPS) -> JointAngles:
    """The angles of ``groups`` for every frame of a retargeted motion, from its joint positions."""
    degrees = joint_angles(motion.positions_m, POINT_NAMES, groups)
    return JointAngles(angle_names(groups), degrees, motion.fps)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _EPS)


def _between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) between vectors, robust near 0 and pi (atan2 of |a x b| and a.b)."""
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def _unwrap(angle_rad: np.ndarray) -> np.ndarray:
    """Continuous over time, shifted by whole turns so that its median lies in (-pi, pi]."""
    angle = np.unwrap(angle_rad, axis=0)
    turns = np.ceil((np.median(angle, axis=0) - math.pi) / (2.0 * math.pi))
    return angle - 2.0 * math.pi * turns
