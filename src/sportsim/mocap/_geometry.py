"""What :mod:`sportsim.mocap.retarget`, :mod:`sportsim.mocap.planting` and
:mod:`sportsim.mocap.reference_motion` share: the humanoid's point layout and small vector helpers
(vectorised over leading axes; Z up, quaternions (w, x, y, z)). Package-internal: the leading
underscores say "not sportsim's API", and the mocap modules use them.
"""

from __future__ import annotations

import numpy as np

from sportsim import humanoid
from sportsim.mocap import quat

FOOT_GEOMS = ("right_foot", "left_foot")  # the humanoid's foot boxes (right, left)
POINT_NAMES = humanoid.JOINT_NAMES + humanoid.END_EFFECTOR_NAMES  # the points of ReferenceMotion.positions_m
_SIDES = (("right", "r"), ("left", "l"))  # (humanoid side, source canonical prefix), in stance-column order


# ---- small vector helpers (vectorised over leading axes) -------------------------------------------
def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(norm > 1e-12, norm, 1.0)


def _axis(q: np.ndarray, column: int) -> np.ndarray:
    """World direction of a body axis (0 = x, 1 = y, 2 = z) for orientations ``q``."""
    return quat.rotate(q, np.eye(3)[column])


def _local_mean(rot: np.ndarray, world_vectors: np.ndarray) -> np.ndarray:
    """Mean of world vectors ``(T, 3)`` expressed in the frames ``rot (T, 4)``."""
    if len(rot) == 0:
        return np.zeros(3)
    return quat.rotate(quat.conjugate(rot), world_vectors).mean(axis=0)


def _frame(z: np.ndarray, y: np.ndarray | None = None, x: np.ndarray | None = None, first: str = "z") -> np.ndarray:
    """Rotation (quaternion) whose z axis points along ``z`` and whose y (or x) axis is as close to
    ``y`` (or ``x``) as orthogonality allows; ``first="y"`` keeps ``y`` exact instead. A secondary
    axis parallel to the first is replaced by the world axis least aligned with it."""
    z = _unit(np.asarray(z, dtype=float))
    if first == "y":
        y = _unit(np.asarray(y, dtype=float))
        z = _unit(z - np.dot(z, y) * y)
        return quat.from_matrix(np.column_stack([np.cross(y, z), y, z]))
    other = np.asarray(y if y is not None else x, dtype=float)
    other = other - np.dot(other, z) * z
    if np.linalg.norm(other) < 1e-6:
        other = np.eye(3)[int(np.argmin(np.abs(z)))]
        other = other - np.dot(other, z) * z
    other = _unit(other)
    if y is not None:
        return quat.from_matrix(np.column_stack([np.cross(other, z), other, z]))
    return quat.from_matrix(np.column_stack([other, np.cross(z, other), z]))


def _swing_onto(q: np.ndarray, body_axis: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``q`` turned by the smallest rotation that makes its ``body_axis`` point along ``target``."""
    v = quat.rotate(q, body_axis)
    cross = np.cross(v, target)
    dot = np.sum(v * target, axis=-1)
    swing = np.concatenate([(1.0 + dot)[..., None], cross], axis=-1)
    opposite = 1.0 + dot < 1e-9  # half turn: any axis perpendicular to v
    if np.any(opposite):
        perp = np.cross(v[opposite], np.eye(3)[np.argmin(np.abs(v[opposite]), axis=-1)])
        swing[opposite] = np.concatenate([np.zeros((int(opposite.sum()), 1)), _unit(perp)], axis=-1)
    return quat.multiply(quat.normalize(swing), q)
