"""Conventions read from the data: which axis is up, which length unit, and whether the body is a humanoid's.

* **Up axis** (:func:`detect_up_axis`): over the clip (at most :data:`MAX_SAMPLES` frames), the
  direction from the mid-ankle point to the pelvis and from the pelvis to the neck, each a unit
  vector, summed; the median of that sum over the frames, compared with the six signed axes. The best
  axis within :data:`UP_AXIS_MAX_DEG` of it is up; otherwise the file's declared convention stands
  (BVH: Y up) and the validation reports the clip as lying down.
* **Rotation to Z up** (:func:`to_z_up`): the proper rotation taking the detected up axis to +Z, and
  for a Y-up file the one sportsim always used, ``(x, y, z) -> (x, -z, y)``, so a file's forward
  direction maps the same way for every exporter.
* **Units** (:func:`guess_unit`): from the leg (thigh + shank) length in file units, the unit among
  :data:`AUTO_UNITS` that makes it closest to :data:`TYPICAL_LEG_M`; where none gives a human leg (a rig
  exported at an odd scale), the scale that makes the leg typical - reported as such, and the
  validation warns (``--height`` or ``units=`` fix the size).
* **Humanoid posture** (:func:`quadruped_problem`): a rig whose trunk stays roughly horizontal over
  its hind legs while its "hands" are as low as its feet (an elephant on a 3ds Max biped) is refused.
* **Facing** (:func:`facing_cues`, :func:`facing_consensus`): where the body faces, by each independent
  cue - the hip line and the shoulder line (left on the left), each foot (ankle to toe), each knee's bend
  (knees bend forward) - and the cue most others agree with. Exporters get single cues wrong (a foot
  joint turned 80-110 deg in Azure Kinect and Text2Gestures files); the majority does not.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from sportsim.mocap import quat

MAX_SAMPLES = 400  # frames looked at (evenly spaced) to detect the up axis
UP_AXIS_MAX_DEG = 50.0  # the body direction must lie this close to an axis for that axis to count as up
TYPICAL_LEG_M = 0.85  # thigh + shank of a 1.75 m adult (de Leva); units are chosen to come closest
PLAUSIBLE_LEG_M = (0.5, 1.23)  # thigh + shank of statures 1.0-2.5 m (retarget.PLAUSIBLE_HEIGHT_M); none: scaled
AUTO_UNITS = {"m": 1.0, "dm": 0.1, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}  # = UNITS_M
QUADRUPED_TRUNK_DEG = 60.0  # trunk this far off the leg axis ...
QUADRUPED_HAND_HEIGHT = 0.45  # ... and wrists within this fraction of the leg length above the ankles
FACING_AGREE_DEG = 45.0  # two facing cues within this (median over the clip) agree
BENT_KNEE = 0.05  # a knee this far (fraction of its leg) off the hip-ankle line shows which way is forward
AXES = {"+X": (0, 1.0), "-X": (0, -1.0), "+Y": (1, 1.0), "-Y": (1, -1.0), "+Z": (2, 1.0), "-Z": (2, -1.0)}


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 1e-12)


def sample_frames(n_frames: int) -> np.ndarray:
    """Indices of at most :data:`MAX_SAMPLES` evenly spaced frames."""
    return np.unique(np.linspace(0, n_frames - 1, min(n_frames, MAX_SAMPLES)).round().astype(int))


def body_up(points: np.ndarray, idx: Mapping[str, int]) -> np.ndarray:
    """``(T, 3)`` unit 'up the body' vectors: ankles->pelvis plus pelvis->neck, normalised."""
    pelvis = points[:, idx["pelvis"]]
    ankles = 0.5 * (points[:, idx["l_ankle"]] + points[:, idx["r_ankle"]])
    top = points[:, idx.get("neck", idx["chest"])]
    return _unit(_unit(pelvis - ankles) + _unit(top - pelvis))


def detect_up_axis(points: np.ndarray, idx: Mapping[str, int]) -> tuple[str | None, float]:
    """The signed axis ('+Y', '+Z', ...) the body stands along, or None if it lies along none of them,
    and the angle (deg) between the body's median direction and that axis."""
    direction = np.median(body_up(points, idx), axis=0)
    if not np.all(np.isfinite(direction)) or np.linalg.norm(direction) < 1e-9:
        return None, 180.0
    direction = direction / np.linalg.norm(direction)
    best = max(AXES, key=lambda a: AXES[a][1] * direction[AXES[a][0]])
    axis, sign = AXES[best]
    angle = math.degrees(math.acos(float(np.clip(sign * direction[axis], -1.0, 1.0))))
    return (best if angle <= UP_AXIS_MAX_DEG else None), angle


def to_z_up(up: str) -> np.ndarray:
    """Unit quaternion of the proper rotation taking the file's ``up`` axis to +Z."""
    x, y, z = np.eye(3)
    if up == "+Z":
        return quat.IDENTITY.copy()
    if up == "+Y":  # (x, y, z) -> (x, -z, y): sportsim's BVH convention since the first reader
        return quat.from_axis_angle(x, np.pi / 2)
    if up == "-Z":
        return quat.from_axis_angle(x, np.pi)
    if up == "-Y":
        return quat.from_axis_angle(x, -np.pi / 2)
    if up == "+X":
        return quat.from_axis_angle(y, -np.pi / 2)
    if up == "-X":
        return quat.from_axis_angle(y, np.pi / 2)
    raise ValueError(f"unknown axis {up!r}")


def guess_unit(leg_file_units: float) -> tuple[str, float]:
    """(unit name, metres per file unit) that makes a leg of ``leg_file_units`` closest to a typical one;
    ("", scale) when no unit gives a human leg (:data:`PLAUSIBLE_LEG_M`): then the scale that makes the
    leg typical (a rig exported at an odd scale)."""
    if not (math.isfinite(leg_file_units) and leg_file_units > 0):
        return "m", 1.0
    name = min(AUTO_UNITS, key=lambda u: abs(math.log(leg_file_units * AUTO_UNITS[u] / TYPICAL_LEG_M)))
    if not PLAUSIBLE_LEG_M[0] <= leg_file_units * AUTO_UNITS[name] <= PLAUSIBLE_LEG_M[1]:
        return "", TYPICAL_LEG_M / leg_file_units
    return name, AUTO_UNITS[name]


def quadruped_problem(points: np.ndarray, idx: Mapping[str, int]) -> str:
    """'' for a humanoid's posture; a sentence if the trunk lies across the legs with the hands on the
    floor in most frames (points in any frame, any unit)."""
    pelvis = points[:, idx["pelvis"]]
    ankles = 0.5 * (points[:, idx["l_ankle"]] + points[:, idx["r_ankle"]])
    wrists = 0.5 * (points[:, idx["l_wrist"]] + points[:, idx["r_wrist"]])
    top = points[:, idx.get("neck", idx["chest"])]
    leg_axis = _unit(pelvis - ankles)
    leg_len = np.linalg.norm(pelvis - ankles, axis=-1)
    cos_trunk = np.sum(_unit(top - pelvis) * leg_axis, axis=-1)
    trunk_off = cos_trunk < math.cos(math.radians(QUADRUPED_TRUNK_DEG))
    hands_low = np.sum((wrists - ankles) * leg_axis, axis=-1) < QUADRUPED_HAND_HEIGHT * leg_len
    share = float(np.mean(trunk_off & hands_low))
    if share > 0.5:
        return (f"not a humanoid: in {100 * share:.0f} % of the frames the trunk lies across the legs and the "
                "front limbs reach the floor like the hind ones (a quadruped on a humanoid-named rig?)")
    return ""


def tilt_deg(points: np.ndarray, idx: Mapping[str, int]) -> np.ndarray:
    """``(T,)`` angle (deg) of the body's up direction (:func:`body_up`) from +Z, for Z-up points."""
    return np.degrees(np.arccos(np.clip(body_up(points, idx)[:, 2], -1.0, 1.0)))


def horizontal(v: np.ndarray) -> np.ndarray:
    """``v`` with its Z component removed, as unit vectors (zero where nothing is left)."""
    v = np.array(v, dtype=float)
    v[..., 2] = 0.0
    return _unit(v)


def facing_cues(points: np.ndarray, idx: Mapping[str, int],
                toe_tips: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Where the body faces by each cue: ``{name: (T, 3)}`` horizontal unit vectors (Z-up points; NaN in
    frames where the cue says nothing). ``hips`` / ``shoulders``: the left-minus-right line turned so the
    left side is on the left (up x forward = left); ``left foot`` / ``right foot``: ankle to toe (``toe_tips``
    ``{"l": (T, 3), "r": (T, 3)}`` where given, else the canonical toe joint; no toes, no foot cue);
    ``left knee`` / ``right knee``: the knee's offset from its hip-ankle line, where it is bent by more than
    :data:`BENT_KNEE` of the leg (a straight knee says nothing)."""
    up = np.array([0.0, 0.0, 1.0])
    cues = {"hips": horizontal(np.cross(points[:, idx["l_hip"]] - points[:, idx["r_hip"]], up)),
            "shoulders": horizontal(np.cross(points[:, idx["l_shoulder"]] - points[:, idx["r_shoulder"]], up))}
    for s, side in (("l", "left"), ("r", "right")):
        ankle = points[:, idx[f"{s}_ankle"]]
        tip = toe_tips[s] if toe_tips is not None else points[:, idx[f"{s}_toe"]] if f"{s}_toe" in idx else None
        if tip is not None:
            cues[f"{side} foot"] = horizontal(tip - ankle)
        hip, knee = points[:, idx[f"{s}_hip"]], points[:, idx[f"{s}_knee"]]
        line = ankle - hip
        t = np.clip(np.sum((knee - hip) * line, axis=-1) / np.maximum(np.sum(line * line, axis=-1), 1e-12), 0, 1)
        off = knee - hip - t[:, None] * line
        leg = np.linalg.norm(knee - hip, axis=-1) + np.linalg.norm(ankle - knee, axis=-1)
        bent = np.linalg.norm(off, axis=-1) > BENT_KNEE * leg
        cues[f"{side} knee"] = np.where(bent[:, None], horizontal(off), np.nan)
    return cues


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Median angle (deg) between two ``(T, 3)`` direction tracks over the frames where both say something
    (NaN if there are none)."""
    cos = np.sum(a * b, axis=-1)
    cos = cos[np.isfinite(cos)]
    return float(np.degrees(np.median(np.arccos(np.clip(cos, -1.0, 1.0))))) if cos.size else float("nan")


def facing_consensus(cues: Mapping[str, np.ndarray]) -> tuple[str, np.ndarray, dict[str, float]]:
    """The cue the most others agree with (within :data:`FACING_AGREE_DEG`; ties to the earlier cue in
    ``cues``), the facing it and its supporters give (``(T, 3)``, their mean direction per frame), and every
    cue's median angle (deg) to that facing."""
    names = [name for name in cues if np.isfinite(cues[name]).any()]
    agree = {a: [b for b in names if angle_deg(cues[a], cues[b]) <= FACING_AGREE_DEG] for a in names}
    best = max(names, key=lambda a: len(agree[a]))
    facing = horizontal(np.nansum([np.nan_to_num(cues[b]) for b in agree[best]], axis=0))
    return best, facing, {b: angle_deg(cues[b], facing) for b in cues}


__all__ = ["AUTO_UNITS", "angle_deg", "body_up", "detect_up_axis", "facing_consensus", "facing_cues", "guess_unit",
           "horizontal", "quadruped_problem", "sample_frames", "tilt_deg", "to_z_up"]
