"""Writers of the sportsim humanoid's motion in the formats other tools read: BVH (Blender, MotionBuilder),
OpenSim's TRC (joint centres as markers) and MOT (coordinates and ground reaction forces), and CSV.

Input: an :class:`ExportMotion` - humanoid poses (MuJoCo ``qpos`` per frame) at a frame rate, the
humanoid's model for forward kinematics, and optionally per-frame ground reaction forces. Inside
sportsim everything is Z up, metres, radians; the conversions happen here, at the boundary:

* BVH: Y up (``(x, y, z) -> (x, z, -y)``, the inverse of the reader's turn), centimetres, Euler angles in
  degrees, channels ``Zrotation Xrotation Yrotation`` (intrinsic, the order most BVH tools write). One
  joint per MuJoCo body (the ``sportsim_humanoid`` layout of ``skeletons.yaml``), each joint frame the
  body's frame, so forward kinematics of the file gives MuJoCo's body positions; leaf bodies get an End
  Site (a site on the body, else twice its centre of mass). Written through :func:`bvhio.writeBvh`.
* TRC (OpenSim marker file, tab separated; OpenSim's frame: X forward, Y up, Z right, metres): the 13
  joint centres and 5 end-effector sites of :data:`sportsim.humanoid` as markers.
* MOT (OpenSim storage, ``inDegrees=yes``): the pelvis translation (OpenSim frame, m) and rotation
  (``pelvis_tilt`` about Z, ``pelvis_list`` about X, ``pelvis_rotation`` about Y, intrinsic, as OpenSim's
  gait models), every joint's rotation as intrinsic X-Y-Z Euler angles of the body frame (x forward, y to
  the left, z along the segment: for the legs x = ab/adduction, y = flexion/extension, z = rotation),
  hinges as their angle; then ``ground_force_{r,l}_v{x,y,z}`` (N) and ``ground_force_{r,l}_p{x,y,z}``
  (centre of pressure, m) when the motion carries kinetics.
* CSV: time, the root position (m) and quaternion (w-first) in sportsim's Z-up frame, the joint angles
  (degrees, as in the MOT) and the kinetics columns (Z-up frame) when present.

Every writer writes to a temporary file beside the target and renames it (atomic; bvhio itself would
overwrite any file it is given).
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np

from sportsim import humanoid

# sportsim (Z up, x forward, y left) -> BVH / OpenSim (Y up, x forward, z right)
Z_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
_Q_Z_TO_Y_UP = np.array([math.sqrt(0.5), -math.sqrt(0.5), 0.0, 0.0])  # the same turn, -90 deg about x
BVH_CM_PER_M = 100.0
BVH_ROTATION_ORDER = "ZXY"
FEET = ("r", "l")


@dataclass
class ExportMotion:
    """The humanoid's motion to export.

    ``qpos``: (T, nq) MuJoCo poses of ``model`` at ``fps``. ``grf_n`` / ``cop_m``: optional (T, 2, 3)
    ground reaction force on the (right, left) foot (N, world, Z up) and its centre of pressure (m,
    NaN without contact). ``source``: where the motion came from; ``notes``: lines for file headers."""

    model: mujoco.MjModel
    qpos: np.ndarray
    fps: float
    source: str
    grf_n: np.ndarray | None = None
    cop_m: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(len(self.qpos))

    @property
    def times_s(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.fps

    def kinematics(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per frame: body positions (T, nbody, 3), body quaternions (T, nbody, 4) and the metric points
        (T, 18, 3: the joint centres, then the end-effector sites), world frame. Computed once."""
        cached = self.__dict__.get("_kinematics")
        if cached is not None and cached[0] is self.qpos:
            return cached[1]
        m = self.model
        d = mujoco.MjData(m)
        joints = [m.body(name).id for name in humanoid.JOINT_NAMES]
        sites = [m.site(name).id for name in humanoid.END_EFFECTOR_NAMES]
        pos = np.zeros((self.n_frames, m.nbody, 3))
        quat = np.zeros((self.n_frames, m.nbody, 4))
        points = np.zeros((self.n_frames, len(joints) + len(sites), 3))
        for k, q in enumerate(self.qpos):
            d.qpos[:] = q
            mujoco.mj_kinematics(m, d)
            pos[k], quat[k] = d.xpos, d.xquat
            points[k, :len(joints)] = d.xanchor[[m.body_jntadr[b] for b in joints]]
            points[k, len(joints):] = d.site_xpos[sites]
        self.__dict__["_kinematics"] = (self.qpos, (pos, quat, points))
        return pos, quat, points


def point_names() -> tuple[str, ...]:
    return tuple(humanoid.JOINT_NAMES) + tuple(humanoid.END_EFFECTOR_NAMES)


# --- atomic output -----------------------------------------------------------------------------------

def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` with a temporary path beside ``path`` and rename it onto ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _write_text(path: Path, text: str) -> Path:
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# --- rotations ---------------------------------------------------------------------------------------

def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products of w-first quaternions, broadcast over leading axes."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def _quat_conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def _matrices(q: np.ndarray) -> np.ndarray:
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
                     np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
                     np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1)], -2)


def euler_intrinsic(q: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic Euler angles (rad), ``order`` such as "XYZ" (R = R_X R_Y R_Z), of w-first quaternions
    (..., 4) -> (..., 3) in the order given. Tait-Bryan orders only."""
    r = _matrices(q)
    i, j, k = ("XYZ".index(a) for a in order)
    sign = 1.0 if (j - i) % 3 == 1 else -1.0  # even permutation of x y z
    middle = np.arcsin(np.clip(sign * r[..., i, k], -1.0, 1.0))
    first = np.arctan2(-sign * r[..., j, k], r[..., k, k])
    last = np.arctan2(-sign * r[..., i, j], r[..., i, i])
    return np.stack([first, middle, last], axis=-1)


def local_rotations(m: mujoco.MjModel, body_quat: np.ndarray) -> np.ndarray:
    """(T, nbody, 4) world body quaternions -> each body's rotation relative to its parent (root: world)."""
    parents = m.body_parentid
    local = _quat_mul(_quat_conj(body_quat[:, parents]), body_quat)
    local[:, 0] = (1.0, 0.0, 0.0, 0.0)
    return local


def joint_angle_columns(motion: ExportMotion, body_quat: np.ndarray) -> dict[str, np.ndarray]:
    """Joint angles (degrees) per frame, MOT/CSV column name -> (T,) (module docstring)."""
    m = motion.model
    local = local_rotations(m, body_quat)
    out: dict[str, np.ndarray] = {}
    for j in range(1, m.njnt):
        name, b = m.joint(j).name, m.jnt_bodyid[j]
        if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE:
            out[name] = np.degrees(motion.qpos[:, m.jnt_qposadr[j]])
        elif m.jnt_type[j] == mujoco.mjtJoint.mjJNT_BALL:
            angles = np.degrees(euler_intrinsic(local[:, b], "XYZ"))
            for axis, column in zip("xyz", angles.T):
                out[f"{name}_{axis}"] = column
    return out


# --- BVH -----------------------------------------------------------------------------------------------

def _end_site(m: mujoco.MjModel, body: int) -> np.ndarray:
    sites = [s for s in range(m.nsite) if m.site_bodyid[s] == body]
    return m.site_pos[sites[0]].copy() if sites else 2.0 * m.body_ipos[body]


def write_bvh(motion: ExportMotion, path: Path) -> Path:
    """The motion as BVH through bvhio (module docstring)."""
    import bvhio  # noqa: PLC0415 - a dependency, imported where it is used
    try:  # PyGLM, bvhio's vector library (``pyglm`` from 2.8 on)
        from pyglm import glm  # noqa: PLC0415
    except ImportError:  # pragma: no cover - older PyGLM
        import glm  # noqa: PLC0415

    m = motion.model
    body_pos, body_quat, _ = motion.kinematics()
    local = local_rotations(m, body_quat)
    local[:, 1] = body_quat[:, 1]  # the root: its world rotation
    turned = _quat_mul(_quat_mul(_Q_Z_TO_Y_UP, local), _quat_conj(_Q_Z_TO_Y_UP))
    root_cm = body_pos[:, 1] @ Z_TO_Y_UP.T * BVH_CM_PER_M
    joints: dict[int, bvhio.BvhJoint] = {}
    for b in range(1, m.nbody):
        offset = np.zeros(3) if b == 1 else Z_TO_Y_UP @ m.body_pos[b] * BVH_CM_PER_M
        joint = bvhio.BvhJoint(m.body(b).name, glm.vec3(*offset))
        joint.Channels = ([f"{a}position" for a in "XYZ"] if b == 1 else []) + \
            [f"{a}rotation" for a in BVH_ROTATION_ORDER]
        if not any(m.body_parentid[c] == b for c in range(m.nbody)):
            joint.EndSite = glm.vec3(*(Z_TO_Y_UP @ _end_site(m, b) * BVH_CM_PER_M))
        pose_type = bvhio.Pose
        for k in range(motion.n_frames):
            position = glm.vec3(*root_cm[k]) if b == 1 else glm.vec3(*offset)
            joint.Keyframes.append(pose_type(position, glm.quat(*turned[k, b])))
        joints[b] = joint
        if b > 1:
            joints[m.body_parentid[b]].Children.append(joint)
    container = bvhio.BvhContainer(joints[1], motion.n_frames, 1.0 / motion.fps)
    return write_atomically(path, lambda tmp: bvhio.writeBvh(str(tmp), container, percision=6))


# --- OpenSim TRC and MOT -------------------------------------------------------------------------------

def write_trc(motion: ExportMotion, path: Path) -> Path:
    """Joint centres and end-effector sites as OpenSim markers (TRC, ``PathFileType 4``, metres, Y up)."""
    _, _, points = motion.kinematics()
    points = points @ Z_TO_Y_UP.T
    names = point_names()
    n, rate = motion.n_frames, f"{motion.fps:g}"
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             f"{rate}\t{rate}\t{n}\t{len(names)}\tm\t{rate}\t1\t{n}",
             "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
             "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(names) + 1)),
             ""]
    for k in range(n):
        values = "\t".join(f"{v:.6f}" for v in points[k].ravel())
        lines.append(f"{k + 1}\t{k / motion.fps:.6f}\t{values}")
    return _write_text(path, "\n".join(lines) + "\n")


def _kinetics_columns(motion: ExportMotion, to_frame: np.ndarray) -> dict[str, np.ndarray]:
    if motion.grf_n is None or motion.cop_m is None:
        return {}
    force, cop = motion.grf_n @ to_frame.T, motion.cop_m @ to_frame.T
    out = {}
    for f, side in enumerate(FEET):
        for a, axis in enumerate("xyz"):
            out[f"ground_force_{side}_v{axis}"] = force[:, f, a]
        for a, axis in enumerate("xyz"):
            out[f"ground_force_{side}_p{axis}"] = np.nan_to_num(cop[:, f, a], nan=0.0)
    return out


def mot_columns(motion: ExportMotion) -> dict[str, np.ndarray]:
    body_pos, body_quat, _ = motion.kinematics()
    pelvis = body_pos[:, 1] @ Z_TO_Y_UP.T
    turned = _quat_mul(_quat_mul(_Q_Z_TO_Y_UP, body_quat[:, 1]), _quat_conj(_Q_Z_TO_Y_UP))
    tilt, list_, rotation = np.degrees(euler_intrinsic(turned, "ZXY")).T
    columns = {"time": motion.times_s, "pelvis_tilt": tilt, "pelvis_list": list_, "pelvis_rotation": rotation,
               "pelvis_tx": pelvis[:, 0], "pelvis_ty": pelvis[:, 1], "pelvis_tz": pelvis[:, 2]}
    columns.update(joint_angle_columns(motion, body_quat))
    columns.update(_kinetics_columns(motion, Z_TO_Y_UP))
    return columns


def write_mot(motion: ExportMotion, path: Path) -> Path:
    """Coordinates (and ground reaction forces) as an OpenSim storage file (``.mot``)."""
    columns = mot_columns(motion)
    names = list(columns)
    table = np.column_stack([columns[c] for c in names])
    header = [path.stem, "version=1", f"nRows={len(table)}", f"nColumns={len(names)}", "inDegrees=yes"]
    header += [f"# {note}" for note in motion.notes]
    header += ["endheader", "\t".join(names)]
    rows = ["\t".join(f"{v:.6f}" for v in row) for row in table]
    return _write_text(path, "\n".join(header + rows) + "\n")


# --- CSV -----------------------------------------------------------------------------------------------

def write_csv(motion: ExportMotion, path: Path) -> Path:
    """Per frame: time, root position (m) and quaternion in sportsim's Z-up frame, joint angles (deg),
    kinetics (N, m; Z up) when present."""
    _, body_quat, _ = motion.kinematics()
    columns = {"time_s": motion.times_s}
    for a, axis in enumerate("xyz"):
        columns[f"root_{axis}_m"] = motion.qpos[:, a]
    for a, axis in enumerate("wxyz"):
        columns[f"root_q{axis}"] = motion.qpos[:, 3 + a]
    columns.update({f"{k}_deg": v for k, v in joint_angle_columns(motion, body_quat).items()})
    columns.update({(f"{k}_n" if "_v" in k else f"{k}_m"): v
                    for k, v in _kinetics_columns(motion, np.eye(3)).items()})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    table = np.column_stack(list(columns.values()))
    writer.writerows([[f"{v:.6g}" for v in row] for row in table])
    return _write_text(path, buffer.getvalue())


WRITERS = {".bvh": write_bvh, ".trc": write_trc, ".mot": write_mot, ".csv": write_csv}
