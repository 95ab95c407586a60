"""Foot contact for :func:`sportsim.mocap.retarget.retarget`: the root's height, stance feet on the floor,
planted feet, and what is left of foot slip (steps 5 and 6 of retarget's method, and its ``smooth_root``).

Conventions as in :mod:`sportsim.mocap.retarget`: Z up with the floor at z = 0, metres, quaternions
(w, x, y, z). ``points (T, P, 3)`` are the humanoid's :data:`POINT_NAMES` in the world, ``stance (T, 2)``
the stance flags of the (right, left) foot, ``foot_low (T, 2)`` the height of each foot box's lowest
corner (:data:`FOOT_GEOMS`). The functions return corrections; ``retarget`` applies them to the qpos.

Method:

1. Root height (:func:`_ground_shift`): the root is shifted vertically so the lowest foot-box corner of
   the lowest stance foot is on the floor (within :data:`STANCE_SLACK_M`, 5 mm), the shift interpolated
   and smoothed (Gaussian, :data:`ROOT_SMOOTH_S`, 40 ms) through flight, where it also keeps both feet
   above the floor.
2. Contact plan (:func:`_contact_plan`): where a straight stance leg cannot reach the floor the root
   comes down further (at most :data:`MAX_ROOT_DROP_M`, 5 cm). Two-bone leg IK (:func:`_leg_ik`: knee
   angle from the law of cosines, thigh swung onto the new ankle, the foot keeping its world orientation)
   then puts the lowest corner of every stance foot on the floor and lifts any other foot out of it,
   eased in and out of stance over the same 40 ms.
3. Planted feet (``plant_feet``, :func:`_plant_feet`): each stance foot held still about its heel, sole
   or toe (:func:`_pivots`: the lower end of the sole, or its middle when both ends are within
   :data:`PIVOT_TOLERANCE_M`); a stance longer than :data:`PLANT_FOLLOW_S` (3 s) follows the source
   foot's slow drift, and one whose held foot would be further than the foot's length from the source's
   is not planted (the source slides that foot). Where a stance leg cannot reach its held foot the root
   comes down (:func:`_reach_drop`, at most :data:`MAX_REACH_DROP_M`, 6 cm); the leg IK then moves the
   ankles. :func:`stance_slip_hover` measures what is left: pivot slip per stance and hover.
4. Smooth root (``smooth_root``, with ``anatomical_ranges``): hip extension past its range is taken by an
   anterior pelvis tilt (:func:`_hip_extension_into_pelvis`) instead of the range clamp, which swings
   the trailing foot forward for foot planting to pull back (dropping the root 6 cm in 0.1 s in the CMU
   walk); and every root-height correction (ground shift, contact and reach drops) is an
   :func:`_envelope` - a smooth curve never below what each frame needs, sigma :data:`SMOOTH_ROOT_S`
   (0.1 s) - instead of a 40 ms smoothing that each frame's own need pokes through. The reference's
   centre of mass then asks for no vertical force jolts (CMU walk: 0.6-1.45 BW at the 1st-99th
   percentile, 15 Hz, against -0.6-4.3 BW without).

Known limits: the floor is level (z = 0); the humanoid has no toe joint, so a foot pivots about the ends
of its rigid box; the leg IK keeps each foot's world orientation, so a foot that the source tilts stays
tilted.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim.anthropometry import Sex
from sportsim.mocap import quat
from sportsim.mocap._geometry import _SIDES, FOOT_GEOMS, POINT_NAMES, _swing_onto, _unit

STANCE_SLACK_M = 0.005  # a stance foot may hover this much when the root shift is smoothed
MAX_ROOT_DROP_M = 0.05  # the root is lowered at most this much to let a straight stance leg reach the floor
ROOT_SMOOTH_S = 0.04  # Gaussian sigma of the root height shift
SMOOTH_ROOT_S = 0.1  # smooth_root: the sigma of every root height correction (a 1 cm bump of this sigma asks
                     # the body for 0.1 BW; of ROOT_SMOOTH_S, 0.6 BW)
PELVIS_TILT_SMOOTH_S = 0.05  # Gaussian sigma of the pelvis tilt that takes hip extension past its range
MAX_REACH_DROP_M = 0.06  # the root is lowered at most this much for a stance leg to reach its planted foot
PIVOT_TOLERANCE_M = 0.01  # heel or toe is the pivot when it is this much lower than the other end of the sole
PLANT_RELEASE_S = 0.1  # after toe-off the planting correction fades out over this time (the foot is in the air)
PLANT_FOLLOW_S = 3.0  # a stance longer than this (idle, shuffling) follows the source foot's slow drift ...
PLANT_FOLLOW_SIGMA_S = 0.5  # ... slower than a Gaussian of this sigma (walks' and jumps' stances are shorter)


# ---- the root's height -----------------------------------------------------------------------------
def _ground_shift(foot_low: np.ndarray, stance: np.ndarray, fps: float, smooth_root: bool = False) -> np.ndarray:
    """Vertical root shift per frame: the lowest stance foot on the floor (within the slack), the shift
    interpolated and smoothed through flight, where it also keeps both feet above the floor.
    ``smooth_root``: the clamp to the slack (a step where the stance foot changes) is smoothed again with
    :data:`SMOOTH_ROOT_S`; the contact plan's leg IK then puts the stance feet on the floor."""
    any_stance = stance.any(axis=1)
    touch = -np.where(stance, foot_low, np.inf).min(axis=1)  # -inf where no foot is in stance
    frames = np.arange(len(foot_low))
    if any_stance.any():
        raw = np.interp(frames, frames[any_stance], touch[any_stance])
    else:
        raw = np.full(len(foot_low), -foot_low.min())
    shift = _smooth(raw, ROOT_SMOOTH_S * fps)
    shift = np.where(any_stance, np.clip(shift, touch, touch + STANCE_SLACK_M), shift)
    if smooth_root:  # smooth again, and lift smoothly where a foot in the air would be in the floor
        shift = _smooth(shift, SMOOTH_ROOT_S * fps)
        return shift + _envelope(np.where(any_stance, 0.0, np.maximum(-foot_low.min(axis=1) - shift, 0.0)),
                                 SMOOTH_ROOT_S * fps)
    return np.where(any_stance, shift, np.maximum(shift, -foot_low.min(axis=1)))


def _contact_plan(points: np.ndarray, foot_low: np.ndarray, stance: np.ndarray, fps: float,
                  leg_m: float, smooth_root: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Root drop ``(T,)`` (at most MAX_ROOT_DROP_M) that lets every stance leg reach the floor, and the
    vertical ankle change ``(T, 2)`` that then puts each stance foot's lowest corner on the floor and
    keeps the other feet above it, eased in and out of stance. ``smooth_root``: the drop is
    :func:`_envelope` (smooth, never below what each frame needs) instead of a smoothed curve that the
    frame's own need pokes through."""
    hips = points[:, [POINT_NAMES.index(f"{side}_hip") for side, _ in _SIDES]]
    ankles = points[:, [POINT_NAMES.index(f"{side}_ankle") for side, _ in _SIDES]]
    rel = ankles - hips
    rel[..., 2] -= foot_low  # stance target: the lowest corner on the floor
    reach_z = np.sqrt(np.maximum((leg_m * (1 - 1e-6)) ** 2 - rel[..., 0] ** 2 - rel[..., 1] ** 2, 0.0))
    short = np.where(stance, np.clip(-rel[..., 2] - reach_z, 0.0, MAX_ROOT_DROP_M), 0.0).max(axis=1)
    drop = _envelope(short, SMOOTH_ROOT_S * fps) if smooth_root else np.maximum(_smooth(short, ROOT_SMOOTH_S * fps), short)
    low = foot_low - drop[:, None]
    eased = np.stack([_smooth(np.where(stance[:, k], -low[:, k], np.maximum(-low[:, k], 0.0)), ROOT_SMOOTH_S * fps)
                      for k in range(2)], axis=1)
    return drop, np.where(stance, -low, np.maximum(eased, -low))


def _reach_drop(points: np.ndarray, disp: np.ndarray, stance: np.ndarray, leg_m: float, fps: float,
                smooth_root: bool = False) -> np.ndarray:
    """``(T,)`` root lowering that lets every stance leg reach its moved ankle (hip fixed to the pelvis),
    at most :data:`MAX_REACH_DROP_M`, smoothed like the root's other height corrections."""
    hips = points[:, [POINT_NAMES.index(f"{side}_hip") for side, _ in _SIDES]]
    ankles = points[:, [POINT_NAMES.index(f"{side}_ankle") for side, _ in _SIDES]] + disp
    rel = ankles - hips
    reach = leg_m * (1 - 1e-6)
    s = np.sqrt(np.maximum(reach**2 - rel[..., 0] ** 2 - rel[..., 1] ** 2, 0.0))
    short = np.where(stance, np.clip(-rel[..., 2] - s, 0.0, MAX_REACH_DROP_M), 0.0).max(axis=1)
    return _envelope(short, SMOOTH_ROOT_S * fps) if smooth_root else np.maximum(_smooth(short, ROOT_SMOOTH_S * fps), short)


def _hip_extension_into_pelvis(qpos: np.ndarray, fps: float) -> str:
    """Where a hip is extended past its anatomical range, tilt the pelvis forward (about its own
    medio-lateral y axis, through the hip centres) by the excess and turn the hips and the chest back by
    the same rotation: both legs and the trunk keep their world orientations and the feet stay where the
    source has them - as a walker's pelvis tilts and the lumbar spine extends at push-off. Clamping the hip
    instead swings the trailing foot forward (up to 14 cm in the CMU walk), which foot planting then pulls
    back by leaving the leg short and dropping the root (6 cm in 0.1 s: a 2.7 BW jolt in the reference).
    The tilt is :func:`_envelope` of the excess (sigma :data:`PELVIS_TILT_SMOOTH_S`). In place; returns a note."""
    from sportsim import humanoid_limits as limits

    excess = np.zeros(len(qpos))
    for side, _ in _SIDES:
        adr = humanoid.qpos_address(f"{side}_hip")
        extension = quat.to_rotation_vector(qpos[:, adr:adr + 4])[:, 1]
        excess = np.maximum(excess, extension - limits.range_rad(f"{side}_hip_y")[1])
    if not np.any(excess > 0.0):
        return "none"
    tilt = _envelope(np.maximum(excess, 0.0), PELVIS_TILT_SMOOTH_S * fps)
    turn = quat.from_axis_angle(np.array([0.0, 1.0, 0.0]), tilt)
    qpos[:, 3:7] = quat.multiply(qpos[:, 3:7], turn)
    back = quat.conjugate(turn)
    for child in ("chest",) + tuple(f"{side}_hip" for side, _ in _SIDES):
        adr = humanoid.qpos_address(child)
        qpos[:, adr:adr + 4] = quat.multiply(back, qpos[:, adr:adr + 4])
    return (f"hip extension past its range in {int((excess > 0).sum())} frames (up to "
            f"{math.degrees(excess.max()):.1f} deg) taken by an anterior pelvis tilt")


# ---- two-bone leg IK -------------------------------------------------------------------------------
def _leg_bones_m(height_m: float, sex: Sex) -> tuple[float, float]:
    offsets = humanoid.joint_offsets_m(height_m, sex)
    return float(np.linalg.norm(offsets["right_knee"])), float(np.linalg.norm(offsets["right_ankle"]))


def _leg_ik(world: dict[str, np.ndarray], hinge: dict[str, np.ndarray], points: np.ndarray, lift: np.ndarray,
            bones_m: tuple[float, float]) -> None:
    """Move each ankle by ``lift (T, 2, 3)`` (m, world) with two-bone leg IK: knee angle from the law of
    cosines, thigh swung onto the new ankle, the foot keeping its world orientation.
    Updates ``world`` and ``hinge`` in place."""
    thigh_m, shank_m = bones_m
    knee_axis = np.array([0.0, 1.0, 0.0])
    for k, (side, _) in enumerate(_SIDES):
        rows = np.any(lift[:, k] != 0, axis=-1)
        if not rows.any():
            continue
        hip = points[rows, POINT_NAMES.index(f"{side}_hip")]
        ankle = points[rows, POINT_NAMES.index(f"{side}_ankle")] + lift[rows, k]
        reach = np.clip(np.linalg.norm(ankle - hip, axis=-1), abs(thigh_m - shank_m) + 1e-6,
                        (thigh_m + shank_m) * (1 - 1e-9))
        angle = np.pi - np.arccos(np.clip((thigh_m**2 + shank_m**2 - reach**2) / (2 * thigh_m * shank_m), -1, 1))
        thigh = world[f"{side}_hip"][rows]
        shank = quat.multiply(thigh, quat.from_axis_angle(knee_axis, angle))
        reached = quat.rotate(thigh, [0.0, 0.0, -thigh_m]) + quat.rotate(shank, [0.0, 0.0, -shank_m])
        swing = _swing_onto(np.tile(quat.IDENTITY, (len(hip), 1)), _unit(reached), _unit(ankle - hip))
        thigh = quat.multiply(swing, thigh)
        for name, value in ((f"{side}_hip", thigh), (f"{side}_knee", quat.multiply(swing, shank))):
            world[name] = world[name].copy()
            world[name][rows] = value
        hinge[f"{side}_knee"] = hinge[f"{side}_knee"].copy()
        hinge[f"{side}_knee"][rows] = angle


# ---- planted feet ----------------------------------------------------------------------------------
def _foot_sole_points(model: mujoco.MjModel, qpos: np.ndarray) -> np.ndarray:
    """``(T, 2, 2, 3)``: the heel and toe ends of each (right, left) foot box's sole (bottom edge, middle)."""
    data = mujoco.MjData(model)
    geoms = [model.geom(n).id for n in FOOT_GEOMS]
    half = model.geom_size[geoms]
    out = np.empty((len(qpos), 2, 2, 3))
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        for k, g in enumerate(geoms):
            axes = data.geom_xmat[g].reshape(3, 3)
            bottom = data.geom_xpos[g] - half[k, 2] * axes[:, 2]
            out[t, k, 0] = bottom - half[k, 0] * axes[:, 0]
            out[t, k, 1] = bottom + half[k, 0] * axes[:, 0]
    return out


def _pivots(sole: np.ndarray) -> np.ndarray:
    """``(T,)`` pivot of one foot per frame from its sole ends ``(T, 2, 3)``: 0 heel, 1 toe, 2 flat (the
    middle of the sole)."""
    heel, toe = sole[:, 0, 2], sole[:, 1, 2]
    return np.where(heel < toe - PIVOT_TOLERANCE_M, 0, np.where(toe < heel - PIVOT_TOLERANCE_M, 1, 2))


def _pivot_point(sole_t: np.ndarray, pivot: int) -> np.ndarray:
    return sole_t[pivot] if pivot < 2 else 0.5 * (sole_t[0] + sole_t[1])


def _plant_feet(sole: np.ndarray, stance: np.ndarray, fps: float) -> tuple[np.ndarray, str]:
    """Horizontal ankle corrections ``(T, 2, 3)`` that keep each stance foot from sliding.

    Within a stance phase the foot turns about its heel (heel strike), lies flat, then turns about its
    toe (push-off): the pivot is the lower end of the sole, or its middle when both ends are within
    :data:`PIVOT_TOLERANCE_M`. The longest stretch with one pivot holds that pivot at its mean position;
    each earlier and later stretch holds its own pivot where it was at the change (so the correction
    is continuous). The ankle - with the foot, which keeps its orientation - moves by the horizontal
    correction; before and after the stance the correction fades in and out linearly over
    :data:`PLANT_RELEASE_S` in the air.

    What the source does on purpose is kept: in a stance longer than :data:`PLANT_FOLLOW_S` (an idle
    stance, a shuffle) the held point follows the source foot's slow drift (the correction loses its
    part slower than a Gaussian of :data:`PLANT_FOLLOW_SIGMA_S`), and a stance whose held foot would be
    further than the foot's own length from where the source has it (the source slides that foot) is
    not planted at all: the foot moves as in the source. Returns the corrections and a note with the
    largest one and what was followed or released."""
    n = len(sole)
    disp = np.zeros((n, 2, 3))
    fade = max(1, int(round(PLANT_RELEASE_S * fps)))
    followed = released = 0
    worst_slide = 0.0
    for k in range(2):
        foot_m = float(np.median(np.linalg.norm(sole[:, k, 1] - sole[:, k, 0], axis=-1))) if n else 0.0
        on = stance[:, k]
        pivots = _pivots(sole[:, k])
        points = np.array([_pivot_point(sole[u, k], int(pivots[u])) for u in range(n)])
        for start, end in _runs(on):
            segments = [(a, b) for a, b in _runs_of_values(pivots[start:end], start)]
            main = max(range(len(segments)), key=lambda i: segments[i][1] - segments[i][0])
            corr = np.zeros((n, 3))
            a, b = segments[main]
            corr[a:b] = points[a:b].mean(axis=0) - points[a:b]
            for a, b in segments[main + 1:]:  # later stretches: continuous with the one before
                anchor = _pivot_point(sole[a, k], int(pivots[a])) + corr[a - 1]
                corr[a:b] = anchor - points[a:b] if pivots[a] == pivots[a - 1] else \
                    anchor - np.array([_pivot_point(sole[u, k], int(pivots[a])) for u in range(a, b)])
            for a, b in reversed(segments[:main]):  # earlier stretches: continuous with the one after
                anchor = _pivot_point(sole[b - 1, k], int(pivots[a])) + corr[b]
                corr[a:b] = anchor - np.array([_pivot_point(sole[u, k], int(pivots[a])) for u in range(a, b)])
            corr[:, 2] = 0.0
            if end - start > PLANT_FOLLOW_S * fps:  # a long stance: keep the source's slow drift
                slow = np.stack([_smooth(corr[start:end, c], PLANT_FOLLOW_SIGMA_S * fps) for c in range(2)], axis=1)
                corr[start:end, :2] -= slow
                followed += 1
            slide = float(np.linalg.norm(corr[start:end], axis=-1).max())
            if slide > foot_m:  # held, it would be a foot's length from the source's: the source slides it
                released += 1
                worst_slide = max(worst_slide, slide)
                continue
            disp[start:end, k] = corr[start:end]
            for i in range(1, fade + 1):  # fade out after the stance and in before it, in the air only
                weight = 1.0 - i / (fade + 1)
                if end - 1 + i < n and not on[end - 1 + i]:
                    disp[end - 1 + i, k] += weight * corr[end - 1]
                if start - i >= 0 and not on[start - i]:
                    disp[start - i, k] += weight * corr[start]
    largest = float(np.linalg.norm(disp, axis=-1).max()) if n else 0.0
    note = f"stance feet held still (heel / flat / toe pivots); largest ankle correction {100 * largest:.1f} cm"
    if followed:
        note += f"; {followed} stance(s) longer than {PLANT_FOLLOW_S:g} s follow the source foot's slow drift"
    if released:
        note += (f"; {released} stance(s) not planted: held, the foot would be up to {100 * worst_slide:.0f} cm "
                 "from the source's, more than its length (the source slides it)")
    return disp, note


def stance_slip_hover(model: mujoco.MjModel, qpos: np.ndarray, stance: np.ndarray) -> dict[str, float]:
    """Foot slip and hover of a motion (reference or simulated) with stance flags ``(T, 2)``.

    Slip of one stance = the horizontal distance the pivot point (heel, toe or mid-sole: :func:`_pivots`)
    travels while it is the pivot, summed over the stance's pivot stretches - a planted foot rolls from
    heel to toe without any of them sliding. Hover = the height of the lowest sole end above the floor.
    Returns per foot the median slip per stance (mm; complete stances: not touching the ends of the
    motion) and the median hover over stance frames (mm)."""
    sole = _foot_sole_points(model, qpos)
    out: dict[str, float] = {}
    for k, (side, _) in enumerate(_SIDES):
        pivots = _pivots(sole[:, k])
        slips = []
        for start, end in _runs(stance[:, k]):
            if start == 0 or end == len(qpos):
                continue
            total = 0.0
            for a, b in _runs_of_values(pivots[start:end], start):
                pts = np.array([_pivot_point(sole[u, k], int(pivots[a])) for u in range(a, b)])[:, :2]
                total += float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
            slips.append(total)
        low = sole[stance[:, k], k, :, 2].min(axis=-1) if stance[:, k].any() else np.array([np.nan])
        out[f"{side}_slip_mm"] = 1000.0 * float(np.median(slips)) if slips else float("nan")
        out[f"{side}_hover_mm"] = 1000.0 * float(np.median(low))
        out[f"{side}_stances"] = float(len(slips))
    return out


# ---- runs and smoothing ----------------------------------------------------------------------------
def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of every run of True in ``flags``."""
    padded = np.concatenate([[False], np.asarray(flags, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _runs_of_values(values: np.ndarray, offset: int) -> list[tuple[int, int]]:
    """``[start, end)`` (plus ``offset``) of every run of equal values."""
    change = np.flatnonzero(np.diff(values)) + 1
    bounds = np.concatenate([[0], change, [len(values)]])
    return [(int(a) + offset, int(b) + offset) for a, b in zip(bounds[:-1], bounds[1:])]


def _envelope(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """A smooth curve never below ``x``: the running maximum over +-3 sigma, then :func:`_smooth` with the
    same sigma (each frame's value is a weighted mean of maxima that all include that frame's ``x``)."""
    if sigma_frames < 0.5 or len(x) < 3:
        return x.copy()
    radius = int(math.ceil(3 * sigma_frames))
    padded = np.pad(x, radius, mode="edge")
    return _smooth(np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1).max(axis=1), sigma_frames)


def _smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian smoothing with edge padding (sigma in frames)."""
    if sigma_frames < 0.5 or len(x) < 3:
        return x.copy()
    radius = int(math.ceil(3 * sigma_frames))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    return np.convolve(np.pad(x, radius, mode="edge"), kernel / kernel.sum(), mode="valid")
