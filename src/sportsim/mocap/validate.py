"""Validation report for a clip or a retargeted reference motion, to read before training on it.

Each row is one check: its value, its threshold and a status - ``ok``, ``warning`` (usable, but look at
it) or ``error`` (fatal: ``python -m sportsim.mocap convert`` refuses to write the motion unless
``--force``). A :class:`Clip` is retargeted with the default settings first, so the humanoid checks
(feet, joint limits, retarget error) are reported for it too.

Checks (thresholds are the module constants):

* frame rate (Hz): error below 10 Hz, warning below 25 Hz.
* duration and short clip: error below 2 frames, warning below 1 s.
* NaN/inf: any non-finite value in the clip's or the motion's arrays is an error.
* foot penetration: the deepest foot-box corner below the floor; error beyond 1 cm.
* stance floating: the highest lowest-corner of a foot in stance; warning beyond 2 cm.
* stance knee: median knee flexion over each foot's stance, the reference's beside the source's
  (``meta``); a warning where the retargeting flexed a stance knee more than 5 deg beyond the source's.
* root drift: horizontal root displacement first to last frame (information) and the largest
  vertical root speed between frames; warning beyond 6 m/s (free fall from 1.8 m).
* joint limits: (frame, joint) pairs outside the humanoid's ``jnt_range`` (hinge angle, ball-joint
  rotation angle) and the worst joint; warning if any.
* velocity spikes: frames where a joint moves faster than 15 m/s between frames (marker swaps,
  calibration frames); warning if any.
* retarget error: mean / max distance of hands, ankles and head from the source's scaled points;
  warning beyond 25 cm.
* upright start: the body's tilt from vertical (ankles -> pelvis -> neck, :func:`sportsim.mocap.axes.tilt_deg`)
  over the first second, median; an error beyond 60 deg (a clip lying down or upside down: usually a
  wrong up axis) unless ``allow_lying`` (``--allow-lying``) says the clip starts lying on purpose.
* rest pose: a ball joint of the humanoid (chest, neck/head, hips, ankles; not the shoulders, whose
  range is free) more than 90 deg from its parent and outside its range in most frames: an error (the
  source's rest pose does not match its skeleton map, e.g. a head folded backwards); a hip by its knee's
  hinge axis against the pelvis' side axis (a deep stoop flexes the hip far beyond 90 deg, a mirrored
  recording turns the knee round). Judged on the
  retarget before the anatomical clamps (:func:`sportsim.mocap.retarget.rest_pose_mismatch`), which
  would otherwise bend such a joint back into range and hide it.
* facing: where the humanoid faces (the source's pelvis / hip line) among the source's own facing cues
  (hip and shoulder lines, feet, knees; ``meta["facing"]``, :func:`sportsim.mocap.axes.facing_cues`): a
  warning where the source's feet point elsewhere (the pelvis, as the other cues say, decides) or where most
  cues disagree with the pelvis (crossed sides: ``--mirror``).
* frame count: rows after the announced ``Frames:`` (ignored by the reader): a warning.
* bone lengths: a BVH whose non-root translation channels jitter (held at their mean by the reader,
  ``meta["bone_jitter"]``): a warning.
* units: a BVH whose legs fit no length unit was scaled to a typical adult (the reader says so): a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import mujoco
import numpy as np

from sportsim.errors import MocapError
from sportsim.mocap import axes
from sportsim.mocap.clip import Clip
from sportsim.mocap.reference_motion import ReferenceMotion
from sportsim.mocap.retarget import (POINT_NAMES, REST_MISMATCH_DEG, STANCE_KNEE_KEYS, foot_lowest_m,
                                     rest_pose_mismatch, retarget, stance_slip_hover)
from sportsim.mocap.skeletons import SkeletonMap, clip_canonical_indices

MIN_FPS_ERROR, MIN_FPS_WARNING = 10.0, 25.0
MIN_FRAMES, MIN_DURATION_S = 2, 1.0
PENETRATION_M = 0.01
FLOATING_M = 0.02
SLIP_MM = 10.0  # stance pivot slip per stance, warning beyond (issue 15: <= 10 mm per step)
KNEE_ADDED_DEG = 5.0  # stance knee flexion the retargeting added to the source's (median), warning beyond
ROOT_VERTICAL_SPEED_MPS = 6.0
SPIKE_SPEED_MPS = 15.0
RETARGET_ERROR_M = 0.25
LIMIT_TOL_RAD = math.radians(0.1)  # excesses below what the table can show (0.1 deg) are not violations
UPRIGHT_MAX_DEG = 60.0
UPRIGHT_WINDOW_S = 1.0
STATUSES = ("ok", "warning", "error")


@dataclass(frozen=True)
class Row:
    check: str
    value: str
    threshold: str
    status: str  # one of STATUSES


@dataclass(frozen=True)
class Report:
    """The rows of one validation; :meth:`table` renders them."""

    source: str
    rows: tuple[Row, ...]

    @property
    def errors(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.status == "error")

    @property
    def warnings(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.status == "warning")

    def table(self) -> str:
        """A plain-text table, one line per check."""
        header = Row("check", "value", "threshold", "status")
        widths = [max(len(getattr(r, f)) for r in (header, *self.rows)) for f in ("check", "value", "threshold")]
        lines = []
        for row in (header, *self.rows):
            cells = [getattr(row, f).ljust(w) for f, w in zip(("check", "value", "threshold"), widths)]
            lines.append("  ".join([*cells, row.status]).rstrip())
        lines.insert(1, "  ".join("-" * w for w in [*widths, len("warning")]))
        return "\n".join(lines)

    def summary(self) -> str:
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"


def validate(item: Clip | ReferenceMotion, motion: ReferenceMotion | None = None,
             skeletons: Iterable[SkeletonMap] = (), allow_lying: bool = False) -> Report:
    """Check a clip (retargeted with defaults unless ``motion`` is given) or a reference motion.
    ``allow_lying``: a clip that starts lying down on purpose (no upright-start error)."""
    rows: list[Row] = []
    skeletons = tuple(skeletons)
    if isinstance(item, Clip):
        source = item.source
        rows += _timing(item.fps, item.n_frames)
        rows.append(_non_finite([item.root_pos_m, item.rotations, item.offsets_m]))
        if item.meta.get("extra_rows"):
            rows.append(Row("frame count", item.meta["extra_rows"], "rows = Frames:", "warning"))
        if item.meta.get("bone_jitter"):
            rows.append(Row("bone lengths", item.meta["bone_jitter"], "fixed offsets", "warning"))
        if item.meta.get("unit", "").startswith("unknown:"):  # bvh.UNSCALED_UNIT_NOTE
            rows.append(Row("units", item.meta["unit"], "a known unit", "warning"))
        if motion is None:
            try:
                motion = retarget(item, skeletons=skeletons, plant_feet=True, anatomical_ranges=True)
            except MocapError as exc:
                first = str(exc).splitlines()[0]
                rows.append(Row("retargeting", first if len(first) <= 160 else first[:157] + "...", "succeeds",
                                "error"))
        points, names, fps = item.world_positions(), item.joint_names, item.fps
        rows.append(_root_drift(item.root_pos_m, fps))
        try:
            idx = clip_canonical_indices(item, skeletons)
        except MocapError:
            idx = {}
        if all(k in idx for k in ("pelvis", "chest", "l_ankle", "r_ankle")):
            rows.append(_upright(points, idx, fps, allow_lying))
    else:
        motion, source = item, item.source
        rows += _timing(item.fps, item.n_frames)
        points, names, fps = item.positions_m, POINT_NAMES, item.fps
        rows.append(_root_drift(item.qpos[:, 0:3], fps))
        idx = {"pelvis": POINT_NAMES.index("pelvis"), "chest": POINT_NAMES.index("chest"),
               "neck": POINT_NAMES.index("neck"), "l_ankle": POINT_NAMES.index("left_ankle"),
               "r_ankle": POINT_NAMES.index("right_ankle")}
        rows.append(_upright(points, idx, fps, allow_lying))
    rows.append(_velocity_spikes(points, names, fps))
    if motion is not None:
        if motion is not item:
            rows.append(_non_finite([motion.qpos, motion.qvel, motion.positions_m], "NaN/inf (retargeted)"))
        else:
            rows.append(_non_finite([motion.qpos, motion.qvel, motion.positions_m, motion.target_positions_m]))
        rows += _feet(motion)
        rows.append(_stance_slip(motion))
        knee = _stance_knee(motion)
        if knee is not None:
            rows.append(knee)
        rows.append(_joint_limits(motion))
        if motion.meta.get("range_clamps", "none") != "none":
            rows.append(Row("range clamps", motion.meta["range_clamps"], "reported (Imitation-v1's ranges)", "ok"))
        rows.append(_rest_pose(motion))
        if motion.meta.get("facing"):
            rows.append(_facing(motion.meta["facing"]))
        rows.append(_retarget_error(motion))
    return Report(source, tuple(_ordered(rows)))


# ---- checks ----------------------------------------------------------------------------------------
_ORDER = ("frame rate", "duration", "short clip", "frame count", "bone lengths", "units", "NaN/inf",
          "NaN/inf (retargeted)", "retargeting",
          "upright start", "rest pose", "facing", "foot penetration", "stance floating", "stance slip", "stance knee",
          "root drift", "joint limits", "range clamps",
          "velocity spikes", "retarget error")


def _ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: _ORDER.index(r.check))


def _timing(fps: float, n_frames: int) -> list[Row]:
    status = "error" if fps < MIN_FPS_ERROR else "warning" if fps < MIN_FPS_WARNING else "ok"
    duration_s = (n_frames - 1) / fps
    short = "error" if n_frames < MIN_FRAMES else "warning" if duration_s < MIN_DURATION_S else "ok"
    return [Row("frame rate", f"{fps:g} Hz", f">= {MIN_FPS_WARNING:g} Hz", status),
            Row("duration", f"{duration_s:.2f} s ({n_frames} frames)", "-", "ok"),
            Row("short clip", f"{n_frames} frames", f">= {MIN_FRAMES} frames, >= {MIN_DURATION_S:g} s", short)]


def _non_finite(arrays: list[np.ndarray], check: str = "NaN/inf") -> Row:
    bad = sum(int(np.count_nonzero(~np.isfinite(a))) for a in arrays)
    return Row(check, f"{bad} values", "0", "error" if bad else "ok")


def _feet(motion: ReferenceMotion) -> list[Row]:
    low = foot_lowest_m(motion.build_model(), motion.qpos)  # (T, 2) right, left
    depth = float(max(0.0, -np.nanmin(low)))
    where = f" at frame {int(np.nanargmin(low.min(axis=1)))}" if depth >= 5e-5 else ""
    rows = [Row("foot penetration", f"{100 * depth:.2f} cm{where}", f"<= {100 * PENETRATION_M:g} cm",
                "error" if depth > PENETRATION_M else "ok")]
    stance = motion.foot_contacts
    if stance.any():
        height = np.where(stance, low, -np.inf).max(axis=1)
        worst = int(np.argmax(height))
        value = f"{100 * max(0.0, height[worst]):.2f} cm" + (f" at frame {worst}" if height[worst] >= 5e-5 else "")
        status = "warning" if height[worst] > FLOATING_M else "ok"
    else:
        value, status = "no stance frames", "warning"
    rows.append(Row("stance floating", value, f"<= {100 * FLOATING_M:g} cm", status))
    return rows


def _stance_slip(motion: ReferenceMotion) -> Row:
    """Median slip of the stance pivots per stance and hover per foot (:func:`retarget.stance_slip_hover`)."""
    figures = stance_slip_hover(motion.build_model(), motion.qpos, motion.foot_contacts)
    parts, worst = [], 0.0
    for side in ("right", "left"):
        slip, hover = figures[f"{side}_slip_mm"], figures[f"{side}_hover_mm"]
        if math.isnan(slip):
            parts.append(f"{side}: no complete stance")
            continue
        worst = max(worst, slip)
        parts.append(f"{side} {slip:.1f} mm/stance, hover {hover:.1f} mm")
    return Row("stance slip", "; ".join(parts), f"<= {SLIP_MM:g} mm per stance", "warning" if worst > SLIP_MM else "ok")


def _stance_knee(motion: ReferenceMotion) -> Row | None:
    """Median stance knee flexion per foot, the reference's next to the source's (``meta``, written by
    :func:`sportsim.mocap.retarget.retarget`; absent from motions retargeted before it was). A warning where
    the retargeting bent a stance knee more than :data:`KNEE_ADDED_DEG` beyond the source's: the athlete then
    walks more crouched than the performer, and the knee extensor moment that tracking it needs grows with
    the crouch (CMU walk 02_01, whose own stance knees are flexed ~28 deg: 1.63 N m/kg in the zoo walk, about
    2.4x Winter's 0.67). For reading the value: in level walking the knee flexes to about 15-20 deg in loading
    response and extends to near 0-5 deg in mid-stance - as clinical gait teaching describes it [secondary: not
    checked against a primary data set here] - a median over stance near 10 deg."""
    try:
        ref, src = ([float(v) for v in motion.meta[key].split()] for key in STANCE_KNEE_KEYS)
    except (KeyError, ValueError):
        return None
    if len(ref) != 2 or len(src) != 2:
        return None
    added = max(r - s for r, s in zip(ref, src))
    value = "; ".join(f"{side} {r:.1f} deg (source {s:.1f})" for side, r, s in zip(("right", "left"), ref, src))
    return Row("stance knee", value, f"<= source + {KNEE_ADDED_DEG:g} deg (median over stance)",
               "warning" if added > KNEE_ADDED_DEG else "ok")


def _root_drift(root_m: np.ndarray, fps: float) -> Row:
    horizontal = float(np.linalg.norm(root_m[-1, :2] - root_m[0, :2]))
    if len(root_m) < 2:
        return Row("root drift", f"horizontal {horizontal:.2f} m", "-", "ok")
    steps = np.abs(np.diff(root_m[:, 2]))
    frame = int(np.argmax(steps))
    speed = float(steps[frame] * fps)
    value = f"horizontal {horizontal:.2f} m; vertical max {steps[frame]:.3f} m/frame ({speed:.1f} m/s, frame {frame})"
    return Row("root drift", value, f"vertical <= {ROOT_VERTICAL_SPEED_MPS:g} m/s",
               "warning" if speed > ROOT_VERTICAL_SPEED_MPS else "ok")


def _velocity_spikes(points_m: np.ndarray, names: tuple[str, ...], fps: float) -> Row:
    if len(points_m) < 2:
        return Row("velocity spikes", "-", f"<= {SPIKE_SPEED_MPS:g} m/s", "ok")
    speed = np.linalg.norm(np.diff(points_m, axis=0), axis=-1) * fps  # (T-1, P): frame t -> t+1
    fast = np.flatnonzero(np.nanmax(speed, axis=1) > SPIKE_SPEED_MPS)
    if not len(fast):
        return Row("velocity spikes", f"none (max {np.nanmax(speed):.1f} m/s)", f"<= {SPIKE_SPEED_MPS:g} m/s", "ok")
    t, p = np.unravel_index(int(np.nanargmax(speed)), speed.shape)
    frames = ", ".join(f"{f}-{f + 1}" for f in fast[:5]) + (", ..." if len(fast) > 5 else "")
    value = f"{len(fast)} (frames {frames}); worst {names[p]} {speed[t, p]:.1f} m/s"
    return Row("velocity spikes", value, f"<= {SPIKE_SPEED_MPS:g} m/s", "warning")


def _joint_limits(motion: ReferenceMotion) -> Row:
    model = motion.build_model()
    excess = {}  # joint -> (T,) rad beyond its limit
    for j in range(model.njnt):
        if not model.jnt_limited[j]:
            continue
        adr, low, high = model.jnt_qposadr[j], *model.jnt_range[j]
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_BALL:
            w = np.clip(np.abs(motion.qpos[:, adr]), 0.0, 1.0)
            angle = 2.0 * np.arccos(w)  # rotation angle of the ball joint
            excess[model.joint(j).name] = np.maximum(angle - high, 0.0)
        else:
            angle = motion.qpos[:, adr]
            excess[model.joint(j).name] = np.maximum(np.maximum(low - angle, angle - high), 0.0)
    count = sum(int(np.count_nonzero(e > LIMIT_TOL_RAD)) for e in excess.values())
    if not count:
        return Row("joint limits", "0 violations", "0", "ok")
    worst = max(excess, key=lambda n: float(excess[n].max()))
    frames = int(np.count_nonzero(np.any(np.stack(list(excess.values())) > LIMIT_TOL_RAD, axis=0)))
    value = (f"{count} joint-frames in {frames} frames; worst {worst} by "
             f"{math.degrees(float(excess[worst].max())):.1f} deg at frame {int(np.argmax(excess[worst]))}")
    return Row("joint limits", value, "0", "warning")


def _upright(points_m: np.ndarray, idx: dict[str, int], fps: float, allow_lying: bool) -> Row:
    window = points_m[: max(1, int(round(UPRIGHT_WINDOW_S * fps)) + 1)]
    tilt = float(np.median(axes.tilt_deg(window, idx)))
    value = f"body {tilt:.0f} deg from vertical (median, first {UPRIGHT_WINDOW_S:g} s)"
    if tilt <= UPRIGHT_MAX_DEG:
        return Row("upright start", value, f"<= {UPRIGHT_MAX_DEG:g} deg", "ok")
    if allow_lying:
        return Row("upright start", value + "; lying start allowed", f"<= {UPRIGHT_MAX_DEG:g} deg", "ok")
    hint = "upside down" if tilt > 120 else "lying down"
    return Row("upright start", f"{value}: {hint} - a wrong up axis? (--allow-lying if on purpose)",
               f"<= {UPRIGHT_MAX_DEG:g} deg", "error")


def _rest_pose(motion: ReferenceMotion) -> Row:
    """On the retarget before its anatomical clamps (``meta["rest_pose_mismatch"]``, written by
    :func:`retarget`), else on the motion's own joints (a reference ``.npz`` from before that key)."""
    problem = motion.meta.get("rest_pose_mismatch")
    if problem is None:
        problem = rest_pose_mismatch(motion.build_model(), motion.qpos)
    threshold = f"<= {REST_MISMATCH_DEG:g} deg in most frames"
    if problem and problem != "none":
        return Row("rest pose", problem, threshold, "error")
    return Row("rest pose", "every joint within 90 deg of its parent in most frames", threshold, "ok")


def _facing(note: str) -> Row:
    disagree = note.startswith(("feet disagree", "most cues disagree"))
    value = note if len(note) <= 200 else note[:197] + "..."
    return Row("facing", value, "source's feet and pelvis agree", "warning" if disagree else "ok")


def _retarget_error(motion: ReferenceMotion) -> Row:
    error = motion.retarget_error_m
    if error.size == 0:
        return Row("retarget error", "no tracked points", "-", "ok")
    worst = int(np.nanargmax(np.nanmax(error, axis=0)))
    value = (f"mean {100 * np.nanmean(error):.1f} cm, max {100 * np.nanmax(error):.1f} cm "
             f"({motion.target_names[worst]})")
    return Row("retarget error", value, f"max <= {100 * RETARGET_ERROR_M:g} cm",
               "warning" if np.nanmax(error) > RETARGET_ERROR_M else "ok")


__all__ = ["Report", "Row", "validate"]
