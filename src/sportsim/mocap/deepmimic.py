"""DeepMimic motion reader (the ``humanoid3d_*.txt`` JSON files shipped with DeepMimic and pybullet_data).

Format: ``{"Loop": "wrap" | "none", "Frames": [[duration_s, root_pos(3), root_rot(4), chest(4), neck(4),
right_hip(4), right_knee(1), right_ankle(4), right_shoulder(4), right_elbow(1), left_hip(4),
left_knee(1), left_ankle(4), left_shoulder(4), left_elbow(1)], ...]}`` (44 numbers per frame). Y-up,
metres; quaternions (w, x, y, z); knees and elbows are revolute angles in radians about the joint's
Z axis (DeepMimic's lateral axis, +Z points to the character's right).

Each value is the pose at the start of its frame and ``duration_s`` is the time to the next frame (the
last frame's is usually 0). Uneven durations are resampled onto a uniform grid (slerp for rotations).
The fixed wrists are kept as joints with identity rotation, as in DeepMimic's skeleton.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from sportsim.errors import MocapError
from sportsim.mocap import quat
from sportsim.mocap.bvh import Y_UP_TO_Z_UP
from sportsim.mocap.clip import Clip, nominal_fps

# humanoid3d joints, parents and offsets (m, Y-up, parent frame) [REFERENCES C1]; exact values from
# pybullet_data/humanoid/humanoid.urdf divided by its 4x scale.
JOINTS = ("root", "chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
          "right_wrist", "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow", "left_wrist")
PARENTS = (-1, 0, 1, 0, 3, 4, 1, 6, 7, 0, 9, 10, 1, 12, 13)
OFFSETS_M_Y_UP = (
    (0.0, 0.0, 0.0),
    (0.0, 0.236151, 0.0),
    (0.0, 0.223894, 0.0),
    (0.0, 0.0, 0.084887),
    (0.0, -0.421546, 0.0),
    (0.0, -0.409870, 0.0),
    (-0.024050, 0.243500, 0.183110),
    (0.0, -0.274788, 0.0),
    (0.0, -0.258947, 0.0),
    (0.0, 0.0, -0.084887),
    (0.0, -0.421546, 0.0),
    (0.0, -0.409870, 0.0),
    (-0.024050, 0.243500, -0.183110),
    (0.0, -0.274788, 0.0),
    (0.0, -0.258947, 0.0),
)
# frame layout after duration and root position: (joint, number of values: 4 quaternion, 1 angle)
FRAME_LAYOUT = (("root", 4), ("chest", 4), ("neck", 4), ("right_hip", 4), ("right_knee", 1),
                ("right_ankle", 4), ("right_shoulder", 4), ("right_elbow", 1), ("left_hip", 4),
                ("left_knee", 1), ("left_ankle", 4), ("left_shoulder", 4), ("left_elbow", 1))
FRAME_SIZE = 4 + sum(n for _, n in FRAME_LAYOUT)  # 44
REVOLUTE_AXIS = np.array([0.0, 0.0, 1.0])
# DeepMimic normalises quaternions when it loads a motion, and its published files rely on that (norms
# from 0.58 to 1.2 occur, e.g. in humanoid3d_kick.txt): normalise, reject only near-zero ones.
MIN_QUAT_NORM = 0.1
UNIFORM_TOL_S = 1e-4  # frame durations closer than this to the median count as uniform


def read_deepmimic(path: str | os.PathLike[str]) -> Clip:
    """Read a DeepMimic motion file into a :class:`Clip` (Z-up, metres)."""
    path = Path(path)
    try:
        return _read(path)
    except MocapError:
        raise
    except Exception as exc:  # report every failure as MocapError
        raise MocapError(f"{path}: cannot read DeepMimic motion: {type(exc).__name__}: {exc}") from exc


def _read(path: Path) -> Clip:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise MocapError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise MocapError(f"{path}: not UTF-8 text (offset {exc.start})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MocapError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Frames"), list):
        raise MocapError(f"{path}: expected a JSON object with a 'Frames' list")
    loop = data.get("Loop", "none")
    if loop not in ("wrap", "none"):
        raise MocapError(f"{path}: 'Loop' must be \"wrap\" or \"none\", got {loop!r}")
    frames = _frames_array(data["Frames"], path)

    durations = frames[:, 0]
    times_s, fps, uneven = _frame_times(durations, path)
    root_pos = frames[:, 1:4]
    rotations = np.tile(quat.IDENTITY, (len(frames), len(JOINTS), 1))
    column = 4
    for name, size in FRAME_LAYOUT:
        joint = JOINTS.index(name)
        values = frames[:, column:column + size]
        if size == 4:
            rotations[:, joint] = _unit(values, name, column, path)
        else:
            rotations[:, joint] = quat.from_axis_angle(REVOLUTE_AXIS, values[:, 0])
        column += size
    rotations = quat.make_continuous(rotations, axis=0)

    meta = {"format": "deepmimic", "loop": loop, "unit": "m",
            "up_axis": "file Y-up rotated to Z-up: (x, y, z) -> (x, -z, y)",
            "max_quaternion_norm_error": f"{_max_norm_error(frames):.3g} (normalised on load)"}
    if uneven:
        n_out = int(math.floor(times_s[-1] * fps + 1e-9)) + 1
        uniform = np.arange(n_out) / fps
        root_pos, rotations = _resample(times_s, root_pos, rotations, uniform)
        meta["resampled"] = f"{len(frames)} frames with uneven durations -> {n_out} frames at {fps:.6g} Hz"

    c = Y_UP_TO_Z_UP
    return Clip(
        fps=fps,
        joint_names=JOINTS,
        parents=np.array(PARENTS),
        offsets_m=quat.rotate(c, np.array(OFFSETS_M_Y_UP)),
        root_pos_m=quat.rotate(c, root_pos),
        rotations=quat.multiply(quat.multiply(c, rotations), quat.conjugate(c)),
        source=str(path),
        skeleton="deepmimic",
        meta=meta,
    )


def _frames_array(frames: list, path: Path) -> np.ndarray:
    if not frames:
        raise MocapError(f"{path}: 'Frames' is empty")
    for index, frame in enumerate(frames):
        if not isinstance(frame, list) or len(frame) != FRAME_SIZE:
            size = len(frame) if isinstance(frame, list) else type(frame).__name__
            raise MocapError(f"{path}: Frames[{index}]: expected a list of {FRAME_SIZE} numbers, got {size}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in frame):
            raise MocapError(f"{path}: Frames[{index}]: every value must be a number")
    array = np.array(frames, dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise MocapError(f"{path}: Frames[{row}][{column}]: value is not finite")
    return array


def _frame_times(durations: np.ndarray, path: Path) -> tuple[np.ndarray, float, bool]:
    """Start time of every frame, the clip's rate (1 / median frame duration) and whether the
    durations are uneven."""
    steps = durations[:-1] if len(durations) > 1 else durations
    if np.any(steps <= 0):
        index = int(np.argmax(steps <= 0))
        raise MocapError(f"{path}: Frames[{index}][0]: frame duration must be positive, got {steps[index]}")
    median_s = float(np.median(steps))
    times = np.concatenate([[0.0], np.cumsum(durations[:-1])])
    return times, nominal_fps(median_s), bool(np.any(np.abs(steps - median_s) > UNIFORM_TOL_S))


def _unit(values: np.ndarray, name: str, column: int, path: Path) -> np.ndarray:
    norms = np.linalg.norm(values, axis=-1)
    bad = norms < MIN_QUAT_NORM
    if bad.any():
        index = int(np.argmax(bad))
        raise MocapError(f"{path}: Frames[{index}][{column}:{column + 4}]: {name} quaternion has norm "
                         f"{norms[index]:.4g}, not a rotation")
    return values / norms[:, None]


def _max_norm_error(frames: np.ndarray) -> float:
    columns, errors = 4, []
    for _, size in FRAME_LAYOUT:
        if size == 4:
            errors.append(np.abs(np.linalg.norm(frames[:, columns:columns + 4], axis=-1) - 1.0).max())
        columns += size
    return float(max(errors))


def _resample(times_s: np.ndarray, root_pos: np.ndarray, rotations: np.ndarray,
              new_times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear root positions and slerped rotations at ``new_times_s`` (within the source time span)."""
    upper = np.clip(np.searchsorted(times_s, new_times_s, side="right"), 1, len(times_s) - 1)
    lower = upper - 1
    span = times_s[upper] - times_s[lower]
    t = np.clip((new_times_s - times_s[lower]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    pos = root_pos[lower] + t[:, None] * (root_pos[upper] - root_pos[lower])
    rot = quat.slerp(rotations[lower], rotations[upper], t[:, None])
    return pos, rot
