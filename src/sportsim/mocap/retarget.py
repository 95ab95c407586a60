"""Retarget a motion-capture :class:`Clip` onto the sportsim humanoid: a :class:`ReferenceMotion`
(:mod:`sportsim.mocap.reference_motion`, which also reads and writes its ``.npz`` files).

Conventions: Z up, metres, x forward, y left, quaternions (w, x, y, z) kept sign-continuous over time.

Method (:func:`retarget`; the same for every skeleton, so A-pose, T-pose and Bandai's "every bone along
+X" rest poses need no special case):

1. Source forward kinematics: world rotation ``G_s(t)`` and position of every source joint. In the
   source's zero pose every ``G_s`` is the identity, so a direction measured in that pose (from the
   rest offsets) is also the direction in the joint's own frame.
2. Rest correction per humanoid body: a constant rotation ``C_b`` = where the humanoid body's axes
   (x forward, y left, z up in the humanoid's zero pose) lie in the frame of the source joint that
   drives it. The body's world orientation is ``G_s(t) C_b``. Each ``C_b`` comes from one measured
   bone direction and one side axis:
     * pelvis: y = the rest hip line, z = the rest trunk axis (mid-hip to mid-shoulder);
     * chest: z = the rest trunk axis, y = the rest shoulder line;
     * thigh / upper arm: z = minus the rest bone direction, y = the knee / elbow flexion axis averaged
       over the clip (``thigh x shank`` in the thigh's frame, weighted by the bend; the elbow's sign is
       the opposite, as the humanoid's elbow axis is -y); a limb that never bends takes its parent's
       side axis instead (its twist then moves nothing);
     * head (the humanoid's ``neck`` body): z = the rest neck-to-head direction, y = the chest's side
       axis averaged over the clip in the head's frame (the mean head yaw counts as straight ahead);
     * foot: z = the world vertical averaged over the stance frames in the foot's frame (a foot in
       stance is flat on average; an upright rest pose's vertical where that average is more than 45
       degrees off it, e.g. crawling on the toes), x = the rest ankle-to-toe direction (no toe joint:
       y = the shank's side axis averaged over the clip). A source foot pointing more than 120 degrees
       from the pelvis' forward (a foot joint pointing backwards: Kinect SDK 1) sits neutral on the shank,
       and a foot more than 45 degrees off no longer tells a locked knee which way it bends (the pelvis does).
3. Per frame: the pelvis and chest take ``G_s C_b``; every other driven body is then swung so that its
   bone points exactly where the source bone points (bone-direction retargeting); upper limbs are
   twisted about the bone, in proportion to the bend, so the knee/elbow hinge plane contains the lower
   bone; knee and elbow angles are the angle between the two bones, signed about the hinge axis.
4. Size: by default the humanoid is built at the performer's stature, estimated from the source's
   thigh + shank length (de Leva proportions), so the legs have the source's length and the motion is
   not rescaled (its dynamics stay the performer's). With ``height_m`` given, every source position is
   scaled by the leg-length ratio ``scale``. The root (mid-hip point) follows the source mid-hip
   point, scaled, with the source floor (5th percentile of the lowest foot point) at z = 0.
5. Ground contact (:mod:`sportsim.mocap.planting`, which describes the method): stance per foot from the
   clip's foot contacts where it has them, else from the source foot points (ankle or toe within 5 cm of
   its usual floor level - its 5th height percentile - and slower than 1 m/s). The root is shifted
   vertically, and lowered where a straight stance leg cannot reach the floor, so that the lowest corner
   of every stance foot is on the floor; two-bone leg IK puts it there and lifts any other foot out of it.
6. Planted feet (``plant_feet``, :func:`~sportsim.mocap.planting._plant_feet`): each stance foot held
   still about its heel, sole or toe, the root lowered where a leg cannot reach its held foot.
7. Anatomical ranges (``anatomical_ranges``): every coordinate clamped to Imitation-v1's ranges; a hip
   turned more than 20 degrees past its rotation range (a source knee bending sideways) then has its
   ankle put back by the leg IK. ``meta["facing"]`` says where the humanoid faces (the source's pelvis /
   hip line) among the source's facing cues (:func:`sportsim.mocap.axes.facing_cues`).

Known limits: the humanoid has no wrists, toes or spine joints below the chest, so hand, toe and lower
spine motion is dropped. Its proportions are de Leva's, not the performer's: with equal legs, hands
and head miss the source's (root-aligned, scaled) points by what the trunk and arm proportions differ -
3-9 cm on average, up to 21 cm, on the test clips (CMU and Bandai skeletons have short trunks; see
:attr:`ReferenceMotion.retarget_error_m` and tests/test_mocap_retarget.py). Out-of-plane knee/elbow
motion is projected onto the hinge. Stance detection from heights and speeds assumes a level floor.
Joint limits are reported by :mod:`sportsim.mocap.validate`, not enforced.
"""

from __future__ import annotations

import math
from typing import Iterable

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim.anthropometry import Sex
from sportsim.kinetics import lowpass
from sportsim.errors import MocapError
from sportsim.mocap import axes, quat
from sportsim.mocap._geometry import _SIDES, POINT_NAMES, _axis, _frame, _local_mean, _swing_onto, _unit
from sportsim.mocap.clip import Clip
from sportsim.mocap.planting import (_contact_plan, _envelope, _foot_sole_points, _ground_shift,
                                     _hip_extension_into_pelvis, _leg_bones_m, _leg_ik, _plant_feet, _reach_drop,
                                     stance_slip_hover)
from sportsim.mocap.reference_motion import (CONTACT_NAMES, FORMAT, FORMAT_VERSION, _NQ, ReferenceMotion, _forward,
                                             _motion, is_reference_motion)
from sportsim.mocap.skeletons import SkeletonMap, clip_canonical_indices

__all__ = ["METHOD_VERSION", "PLAUSIBLE_HEIGHT_M", "POINT_NAMES", "REQUIRED_CANONICAL", "REST_MISMATCH_DEG",
           "foot_lowest_m", "resample", "rest_pose_mismatch", "retarget",
           # these live in sportsim.mocap.reference_motion: kept importable from here
           "CONTACT_NAMES", "FORMAT", "FORMAT_VERSION", "ReferenceMotion", "is_reference_motion",
           "stance_slip_hover", "_envelope"]  # these two live in sportsim.mocap.planting: kept importable from here

REQUIRED_CANONICAL = ("pelvis", "chest", "neck", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow",
                      "r_wrist", "l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle")
PLAUSIBLE_HEIGHT_M = (1.0, 2.5)  # an estimated stature outside this means wrong units or a wrong mapping
# Bump when retarget() gives a different motion for the same clip and arguments: cached references
# (sportsim.envs.imitation_params.load_reference) are keyed by it. v1: the first method; v2: planted
# feet (heel / flat / toe pivots, root lowered for reach), anatomical range clamps, floor lift; v3: a
# knee that barely bends takes its flexion axis from the toes when its mean bend points away from them;
# v4: a pelvis or chest whose joint is > 45 deg off its trunk / hip or shoulder line is put onto them;
# v5: a foot's up axis comes from the stance frames where the rest pose does not stand on its feet (legs
# and toes along one axis), not from the rest trunk axis; v6: a stance longer than PLANT_FOLLOW_S follows
# the source foot's slow drift, one held further than the foot's length from the source's is not planted;
# a hip twisted > TWISTED_HIP_DEG past its range keeps its ankle (leg IK after the clamp); a foot > 45 deg
# off the pelvis' forward no longer sets a locked knee's bend, one > FOOT_BACKWARDS_DEG sits neutral;
# meta["facing"] (the humanoid's facing among the source's facing cues). Shipped clips: same qpos as v5.
METHOD_VERSION = "v6"
FLOOR_PERCENTILE = 5.0  # source floor level: this percentile of a foot point's height over the clip
STANCE_HEIGHT_M = 0.05  # a source foot point within this of its floor level ...
STANCE_SPEED_MPS = 1.0  # ... and slower than this is in stance
BEND_SIN = (math.sin(math.radians(5.0)), math.sin(math.radians(20.0)))  # hinge-plane twist: none .. full
UPRIGHT_REST_DEG = 30.0  # a rest trunk axis this close to vertical is an upright rest pose ...
MAX_FOOT_REST_DEG = 45.0  # ... whose feet are trusted over a stance average further off than this
REST_DEGENERATE_COS = math.cos(math.radians(45.0))  # rest trunk axis this close to the hip line: no pose
REST_MISMATCH_DEG = 90.0  # a ball joint this far off its parent in most frames: a rest-pose mismatch
FOOT_BACKWARDS_DEG = 120.0  # a source foot this far from the pelvis' forward is a foot joint pointing backwards
FROM_POSITIONS_DEG = 45.0  # a trunk joint this far off its joints' positions follows them (corpus: <= 31)
MIN_MEAN_BEND = 0.02  # mean |sin(bend)| below which a limb's flexion axis is not measurable
WEAK_MEAN_BEND = math.sin(math.radians(15.0))  # a knee bent less than this on average may be locked straight
# tracked points for the retarget error: humanoid point -> source canonical joint. Hands = wrist centres
# (the humanoid's hand sites), feet = ankle joint centres, head = the humanoid's head site (head CoM)
# against the source's head joint.
TRACKED = (("head", "head"), ("right_hand", "r_wrist"), ("left_hand", "l_wrist"),
           ("right_ankle", "r_ankle"), ("left_ankle", "l_ankle"))
_UP = np.array([0.0, 0.0, 1.0])
_DOWN = np.array([0.0, 0.0, -1.0])


# ---- retargeting -------------------------------------------------------------------------------
def retarget(clip: Clip, height_m: float | None = None, mass_kg: float | None = None, sex: Sex = "male",
             fps: float | None = None, skeletons: Iterable[SkeletonMap] = (), plant_feet: bool = False,
             anatomical_ranges: bool = False, smooth_root: bool = False,
             root_lowpass_hz: float | None = None) -> ReferenceMotion:
    """Retarget ``clip`` onto the humanoid (method: module docstring).

    ``height_m``: None builds the humanoid at the performer's estimated stature (legs as long as the
    source's); a number builds it at that stature and scales the motion by the leg-length ratio.
    ``mass_kg``: None = the reference male's body-mass index (73 kg at 1.741 m). ``fps``: resample
    the result (:func:`resample`). ``skeletons``: extra skeleton maps (``load_mapping``) for the clip.
    ``plant_feet``: hold every stance foot still on the floor (:func:`_plant_feet`, step 6 of the
    method). ``anatomical_ranges``: clamp every joint coordinate to :mod:`sportsim.humanoid_limits`'
    ranges (step 7); ``meta`` then says how often and by how much. Both are what ``sportsim/Imitation-v1``
    trains on and what ``python -m sportsim.mocap info|convert`` show and write; off by default (the
    source as faithfully as the humanoid allows, as Imitation-v0 and the coach views use it).
    ``smooth_root`` (with ``anatomical_ranges``; what ``sportsim/Imitation-v3`` trains on): hip extension past
    its range is taken by an anterior pelvis tilt (:func:`_hip_extension_into_pelvis`) instead of the clamp,
    which swings the trailing foot forward for foot planting to pull back, and every root-height correction
    (ground shift, contact and reach drops) is smooth (:mod:`sportsim.mocap.planting`, step 4): the
    reference's centre of mass then asks for no vertical force jolts (CMU walk: 0.6-1.45 BW at the 1st-99th
    percentile, 15 Hz, against -0.6-4.3 BW without).
    """
    idx = _canonical(clip, tuple(skeletons))
    rot, pos = clip.global_transforms()
    rest = _rest_positions(clip)
    leg_src_m = float(np.mean([np.linalg.norm(rest[idx[f"{s}_knee"]] - rest[idx[f"{s}_hip"]])
                               + np.linalg.norm(rest[idx[f"{s}_ankle"]] - rest[idx[f"{s}_knee"]]) for _, s in _SIDES]))
    height_m, estimated = _subject_height(height_m, leg_src_m, sex, clip.source)
    mass_kg = humanoid.REFERENCE_MASS_KG * (height_m / humanoid.REFERENCE_HEIGHT_M) ** 2 if mass_kg is None \
        else float(mass_kg)
    scale = _leg_length_m(height_m, sex) / leg_src_m

    stance, stance_from = _source_stance(clip, idx, pos)
    world, hinge_rad, notes = _body_orientations(idx, rot, pos, rest, stance)
    notes["facing"] = _facing_note(idx, pos, world["pelvis"], clip.fps)
    qpos = _assemble_qpos(world, hinge_rad)

    mid_hip = 0.5 * (pos[:, idx["l_hip"]] + pos[:, idx["r_hip"]])
    floor_src_m = _source_floor(clip, idx, pos)
    qpos[:, 0:3] = scale * (mid_hip - floor_src_m * _UP)
    if root_lowpass_hz is not None and clip.fps > 2.0 * root_lowpass_hz:
        qpos[:, 2] = lowpass(qpos[:, 2], clip.fps, root_lowpass_hz)
        notes["root_lowpass"] = f"root height low-pass filtered at {root_lowpass_hz:g} Hz"
    model = humanoid.build_humanoid_model(height_m, mass_kg, sex)
    points, foot_low = _forward(model, qpos)
    shift = _ground_shift(foot_low, stance, clip.fps, smooth_root)
    points, foot_low = points + shift[:, None, None] * _UP, foot_low + shift[:, None]
    bones_m = _leg_bones_m(height_m, sex)
    drop, lift = _contact_plan(points, foot_low, stance, clip.fps, sum(bones_m), smooth_root)
    qpos[:, 2] += shift - drop
    if np.any(lift != 0):
        _leg_ik(world, hinge_rad, points - drop[:, None, None] * _UP, lift[..., None] * _UP, bones_m)
        qpos[:, 7:] = _assemble_qpos(world, hinge_rad)[:, 7:]

    # judged before the clamps, which would hide it: a joint far off its parent is the source's rest pose
    notes["rest_pose_mismatch"] = rest_pose_mismatch(model, qpos) or "none"
    if anatomical_ranges:
        if smooth_root:
            notes["pelvis_tilt"] = _hip_extension_into_pelvis(qpos, clip.fps)
        notes["range_clamps"] = _clamp_ranges_keeping_ankles(model, qpos, bones_m)
    if plant_feet:
        if anatomical_ranges:  # the leg IK works on world orientations: re-derive them from the clamped pose
            world, hinge_rad = _world_from_qpos(model, qpos)
        points, _ = _forward(model, qpos)
        sole = _foot_sole_points(model, qpos)
        disp, notes["planted_feet"] = _plant_feet(sole, stance, clip.fps)
        # where a stance leg cannot reach its held foot, the root comes down (both feet stay put)
        lower = _reach_drop(points, disp, stance, sum(bones_m), clip.fps, smooth_root)
        if np.any(lower > 0):
            qpos[:, 2] -= lower
            points = points - lower[:, None, None] * _UP
            disp = disp + lower[:, None, None] * _UP
            notes["planted_feet"] += f"; root lowered up to {100 * lower.max():.1f} cm for the legs to reach"
        if np.any(disp != 0):
            _leg_ik(world, hinge_rad, points, disp, bones_m)
            qpos[:, 7:] = _assemble_qpos(world, hinge_rad)[:, 7:]
    if plant_feet or anatomical_ranges:  # clamped ankles and moved legs: lift any foot corner out of the floor
        points, foot_low = _forward(model, qpos)
        lift = np.maximum(-foot_low, 0.0)
        if np.any(lift > 0):
            if not plant_feet:
                world, hinge_rad = _world_from_qpos(model, qpos)
            _leg_ik(world, hinge_rad, points, lift[..., None] * _UP, bones_m)
            qpos[:, 7:] = _assemble_qpos(world, hinge_rad)[:, 7:]

    notes.update(_stance_knee_flexion(idx, pos, model, qpos, stance))
    names = [h for h, c in TRACKED if c in idx]
    targets = np.stack([qpos[:, 0:3] + scale * (pos[:, idx[c]] - mid_hip) for h, c in TRACKED if c in idx], axis=1)
    meta = {"method": f"sportsim bone-direction retargeting {METHOD_VERSION}", "source_fps": f"{clip.fps:g}",
            "source_frames": str(clip.n_frames), "stance_from": stance_from,
            "height": "estimated from the source leg length" if estimated else "given",
            "source_floor_m": f"{floor_src_m:.4f}", **notes}
    if clip.meta.get("loop") in ("wrap", "none"):  # a DeepMimic motion file says whether it loops
        meta["source_loop"] = clip.meta["loop"]
    motion = _motion(model, qpos, clip.fps, stance, names, targets, height_m=height_m, mass_kg=mass_kg, sex=sex,
                     scale=scale, source=clip.source, skeleton=clip.skeleton, meta=meta)
    return motion if fps is None else resample(motion, fps)


def resample(motion: ReferenceMotion, fps: float) -> ReferenceMotion:
    """``motion`` at ``fps`` Hz over the same time span: quaternions (root, ball joints) slerped, root
    position, hinge angles and tracked source points linear, stance flags from the nearest frame;
    positions and qvel recomputed from the new qpos."""
    fps = float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise MocapError(f"resample: fps must be finite and positive, got {fps}")
    n_out = int(math.floor(motion.duration_s * fps + 1e-9)) + 1
    x = np.arange(n_out) * (motion.fps / fps)  # fractional source frame of every new frame
    lower = np.clip(np.floor(x + 1e-9).astype(int), 0, max(motion.n_frames - 2, 0))
    upper = np.minimum(lower + 1, motion.n_frames - 1)
    t = np.clip(x - lower, 0.0, 1.0)
    qpos = motion.qpos[lower] + t[:, None] * (motion.qpos[upper] - motion.qpos[lower])
    for joint in humanoid.JOINTS:
        adr = humanoid.qpos_address(joint.name) + (3 if joint.type == "free" else 0)
        if joint.type in ("free", "ball"):
            qpos[:, adr:adr + 4] = quat.slerp(motion.qpos[lower, adr:adr + 4], motion.qpos[upper, adr:adr + 4], t)
            qpos[:, adr:adr + 4] = quat.make_continuous(qpos[:, adr:adr + 4])
    targets = motion.target_positions_m[lower] + t[:, None, None] * (
        motion.target_positions_m[upper] - motion.target_positions_m[lower])
    contacts = motion.foot_contacts[np.where(t < 0.5, lower, upper)]
    meta = {**motion.meta, "resampled": f"{motion.n_frames} frames at {motion.fps:g} Hz -> {n_out} at {fps:g} Hz"}
    return _motion(motion.build_model(), qpos, fps, contacts, motion.target_names, targets,
                   height_m=motion.height_m, mass_kg=motion.mass_kg, sex=motion.sex, scale=motion.scale,
                   source=motion.source, skeleton=motion.skeleton, meta=meta)


def foot_lowest_m(model: mujoco.MjModel, qpos: np.ndarray) -> np.ndarray:
    """``(T, 2)`` height of the lowest corner of the (right, left) foot box in every frame."""
    return _forward(model, qpos)[1]


# ---- steps of retarget() ---------------------------------------------------------------------------
def _canonical(clip: Clip, skeletons: tuple[SkeletonMap, ...]) -> dict[str, int]:
    idx = clip_canonical_indices(clip, skeletons)  # user map, built-in layout, or found by structure
    missing = [c for c in REQUIRED_CANONICAL if c not in idx]
    if missing:
        raise MocapError(f"{clip.source or 'clip'}: retargeting needs the canonical joints {missing}, which the "
                         f"'{clip.skeleton}' skeleton map does not place; add them with a mapping YAML")
    return idx


def _rest_positions(clip: Clip) -> np.ndarray:
    """Joint positions in the source's zero pose, root at the origin (there every joint frame = world)."""
    rest = np.zeros((clip.n_joints, 3))
    for j in range(1, clip.n_joints):
        rest[j] = rest[clip.parents[j]] + clip.offsets_m[j]
    return rest


STANCE_KNEE_KEYS = ("stance_knee_flexion_deg", "source_stance_knee_flexion_deg")  # meta: "right left" medians


def _stance_knee_flexion(idx: dict[str, int], pos: np.ndarray, model: mujoco.MjModel, qpos: np.ndarray,
                         stance: np.ndarray) -> dict[str, str]:
    """Median knee flexion (deg) over each foot's stance frames, of the reference and of the source (the angle
    between its hip-knee and knee-ankle bones), as ``meta`` strings "right left" - how much a root-height
    correction bent the stance legs shows here: near a straight knee every millimetre the root comes down is
    several degrees of flexion (SFU walk 0005_Walking001 with ``smooth_root``: 8 -> 21 deg), and a stance knee
    decides the knee extensor moment a simulated athlete needs (:mod:`sportsim.mocap.validate`)."""
    ref, src = [], []
    for k, (side, s) in enumerate(_SIDES):
        frames = stance[:, k]
        if not frames.any():
            return {}
        ref.append(float(np.median(np.abs(np.degrees(qpos[frames, model.joint(f"{side}_knee").qposadr[0]])))))
        thigh = pos[frames, idx[f"{s}_knee"]] - pos[frames, idx[f"{s}_hip"]]
        shank = pos[frames, idx[f"{s}_ankle"]] - pos[frames, idx[f"{s}_knee"]]
        cos = np.sum(_unit(thigh) * _unit(shank), axis=-1)
        src.append(float(np.median(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))))
    return {STANCE_KNEE_KEYS[0]: f"{ref[0]:.1f} {ref[1]:.1f}", STANCE_KNEE_KEYS[1]: f"{src[0]:.1f} {src[1]:.1f}"}


def _leg_length_m(height_m: float, sex: Sex) -> float:
    offsets = humanoid.joint_offsets_m(height_m, sex)
    return float(np.linalg.norm(offsets["right_knee"]) + np.linalg.norm(offsets["right_ankle"]))


def _subject_height(height_m: float | None, leg_src_m: float, sex: Sex, source: str) -> tuple[float, bool]:
    if height_m is not None:
        height_m = float(height_m)
        if not (math.isfinite(height_m) and height_m > 0):
            raise MocapError(f"height must be a finite positive stature in metres, got {height_m}")
        return height_m, False
    # segment lengths are proportional to stature, so one ratio gives the stature with these legs
    estimate = humanoid.REFERENCE_HEIGHT_M * leg_src_m / _leg_length_m(humanoid.REFERENCE_HEIGHT_M, sex)
    low, high = PLAUSIBLE_HEIGHT_M
    if not low <= estimate <= high:
        raise MocapError(f"{source or 'clip'}: thigh + shank of {leg_src_m:.3f} m give a stature of {estimate:.2f} m, "
                         f"outside {low}-{high} m: check the file's units or pass the height explicitly")
    return estimate, True


def _foot_points(clip: Clip, idx: dict[str, int], side: str) -> list[int]:
    """Source joints of one foot (ankle, toe), for stance detection and the floor level."""
    return [idx[f"{side}_{name}"] for name in ("ankle", "toe") if f"{side}_{name}" in idx]


def _source_floor(clip: Clip, idx: dict[str, int], pos: np.ndarray) -> float:
    points = _foot_points(clip, idx, "l") + _foot_points(clip, idx, "r")
    return float(np.percentile(pos[:, points, 2].min(axis=1), FLOOR_PERCENTILE))


def _source_stance(clip: Clip, idx: dict[str, int], pos: np.ndarray) -> tuple[np.ndarray, str]:
    """``(T, 2)`` stance flags (right, left) and where they came from."""
    if clip.contacts is not None and clip.contacts.any():
        names = [n.lower() for n in clip.contact_names]
        columns = [[i for i, n in enumerate(names) if n.startswith(side)] for side, _ in _SIDES]
        if all(columns):
            return np.stack([clip.contacts[:, c].any(axis=1) for c in columns], axis=1), "the clip's foot contacts"
    flags = []
    for _, side in _SIDES:
        points = pos[:, _foot_points(clip, idx, side)]  # (T, k, 3)
        height = points[..., 2] - np.percentile(points[..., 2], FLOOR_PERCENTILE, axis=0)
        speed = np.linalg.norm(np.gradient(points, axis=0), axis=-1) * clip.fps if clip.n_frames > 1 \
            else np.zeros(height.shape)
        flags.append(np.any((height < STANCE_HEIGHT_M) & (speed < STANCE_SPEED_MPS), axis=1))
    return np.stack(flags, axis=1), f"source foot height < {STANCE_HEIGHT_M} m and speed < {STANCE_SPEED_MPS} m/s"


def _body_orientations(idx: dict[str, int], rot: np.ndarray, pos: np.ndarray, rest: np.ndarray,
                       stance: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, str]]:
    """World orientation ``(T, 4)`` of every humanoid body and the hinge angles (rad)."""
    world: dict[str, np.ndarray] = {}
    hinge: dict[str, np.ndarray] = {}
    notes: dict[str, str] = {}
    mid = {part: 0.5 * (rest[idx[f"l_{part}"]] + rest[idx[f"r_{part}"]]) for part in ("hip", "shoulder")}
    trunk_axis = mid["shoulder"] - mid["hip"]
    hip_line = rest[idx["l_hip"]] - rest[idx["r_hip"]]
    shoulder_line = rest[idx["l_shoulder"]] - rest[idx["r_shoulder"]]
    pelvis_up = chest_up = trunk_axis
    if abs(np.dot(_unit(trunk_axis), _unit(hip_line))) > REST_DEGENERATE_COS:
        # a rest pose that is no pose (every bone along X: Rokoko): trunk and side axes from the motion
        trunk_w = 0.5 * (pos[:, idx["l_shoulder"]] + pos[:, idx["r_shoulder"]]
                         - pos[:, idx["l_hip"]] - pos[:, idx["r_hip"]])
        pelvis_up, chest_up = (_local_mean(rot[:, idx[b]], trunk_w) for b in ("pelvis", "chest"))
        hip_line = _local_mean(rot[:, idx["pelvis"]], pos[:, idx["l_hip"]] - pos[:, idx["r_hip"]])
        shoulder_line = _local_mean(rot[:, idx["chest"]], pos[:, idx["l_shoulder"]] - pos[:, idx["r_shoulder"]])
        notes["rest_pose"] = "degenerate (trunk along the hip line): trunk and side axes measured in the motion"
    world["pelvis"] = quat.multiply(rot[:, idx["pelvis"]], _frame(z=pelvis_up, y=hip_line, first="y"))
    world["chest"] = quat.multiply(rot[:, idx["chest"]], _frame(z=chest_up, y=shoulder_line, first="z"))
    trunk_w = 0.5 * (pos[:, idx["l_shoulder"]] + pos[:, idx["r_shoulder"]]
                     - pos[:, idx["l_hip"]] - pos[:, idx["r_hip"]])
    for body, part in (("pelvis", "hip"), ("chest", "shoulder")):
        world[body], note = _onto_positions(world[body], trunk_w, pos[:, idx[f"l_{part}"]] - pos[:, idx[f"r_{part}"]])
        if note:
            notes[f"{body}_from_positions"] = f"{note} ({part} line)"

    # head: the source head joint's twist, swung onto the source neck-to-head direction
    head = idx.get("head", idx["neck"])
    neck_bone = rest[head] - rest[idx["neck"]]
    has_bone = head != idx["neck"] and np.linalg.norm(neck_bone) > 0.01
    if has_bone and "rest_pose" in notes:  # no pose at rest: the neck's direction in the head's frame as moved
        neck_bone = _local_mean(rot[:, head], pos[:, head] - pos[:, idx["neck"]])
    side_axis = _local_mean(rot[:, head], _axis(world["chest"], 1))
    world["neck"] = quat.multiply(rot[:, head], _frame(z=neck_bone if has_bone else trunk_axis, y=side_axis))
    if has_bone:
        world["neck"] = _swing_onto(world["neck"], _UP, _unit(pos[:, head] - pos[:, idx["neck"]]))

    for side, s in _SIDES:
        for upper, lower, end, body, sign, parent in (("hip", "knee", "ankle", "hip", 1.0, "pelvis"),
                                                     ("shoulder", "elbow", "wrist", "shoulder", -1.0, "chest")):
            a, b, c = idx[f"{s}_{upper}"], idx[f"{s}_{lower}"], idx[f"{s}_{end}"]
            toes = pos[:, idx[f"{s}_toe"]] - pos[:, c] if upper == "hip" and f"{s}_toe" in idx else None
            if toes is not None and axes.angle_deg(axes.horizontal(toes), axes.horizontal(_axis(world["pelvis"], 0))) \
                    > axes.FACING_AGREE_DEG:  # a foot turned against the body (Kinect SDK 1): forward is the pelvis'
                toes = _axis(world["pelvis"], 0)
                notes[f"{side}_foot_turned"] = "the knee takes forward from the pelvis, not the toes"
            orient, angle, note = _limb(rot[:, a], pos[:, a], pos[:, b], pos[:, c], rest[b] - rest[a], sign,
                                        _axis(world[parent], 1), toes)
            world[f"{side}_{body}"] = orient
            hinge[f"{side}_{lower}"] = angle
            world[f"{side}_{lower}"] = quat.multiply(orient, quat.from_axis_angle(np.array([0.0, sign, 0.0]), angle))
            notes[f"twist_{side}_{body}"] = note
        ankle = idx[f"{s}_ankle"]
        toe_rest = rest[idx[f"{s}_toe"]] - rest[ankle] if f"{s}_toe" in idx else None
        up, notes[f"flat_{side}_foot"] = _foot_up(rot[stance[:, 0 if side == "right" else 1], ankle], trunk_axis,
                                                  rest[ankle] - rest[idx[f"{s}_knee"]], toe_rest)
        if f"{s}_toe" in idx:
            foot = _frame(z=up, x=rest[idx[f"{s}_toe"]] - rest[ankle])
        else:
            foot = _frame(z=up, y=_local_mean(rot[:, ankle], _axis(world[f"{side}_knee"], 1)))
        world[f"{side}_ankle"] = quat.multiply(rot[:, ankle], foot)
        if f"{s}_toe" in idx and axes.angle_deg(axes.horizontal(pos[:, idx[f"{s}_toe"]] - pos[:, ankle]),
                                                axes.horizontal(_axis(world["pelvis"], 0))) > FOOT_BACKWARDS_DEG:
            world[f"{side}_ankle"] = world[f"{side}_knee"].copy()  # neutral ankle: the foot along the shank's frame
            notes[f"{side}_foot_turned"] = (f"the source's foot points more than {FOOT_BACKWARDS_DEG:g} deg from the "
                                            "pelvis' forward (no turnout does): the knee takes forward from the "
                                            "pelvis and the foot sits neutral on the shank")
    return world, hinge, notes


def _facing_note(idx: dict[str, int], pos: np.ndarray, pelvis: np.ndarray, fps: float) -> str:
    """Where the humanoid faces (its pelvis' x axis) among the source's own facing cues
    (:func:`sportsim.mocap.axes.facing_cues`: hip and shoulder lines, feet, knees) and its direction of
    travel. Starts with "feet disagree" where the source's feet (together, and one of them in most frames) point
    more than :data:`sportsim.mocap.axes.FACING_AGREE_DEG` from the pelvis the humanoid follows (an exporter's
    turned foot joint: the pelvis, checked against the other cues, decides), with "most cues disagree"
    where the majority of the cues points elsewhere (a sign of crossed sides)."""
    forward = axes.horizontal(quat.rotate(pelvis, np.array([1.0, 0.0, 0.0])))
    cues = axes.facing_cues(pos, idx)
    off = {name: axes.angle_deg(cue, forward) for name, cue in cues.items()}
    said = ", ".join(f"{name} {angle:.0f}" for name, angle in off.items() if np.isfinite(angle))
    mid = 0.5 * (pos[:, idx["l_hip"]] + pos[:, idx["r_hip"]])
    velocity = np.gradient(mid, axis=0) * fps if len(mid) > 1 else np.zeros_like(mid)
    moving = np.linalg.norm(velocity[:, :2], axis=-1) > 0.3
    if moving.sum() >= max(3, 0.1 * len(mid)):  # travel: reported, not a cue (people walk backwards too)
        said += f"; travel {axes.angle_deg(axes.horizontal(velocity[moving]), forward[moving]):.0f}"
    agree = [name for name, angle in off.items() if angle <= axes.FACING_AGREE_DEG]
    valid = [name for name, angle in off.items() if np.isfinite(angle)]
    if 2 * len(agree) < len(valid):
        return (f"most cues disagree with the pelvis the humanoid faces along (deg off: {said}): "
                "left and right crossed? (--mirror)")
    feet = [name for name in ("left foot", "right foot") if np.isfinite(off.get(name, np.nan))]
    # both: the feet together point elsewhere (splayed feet cancel out), and a foot does so most of the time (a
    # foot joint that flips backwards in a quarter of the frames, the other one in another quarter, is noise:
    # their sum is off in half the frames while each foot agrees in most - Sony mocopi)
    if feet and axes.angle_deg(axes.horizontal(sum(np.nan_to_num(cues[f]) for f in feet)), forward) \
            > axes.FACING_AGREE_DEG and max(off[f] for f in feet) > axes.FACING_AGREE_DEG:
        return (f"feet disagree: the humanoid faces along the source's pelvis / hip line, as "
                f"{', '.join(a for a in agree if a != 'hips') or 'no other cue'} agree (deg off: {said})")
    return f"the source's cues agree (deg off the pelvis: {said})"


def _onto_positions(q: np.ndarray, trunk: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, str]:
    """``q`` (pelvis or chest, ``(T, 4)``) put onto the joint positions where its joint rotation leaves it
    more than :data:`FROM_POSITIONS_DEG` off them in most frames: its z axis swung onto ``trunk`` (mid-hips
    to mid-shoulders, world), then turned about z so its y axis points along ``line`` (left minus right hip
    or shoulder). A source whose trunk joint is turned against the joints it carries (a raw video estimate:
    pelvis 74 deg off its trunk, chest 93 deg off its shoulders; every other corpus file <= 31 / <= 9 deg).
    Returns ``q`` and "" where the rotation agrees."""
    notes = []
    z = quat.rotate(q, np.array([0.0, 0.0, 1.0]))
    tilt = np.degrees(np.arccos(np.clip(np.sum(z * _unit(trunk), axis=-1), -1.0, 1.0)))
    if float(np.median(tilt)) > FROM_POSITIONS_DEG:
        q = _swing_onto(q, np.array([0.0, 0.0, 1.0]), _unit(trunk))
        notes.append(f"tilted {np.median(tilt):.0f} deg onto the trunk")
        z = quat.rotate(q, np.array([0.0, 0.0, 1.0]))
    y = quat.rotate(q, np.array([0.0, 1.0, 0.0]))
    flat = line - np.sum(line * z, axis=-1, keepdims=True) * z
    angle = np.arctan2(np.sum(np.cross(y, flat) * z, axis=-1), np.sum(y * flat, axis=-1))
    angle = np.where(np.linalg.norm(flat, axis=-1) > 1e-9, angle, 0.0)
    if float(np.degrees(np.median(np.abs(angle)))) > FROM_POSITIONS_DEG:
        q = quat.multiply(quat.from_axis_angle(z, angle), q)
        notes.append(f"turned {np.degrees(np.median(np.abs(angle))):.0f} deg onto")
    return q, "; ".join(notes)


def _foot_up(rot_stance: np.ndarray, trunk_axis: np.ndarray, shank_rest: np.ndarray,
             toe_rest: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The foot's up axis in the source ankle's frame, and where it came from: the world vertical
    averaged over the stance frames; the rest trunk axis when there are none, or when the rest pose
    stands upright on its feet and the stance average is more than 45 degrees off it (feet not flat in
    stance, e.g. crawling on the toes). Standing on its feet: the rest shank (knee to ankle) points down
    the trunk axis and the rest foot (ankle to toe) lies across it, each within 45 degrees; a rest pose
    with every bone along one axis (legs and toes along +Y: bvh-compress's sample) says nothing about
    where the foot's sole faces, so the stance frames decide."""
    rest_up = _unit(trunk_axis)
    if not len(rot_stance):
        return rest_up, "rest pose (no stance frames)"
    up = _unit(_local_mean(rot_stance, np.broadcast_to(_UP, (len(rot_stance), 3))))
    off_deg = math.degrees(math.acos(float(np.clip(np.dot(up, rest_up), -1.0, 1.0))))
    on_feet = np.dot(_unit(shank_rest), -rest_up) > math.cos(math.radians(MAX_FOOT_REST_DEG)) and (
        toe_rest is None or abs(np.dot(_unit(toe_rest), rest_up)) < math.sin(math.radians(MAX_FOOT_REST_DEG)))
    if rest_up[2] > math.cos(math.radians(UPRIGHT_REST_DEG)) and off_deg > MAX_FOOT_REST_DEG:
        if on_feet:
            return rest_up, f"rest pose (the stance average is {off_deg:.0f} deg off it)"
        return up, (f"stance frames ({off_deg:.0f} deg off the rest trunk axis; "
                    "the rest pose does not stand on its feet)")
    return up, "stance frames"


def _limb(rot_upper: np.ndarray, p_upper: np.ndarray, p_lower: np.ndarray, p_end: np.ndarray, rest_bone: np.ndarray,
          sign: float, parent_side: np.ndarray, toes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Upper-limb world orientation, hinge angle (rad) and how its twist was found. ``sign``: +1 knee
    (axis +y), -1 elbow (axis -y). ``toes``: ``(T, 3)`` ankle-to-toe vectors of a leg, where the source
    has toes: a knee bends so that the shank moves away from the toes; a leg that is almost straight
    all clip long (its mean bend mostly hyperextension and noise: a dancer's locked knees) takes its
    flexion axis from the feet instead of turning the knee backwards."""
    u, l = _unit(p_lower - p_upper), _unit(p_end - p_lower)
    bend = np.cross(u, l)
    flexion_axis = _local_mean(rot_upper, bend)
    from_feet = _local_mean(rot_upper, _unit(np.cross(u, -toes))) if toes is not None else None
    if from_feet is not None and np.linalg.norm(flexion_axis) < WEAK_MEAN_BEND \
            and np.dot(flexion_axis, from_feet) <= 0.0 and np.linalg.norm(from_feet) >= MIN_MEAN_BEND:
        side, note = sign * from_feet, "toe direction (the knee's mean bend points away from the toes)"
    elif np.linalg.norm(flexion_axis) >= MIN_MEAN_BEND:
        side, note = sign * flexion_axis, "flexion axis"
    else:
        side, note = _local_mean(rot_upper, parent_side), "parent side axis (limb never bends)"
    orient = _swing_onto(quat.multiply(rot_upper, _frame(z=-rest_bone, y=side)), _DOWN, u)
    # twist about the bone so the hinge plane holds the lower bone, fully once bent by 20 degrees
    axis = sign * _axis(orient, 1)
    sin_bend = np.linalg.norm(bend, axis=-1)
    plane = _unit(bend)
    phi = np.arctan2(np.sum(np.cross(axis, plane) * u, axis=-1), np.sum(axis * plane, axis=-1))
    weight = np.clip((sin_bend - BEND_SIN[0]) / (BEND_SIN[1] - BEND_SIN[0]), 0, 1) * np.clip(2 * np.cos(phi), 0, 1)
    orient = quat.multiply(quat.from_axis_angle(u, weight * phi), orient)
    axis = sign * _axis(orient, 1)
    angle = np.arctan2(np.sum(bend * axis, axis=-1), np.sum(u * l, axis=-1))
    return orient, angle, note


def _assemble_qpos(world: dict[str, np.ndarray], hinge: dict[str, np.ndarray]) -> np.ndarray:
    n_frames = len(world["pelvis"])
    qpos = np.zeros((n_frames, _NQ))
    qpos[:, 3:7] = quat.make_continuous(quat.normalize(world["pelvis"]))
    for joint in humanoid.JOINTS[1:]:
        adr = humanoid.qpos_address(joint.name)
        if joint.type == "hinge":
            qpos[:, adr] = hinge[joint.name]
        else:
            local = quat.multiply(quat.conjugate(world[joint.parent]), world[joint.name])
            qpos[:, adr:adr + 4] = quat.make_continuous(quat.normalize(local))
    return qpos


def _world_from_qpos(model: mujoco.MjModel, qpos: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """World orientation of every driven body and the hinge angles of ``qpos (T, nq)`` (the inverse of
    ``_assemble_qpos``)."""
    data = mujoco.MjData(model)
    bodies = {name: model.body(name).id for name in humanoid.JOINT_NAMES}
    world = {name: np.empty((len(qpos), 4)) for name in bodies}
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(model, data)
        for name, b in bodies.items():
            world[name][t] = data.xquat[b]
    hinge = {j.name: qpos[:, humanoid.qpos_address(j.name)].copy() for j in humanoid.JOINTS if j.type == "hinge"}
    return world, hinge


def rest_pose_mismatch(model: mujoco.MjModel, qpos: np.ndarray) -> str:
    """The worst ball joint (chest, neck, hips, ankles; not the shoulders, whose range is free) that sits
    more than :data:`REST_MISMATCH_DEG` off its parent and outside its range in most frames of ``qpos``,
    described in one sentence; "" when there is none. Run on the retarget before the anatomical clamps
    (``retarget`` stores it in ``meta["rest_pose_mismatch"]``), which would bend such a joint back into
    range and hide a source whose rest pose does not match its skeleton map.

    A hip is measured by its knee's hinge axis against the pelvis' side axis, not by its whole rotation:
    the thigh follows the source bone's direction, so a deep hip flexion (a squat or a stoop to lift,
    thigh against the trunk: 130-170 deg) is motion, not a mismatch; what a mismatched pelvis (a
    mirrored recording, left and right swapped) turns round is the knee, which then bends backwards
    against the pelvis (its axis ~180 deg off). Every other joint by its whole rotation."""
    worst: tuple[float, str] = (0.0, "")
    off_hips: dict[str, str] = {}
    for j in range(model.njnt):
        name = model.joint(j).name
        if model.jnt_type[j] != mujoco.mjtJoint.mjJNT_BALL or "shoulder" in name:
            continue
        adr = model.jnt_qposadr[j]
        q = qpos[:, adr:adr + 4]
        if name.endswith("_hip"):  # the knee axis (the thigh's y) in the pelvis frame against the pelvis' y
            angle = np.degrees(np.arccos(np.clip(_axis(q, 1)[:, 1], -1.0, 1.0)))
            what = f"{name}: its knee's hinge axis is more than {REST_MISMATCH_DEG:g} deg off the pelvis' side axis"
        else:
            angle = np.degrees(2.0 * np.arccos(np.clip(np.abs(q[:, 0]), 0.0, 1.0)))
            what = f"{name} more than {REST_MISMATCH_DEG:g} deg off its parent"
        limit = math.degrees(model.jnt_range[j][1]) if model.jnt_limited[j] else 0.0
        share = float(np.mean((angle > REST_MISMATCH_DEG) & (angle > limit)))
        off = f"{what} in {100 * share:.0f} % of the frames (median {np.median(angle):.0f} deg)"
        if share > 0.5 and name.endswith("_hip"):
            off_hips[name] = off
        if share > 0.5 and share > worst[0]:
            worst = (share, f"{off}: the source's rest pose does not match its skeleton map")
    if len(off_hips) == 2:  # both knees bend towards the pelvis' back: the labels put left on the body's right
        return (next(iter(off_hips.values())) + ", and so is the other hip: both knees bend backwards against the "
                "pelvis - left and right swapped (a mirrored recording, e.g. a camera's mirror mode? --mirror)")
    return worst[1]


def _clamp_ranges(model: mujoco.MjModel, qpos: np.ndarray) -> str:
    """Clamp every joint coordinate of ``qpos (T, nq)`` (in place) to the anatomical ranges of
    :mod:`sportsim.humanoid_limits` - ball joints per rotation-vector component, hinges by angle - and
    say which coordinates were clamped in how many frames and by how much at most."""
    from sportsim import humanoid_limits as limits

    clamped = []
    for j in humanoid.JOINTS[1:]:
        adr = humanoid.qpos_address(j.name)
        if j.type == "hinge":
            low, high = limits.range_rad(j.name)
            before = qpos[:, adr].copy()
            qpos[:, adr] = np.clip(before, low, high)
            excess = np.abs(before - qpos[:, adr])
            if excess.max() > 1e-9:
                clamped.append(f"{j.name} {int((excess > 1e-9).sum())} frames (max {math.degrees(excess.max()):.1f} deg)")
            continue
        rotvec = quat.to_rotation_vector(qpos[:, adr:adr + 4])
        bounds = np.array([limits.range_rad(f"{j.name}_{axis}") for axis in "xyz"])  # (3, 2)
        inside = np.clip(rotvec, bounds[:, 0], bounds[:, 1])
        excess = np.abs(rotvec - inside)
        for a, axis in enumerate("xyz"):
            if excess[:, a].max() > 1e-9:
                clamped.append(f"{j.name}_{axis} {int((excess[:, a] > 1e-9).sum())} frames "
                               f"(max {math.degrees(excess[:, a].max()):.1f} deg)")
        if excess.max() > 1e-9:
            qpos[:, adr:adr + 4] = quat.from_rotation_vector(inside)
    return "; ".join(clamped) if clamped else "none"


TWISTED_HIP_DEG = 20.0  # a hip turned this far past its rotation range is a twisted source leg, not a pose


def _clamp_ranges_keeping_ankles(model: mujoco.MjModel, qpos: np.ndarray, bones_m: tuple[float, float]) -> str:
    """:func:`_clamp_ranges`; where a hip was turned about its z axis more than :data:`TWISTED_HIP_DEG`
    past its range (a source knee bending sideways: Azure Kinect), clamping it swings the ankle away
    from the source's (11 cm there), so two-bone leg IK then puts that ankle back - the leg turns about
    its hip-ankle line instead - and the ranges are clamped once more. In place; returns the clamp note."""
    from sportsim import humanoid_limits as limits

    twisted = np.zeros((len(qpos), 2), dtype=bool)
    for k, (side, _) in enumerate(_SIDES):
        adr = humanoid.qpos_address(f"{side}_hip")
        turn = quat.to_rotation_vector(qpos[:, adr:adr + 4])[:, 2]
        low, high = limits.range_rad(f"{side}_hip_z")
        twisted[:, k] = np.maximum(low - turn, turn - high) > math.radians(TWISTED_HIP_DEG)
    before, _ = _forward(model, qpos) if twisted.any() else (None, None)
    note = _clamp_ranges(model, qpos)
    if not twisted.any():
        return note
    after, _ = _forward(model, qpos)
    ankles = [POINT_NAMES.index(f"{side}_ankle") for side, _ in _SIDES]
    disp = np.where(twisted[..., None], before[:, ankles] - after[:, ankles], 0.0)
    world, hinge = _world_from_qpos(model, qpos)
    _leg_ik(world, hinge, after, disp, bones_m)
    qpos[:, 7:] = _assemble_qpos(world, hinge)[:, 7:]
    again = _clamp_ranges(model, qpos)
    kept, _ = _forward(model, qpos)
    moved = float(np.linalg.norm(disp, axis=-1).max())
    left = float(np.linalg.norm(np.where(twisted[..., None], before[:, ankles] - kept[:, ankles], 0.0), axis=-1).max())
    return (f"{note}; a hip turned > {TWISTED_HIP_DEG:g} deg past its range in {int(twisted.any(axis=1).sum())} "
            f"frames: the ankle its clamp moved (up to {100 * moved:.1f} cm) put back by leg IK (off by up to "
            f"{100 * left:.1f} cm{'' if again == 'none' else ' after clamping again: ' + again})")
