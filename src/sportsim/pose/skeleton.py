"""Pose landmarks -> :class:`~sportsim.mocap.clip.Clip`: a positions-based skeleton of constant bone lengths.

Steps (:func:`landmarks_to_clip`):

1. **Gaps**: frames without the person before the first / after the last usable frame are dropped
   (``meta["video_first_frame"]`` keeps the offset, so the footage stays time-aligned); gaps inside
   are filled by linear interpolation in time, and reported.
2. **Filter**: every landmark coordinate (metric and image) through a zero-lag 4th-order Butterworth
   low-pass, ``cutoff_hz`` (default 6 Hz, Winter's cut-off for gait; :mod:`sportsim.pose.filters`).
3. **Root translation** (MediaPipe's metric landmarks are centred on the hips; the camera is assumed
   static and level, with a phone's field of view, ``fov_deg`` = 79 deg diagonal = 26 mm equivalent):
   the camera-frame translation of the hips per frame is the least-squares solution that projects the
   metric landmarks onto their image positions (pinhole camera, principal point at the centre). Depth
   is the least certain part, so its horizontal path is corrected by the feet: while a foot is in
   stance (within 10 cm of its floor level and moving slower than 0.8 m/s in the picture; breaks in
   one foot's stance shorter than 0.25 s, too short for a swing, are filled) the root moves by minus
   the foot's motion relative to the root (the stance foot held fixed); between stances the estimate's own
   velocity is used; and the integrated path is pulled towards the projection estimate below 0.5 Hz
   (complementary filter), so it cannot drift. The absolute scale is MediaPipe's body-size estimate:
   ``--height`` (the retargeting stature) rescales body and path together.
4. **Axes**: camera (x right, y down, z away) -> sportsim (X away from the camera, Y left, Z up).
5. **Skeleton**: pelvis at the mid-hip point, spine and chest on the hip-to-shoulder line, neck at the
   mid-shoulder point, head at the mid-ear point; limbs from the landmarks (hand: the mean of index
   and pinky; foot: ankle to foot index, heel as an end site). Each segment's frame: the bone along
   its z axis and the flexion axis of the limb (thigh x shank, the elbow's opposite) as y, the
   parent's y when the limb is straight; pelvis and chest take y from the hip and shoulder lines.
   Each bone's length is its median over the clip, so lengths are constant; the directions are the
   measured ones. Foot contacts (the stance flags of step 3) go into the clip.

Zero-pose of the clip: upright, arms hanging, feet flat, facing +X. Everything is in metres, Z up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sportsim.errors import MocapError
from sportsim.mocap import quat
from sportsim.mocap.clip import Clip
from sportsim.pose.filters import fill_gaps, gap_runs, lowpass
from sportsim.pose.reader import KEY_LANDMARKS, LM, Landmarks

DEFAULT_CUTOFF_HZ = 6.0  # Winter 2009: 6 Hz low-pass for walking marker data
DEFAULT_FOV_DEG = 79.0  # diagonal field of view of a phone's main camera (26 mm equivalent)
ROOT_BLEND_HZ = 0.5  # complementary filter: projection estimate below, foot-held motion above
STANCE_HEIGHT_M = 0.10  # MediaPipe's foot heights scatter by several cm; the speed test does most of the work
STANCE_SPEED_MPS = 0.8
MIN_SWING_S = 0.25  # shorter breaks in one foot's stance are noise (a sprinter's swing lasts ~0.3 s or more)
MIN_FIT_VISIBILITY = 0.5  # landmarks used for the root projection fit
MIN_THIGH_M = 0.1  # shorter (median) thighs mean degenerate landmarks
SKELETON = "mediapipe_pose"
# joint, parent, the landmark point it sits on (computed in _points)
JOINTS = (("Pelvis", None), ("LeftHip", "Pelvis"), ("LeftKnee", "LeftHip"), ("LeftAnkle", "LeftKnee"),
          ("LeftToe", "LeftAnkle"), ("RightHip", "Pelvis"), ("RightKnee", "RightHip"), ("RightAnkle", "RightKnee"),
          ("RightToe", "RightAnkle"), ("Spine", "Pelvis"), ("Chest", "Spine"), ("Neck", "Chest"), ("Head", "Neck"),
          ("LeftShoulder", "Chest"), ("LeftElbow", "LeftShoulder"), ("LeftWrist", "LeftElbow"),
          ("RightShoulder", "Chest"), ("RightElbow", "RightShoulder"), ("RightWrist", "RightElbow"))
END_SITES = (("Head", "Nose"), ("LeftWrist", "LeftHand"), ("RightWrist", "RightHand"), ("LeftAnkle", "LeftHeel"),
             ("RightAnkle", "RightHeel"))
# (child, parent) bones whose length and direction is exactly the segment's -z axis
_ALONG_Z = {"LeftKnee", "LeftAnkle", "RightKnee", "RightAnkle", "LeftElbow", "LeftWrist", "RightElbow", "RightWrist"}
_CAM_TO_WORLD = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])  # rows: X, Y, Z from x, y, z


@dataclass(frozen=True)
class VideoFit:
    """What :func:`landmarks_to_clip` measured on the way (reported by ``info``)."""

    first_frame: int
    n_frames: int
    gap_frames: int
    gaps: int
    longest_gap_s: float
    visibility: float
    jitter_raw_mps2: float
    jitter_mps2: float
    bone_spread_pct: dict[str, float]
    cutoff_hz: float
    fov_deg: float
    stance_fraction: float


def landmarks_to_clip(marks: Landmarks, *, cutoff_hz: float = DEFAULT_CUTOFF_HZ,
                      fov_deg: float = DEFAULT_FOV_DEG) -> tuple[Clip, VideoFit]:
    """The clip of ``marks`` (module docstring) and the figures measured on the way."""
    found = np.flatnonzero(marks.found)
    if len(found) < 2:
        raise MocapError(f"{marks.source}: the person is found in {len(found)} frame(s); a clip needs 2")
    if not 0 < cutoff_hz < 0.4 * marks.fps:
        raise MocapError(f"{marks.source}: cutoff_hz={cutoff_hz} must lie in (0, {0.4 * marks.fps:g}) Hz at "
                         f"{marks.fps:g} frames/s")
    if not 10.0 <= fov_deg <= 170.0:
        raise MocapError(f"{marks.source}: fov_deg={fov_deg} must lie in [10, 170] degrees")
    first, last = int(found[0]), int(found[-1]) + 1
    legs = [np.nanmedian(np.linalg.norm(marks.world_m[:, LM[f"{s}_knee"]] - marks.world_m[:, LM[f"{s}_hip"]], axis=-1))
            for s in ("left", "right")]
    if not min(legs) > MIN_THIGH_M:
        raise MocapError(f"{marks.source}: the landmarks make a thigh {min(legs) * 100:.1f} cm long; not a body "
                         "MediaPipe measured")
    ok = marks.found[first:last]
    world_raw = marks.world_m[first:last]
    world = lowpass(fill_gaps(world_raw, ok), marks.fps, cutoff_hz)
    image = lowpass(fill_gaps(marks.image[first:last], ok), marks.fps, cutoff_hz)
    vis = fill_gaps(marks.visibility[first:last], ok)

    focal_px = 0.5 * math.hypot(marks.width_px, marks.height_px) / math.tan(math.radians(0.5 * fov_deg))
    trans_cam = lowpass(_camera_translation(world, image, vis, marks.width_px, marks.height_px, focal_px),
                        marks.fps, cutoff_hz)
    points = np.einsum("ij,tkj->tki", _CAM_TO_WORLD, world + trans_cam[:, None, :])
    stance = _stance(points, image, trans_cam[:, 2], focal_px, marks.fps)
    points += (_foot_held_root(points, stance, marks.fps) - points[:, [LM["left_hip"], LM["right_hip"]]].mean(axis=1)
               )[:, None, :]
    clip = _clip(points, stance, marks, first, cutoff_hz, fov_deg)

    runs = gap_runs(ok)
    rel_raw = world_raw - world_raw[:, [LM["left_hip"], LM["right_hip"]]].mean(axis=1, keepdims=True)
    rel = world - world[:, [LM["left_hip"], LM["right_hip"]]].mean(axis=1, keepdims=True)
    fit = VideoFit(first_frame=first, n_frames=last - first, gap_frames=int((~ok).sum()), gaps=len(runs),
                   longest_gap_s=max((b - a for a, b in runs), default=0) / marks.fps,
                   visibility=float(np.mean(marks.visibility[marks.found][:, [LM[n] for n in KEY_LANDMARKS]])),
                   jitter_raw_mps2=_jitter(rel_raw, marks.fps), jitter_mps2=_jitter(rel, marks.fps),
                   bone_spread_pct=_bone_spread(world_raw), cutoff_hz=cutoff_hz, fov_deg=fov_deg,
                   stance_fraction=float(stance.any(axis=1).mean()))
    return clip, fit


# ---- root translation -------------------------------------------------------------------------------
def _camera_translation(world: np.ndarray, image: np.ndarray, vis: np.ndarray, width: int, height: int,
                        focal: float) -> np.ndarray:
    """(T, 3) camera-frame position of the landmarks' origin: least squares of the pinhole projection
    u = f (X + tx) / (Z + tz), v = f (Y + ty) / (Z + tz) over the visible landmarks."""
    u = image[..., 0] - 0.5 * width
    v = image[..., 1] - 0.5 * height
    w = np.where(vis >= MIN_FIT_VISIBILITY, vis, 0.0) + 1e-6
    x, y, z = world[..., 0], world[..., 1], world[..., 2]
    # rows [f, 0, -u] t = u z - f x and [0, f, -v] t = v z - f y; normal equations per frame
    zeros = np.zeros_like(u)
    rows = np.concatenate([np.stack([np.full_like(u, focal), zeros, -u], -1),
                           np.stack([zeros, np.full_like(v, focal), -v], -1)], axis=1)
    rhs = np.concatenate([u * z - focal * x, v * z - focal * y], axis=1)
    weights = np.concatenate([w, w], axis=1)
    normal = np.einsum("tki,tk,tkj->tij", rows, weights, rows)
    return np.linalg.solve(normal, np.einsum("tki,tk,tk->ti", rows, weights, rhs)[..., None])[..., 0]


def _stance(points: np.ndarray, image: np.ndarray, depth_m: np.ndarray, focal_px: float, fps: float) -> np.ndarray:
    """(T, 2) stance flags (right, left): the foot (heel and foot index) within STANCE_HEIGHT_M of its
    floor level (5th height percentile) and moving slower than STANCE_SPEED_MPS in the picture (image
    speed scaled to metres at the person's depth: the static camera sees a planted foot stand still,
    more reliably than the metric landmarks' depth)."""
    flags = []
    for side in ("right", "left"):
        heel_toe = [LM[f"{side}_heel"], LM[f"{side}_foot_index"]]
        low = points[:, heel_toe, 2].min(axis=1)
        speed = np.linalg.norm(np.gradient(image[:, heel_toe].mean(axis=1), axis=0), axis=-1) * fps * depth_m / focal_px
        stance = (low - np.percentile(low, 5.0) < STANCE_HEIGHT_M) & (speed < STANCE_SPEED_MPS)
        for start, stop in gap_runs(stance):  # a foot cannot swing and land again this fast: one stance
            if start > 0 and stop < len(stance) and stop - start < MIN_SWING_S * fps:
                stance[start:stop] = True
        flags.append(stance)
    return np.stack(flags, axis=1)


def _foot_held_root(points: np.ndarray, stance: np.ndarray, fps: float) -> np.ndarray:
    """(T, 3) root (mid-hip) path: horizontal velocity from the stance feet held fixed, the projection
    estimate's velocity without stance, pulled to the projection estimate below ROOT_BLEND_HZ."""
    root = points[:, [LM["left_hip"], LM["right_hip"]]].mean(axis=1)
    velocity = np.gradient(root, axis=0)
    held = np.zeros_like(velocity)
    count = np.zeros(len(root))
    for k, side in enumerate(("right", "left")):
        foot = points[:, [LM[f"{side}_heel"], LM[f"{side}_foot_index"]]].mean(axis=1)
        held += stance[:, k, None] * -np.gradient(foot - root, axis=0)
        count += stance[:, k]
    horizontal = np.where(count[:, None] > 0, held / np.maximum(count, 1)[:, None], velocity)[:, :2]
    steps = 0.5 * (horizontal[1:] + horizontal[:-1])  # trapezoidal integration, per frame
    integrated = root[0, :2] + np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)])
    out = root.copy()
    if len(root) > 12 and ROOT_BLEND_HZ < 0.4 * fps:
        out[:, :2] = integrated + lowpass(root[:, :2] - integrated, fps, ROOT_BLEND_HZ)
    return out


# ---- the skeleton -----------------------------------------------------------------------------------
def _points(p: np.ndarray) -> dict[str, np.ndarray]:
    """(T, 3) position of every joint and end site from the landmark points (T, 33, 3)."""
    def at(name: str) -> np.ndarray:
        return p[:, LM[name]]

    pelvis, neck = 0.5 * (at("left_hip") + at("right_hip")), 0.5 * (at("left_shoulder") + at("right_shoulder"))
    out = {"Pelvis": pelvis, "Spine": pelvis + 0.45 * (neck - pelvis), "Chest": pelvis + 0.8 * (neck - pelvis),
           "Neck": neck, "Head": 0.5 * (at("left_ear") + at("right_ear")), "Nose": at("nose"),
           "LeftEar": at("left_ear"), "RightEar": at("right_ear")}
    for side, s in (("Left", "left"), ("Right", "right")):
        out |= {f"{side}Hip": at(f"{s}_hip"), f"{side}Knee": at(f"{s}_knee"), f"{side}Ankle": at(f"{s}_ankle"),
                f"{side}Toe": at(f"{s}_foot_index"), f"{side}Heel": at(f"{s}_heel"),
                f"{side}Shoulder": at(f"{s}_shoulder"), f"{side}Elbow": at(f"{s}_elbow"),
                f"{side}Wrist": at(f"{s}_wrist"), f"{side}Hand": 0.5 * (at(f"{s}_index") + at(f"{s}_pinky"))}
    return out


def _frames(pt: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """(T, 3, 3) world rotation matrix (columns x, y, z) of every joint's segment."""
    up = pt["Neck"] - pt["Pelvis"]
    g = {"Pelvis": _frame(z=up, y=pt["LeftHip"] - pt["RightHip"], first="y"),
         "Chest": _frame(z=up, y=pt["LeftShoulder"] - pt["RightShoulder"], first="y")}
    g["Spine"] = quat.to_matrix(quat.slerp(quat.from_matrix(g["Pelvis"]), quat.from_matrix(g["Chest"]), 0.5))
    g["Neck"] = _frame(z=pt["Head"] - pt["Neck"], y=g["Chest"][..., 1])
    g["Head"] = _frame(z=pt["Head"] - pt["Neck"], y=pt["LeftEar"] - pt["RightEar"], first="y")
    for side in ("Left", "Right"):
        for upper, mid, end, parent, sign in (("Hip", "Knee", "Ankle", "Pelvis", 1.0),
                                              ("Shoulder", "Elbow", "Wrist", "Chest", -1.0)):
            u = _unit(pt[side + mid] - pt[side + upper])
            l = _unit(pt[side + end] - pt[side + mid])
            side_ref = sign * np.cross(u, l) + 0.1 * g[parent][..., 1]  # the flexion axis; the parent's when straight
            g[side + upper] = _frame(z=-u, y=side_ref)
            g[side + mid] = _frame(z=-l, y=g[side + upper][..., 1])
        g[side + "Wrist"] = _frame(z=pt[side + "Wrist"] - pt[side + "Hand"], y=g[side + "Elbow"][..., 1])
        g[side + "Ankle"] = _frame(x=pt[side + "Toe"] - pt[side + "Heel"], y=g[side + "Knee"][..., 1], first="x")
        g[side + "Toe"] = g[side + "Ankle"]
    return g


def _clip(points: np.ndarray, stance: np.ndarray, marks: Landmarks, first: int, cutoff_hz: float,
          fov_deg: float) -> Clip:
    pt = _points(points)
    g = _frames(pt)
    names = [n for n, _ in JOINTS]
    index = {n: i for i, n in enumerate(names)}
    parents = np.array([-1 if p is None else index[p] for _, p in JOINTS])
    offsets = np.zeros((len(names), 3))
    for name, parent in JOINTS[1:]:
        local = np.einsum("tji,tj->ti", g[parent], pt[name] - pt[parent])  # in the parent's frame
        if name in _ALONG_Z:
            offsets[index[name]] = [0.0, 0.0, -float(np.median(np.linalg.norm(local, axis=-1)))]
        else:
            offsets[index[name]] = np.median(local, axis=0)
    site_parents = np.array([index[p] for p, _ in END_SITES])
    sites = np.array([np.median(np.einsum("tji,tj->ti", g[p], pt[s] - pt[p]), axis=0) for p, s in END_SITES])
    rotations = np.empty((len(points), len(names), 4))
    rotations[:, 0] = quat.from_matrix(g["Pelvis"])
    for name, parent in JOINTS[1:]:
        rotations[:, index[name]] = quat.from_matrix(np.einsum("tji,tjk->tik", g[parent], g[name]))
    rotations = np.stack([quat.make_continuous(quat.normalize(rotations[:, j])) for j in range(len(names))], axis=1)
    meta = {"format": "video (MediaPipe Pose 0.10.14, BlazePose GHUM 3D full)", "unit": "m (MediaPipe's estimate)",
            "video_fps": f"{marks.fps:g}", "video_first_frame": str(first),
            "video_size_px": f"{marks.width_px}x{marks.height_px}",
            "filter": f"zero-lag 4th-order Butterworth low-pass, {cutoff_hz:g} Hz",
            "root": f"estimated: pinhole projection (static level camera, {fov_deg:g} deg diagonal field of view), "
                    f"stance feet held fixed, blended below {ROOT_BLEND_HZ:g} Hz"}
    return Clip(fps=marks.fps, joint_names=tuple(names), parents=parents, offsets_m=offsets,
                root_pos_m=pt["Pelvis"], rotations=rotations, end_site_parents=site_parents,
                end_site_offsets_m=sites, contacts=stance.copy(), contact_names=("right_foot", "left_foot"),
                source=marks.source, skeleton=SKELETON, meta=meta)


# ---- figures ------------------------------------------------------------------------------------------
_BONES = {"thigh": ("hip", "knee"), "shank": ("knee", "ankle"), "upper arm": ("shoulder", "elbow"),
          "forearm": ("elbow", "wrist"), "foot": ("heel", "foot_index")}


def _bone_spread(world: np.ndarray) -> dict[str, float]:
    """Per bone (both sides pooled): the spread (standard deviation / mean, %) of its length over the
    frames where it was measured - constant in a real body, so this is estimation noise."""
    out = {}
    for bone, (a, b) in _BONES.items():
        lengths = np.concatenate([np.linalg.norm(world[:, LM[f"{s}_{b}"]] - world[:, LM[f"{s}_{a}"]], axis=-1)
                                  for s in ("left", "right")])
        lengths = lengths[np.isfinite(lengths)]
        mean = lengths.mean() if len(lengths) > 1 else 0.0
        out[bone] = float(100.0 * lengths.std() / mean) if mean > 0 else float("nan")
    return out


def _jitter(rel: np.ndarray, fps: float) -> float:
    """Mean acceleration magnitude (m/s^2) of the hip-relative landmarks over the measured frames
    (second differences; includes the real motion, so compare raw with filtered)."""
    acc = (rel[2:] - 2 * rel[1:-1] + rel[:-2]) * fps * fps
    norms = np.linalg.norm(acc, axis=-1)
    return float(np.nanmean(norms)) if np.isfinite(norms).any() else float("nan")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _frame(z: np.ndarray | None = None, y: np.ndarray | None = None, x: np.ndarray | None = None,
           first: str = "z") -> np.ndarray:
    """(T, 3, 3) right-handed frame from two axes: ``first`` kept exactly, the other made orthogonal."""
    if x is not None:  # x and y
        xa = _unit(x)
        za = _unit(np.cross(xa, y))
        return np.stack([xa, np.cross(za, xa), za], axis=-1)
    if first == "y":
        ya = _unit(y)
        xa = _unit(np.cross(ya, z))
        return np.stack([xa, ya, np.cross(xa, ya)], axis=-1)
    za = _unit(z)
    xa = _unit(np.cross(y, za))
    return np.stack([xa, np.cross(za, xa), za], axis=-1)
