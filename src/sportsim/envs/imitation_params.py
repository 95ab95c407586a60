"""Numbers and reference motions of ``sportsim/Imitation-v0`` (:mod:`sportsim.envs.imitation`).

Constants carry their source (REFERENCES.md section C). The functions turn motion files into what the
env reads on every step - a :class:`ReferenceTrack`: the reference humanoid state at every control step
of the longest episode, looped clips already unrolled - so that ``step()`` only indexes arrays:

1. :func:`resolve_motion_path` finds the file (the working directory first, then the shipped ``mocap/``).
2. :func:`load_reference` reads it: a reference-motion ``.npz`` as it is; a capture file (BVH, MVNX,
   DeepMimic ``.txt``/``.json``, clip ``.npz``) trimmed (leading calibration frames dropped by default,
   :func:`calibration_frames`), retargeted onto the humanoid (:func:`sportsim.mocap.retarget.retarget`)
   and cached as a reference-motion ``.npz`` keyed by the file's SHA-256 and the retarget settings.
3. :func:`find_cycle` decides how the motion loops; :func:`build_track` resamples it to the control
   rate and unrolls it, carrying the root's heading and horizontal position forward across loops.

Conventions: Z up, metres, quaternions w-first (sportsim-wide).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim.errors import ConfigError, MocapError
from sportsim.fileio import sha256_file
from sportsim.mocap import Clip, find_capture, load_clip
from sportsim.mocap.retarget import METHOD_VERSION as RETARGET_METHOD_VERSION
from sportsim.mocap.retarget import ReferenceMotion, foot_lowest_m, is_reference_motion, resample, retarget
from sportsim.mocap.validate import SPIKE_SPEED_MPS

# -- DeepMimic reward definitions [R28: humanoid3d character DiffWeight; R29: humanoid_stable_pd.getReward] --
# Per-joint weights of the pose and velocity errors (the root's weight applies to the root rotation and
# angular velocity), normalised to sum 1 over DeepMimic's 15 joints by joint_diff_weights (the fixed wrists weigh 0;
# the sum is 1 + 0.5 + 0.3 + 2 x (0.5 + 0.3 + 0.2 + 0.3 + 0.2) = 4.8).
JOINT_DIFF_WEIGHT = {"pelvis": 1.0, "chest": 0.5, "neck": 0.3, "hip": 0.5, "knee": 0.3, "ankle": 0.2,
                     "shoulder": 0.3, "elbow": 0.2}
# root error = position^2 + 0.1 rotation^2 + 0.01 velocity^2 + 0.001 angular velocity^2 [R28, R29]
ROOT_ERROR_WEIGHTS = (1.0, 0.1, 0.01, 0.001)
COM_ERROR_WEIGHT = 0.1  # CoM error = 0.1 |CoM velocity difference|^2 [R28, R29]


def joint_diff_weights(ankle: float | None = None) -> dict[str, float]:
    """Each joint's share of the pose and velocity errors by joint kind (pelvis, chest, ..., ankle), normalised
    so that DeepMimic's 15 joints sum to 1 (the pelvis, chest and neck once, the limb joints twice): DeepMimic's
    :data:`JOINT_DIFF_WEIGHT`, or with the ankles' weight ``ankle`` instead of 0.2 (Imitation-v9: 1.0).
    With DeepMimic's weights the ankles are 8 % of the pose error: a 13 deg miss of the pushing-off ankle costs
    0.4 % of the pose term (v9: 1.6 %), too little to make a policy plantarflex at push-off."""
    raw = dict(JOINT_DIFF_WEIGHT)
    if ankle is not None:
        if isinstance(ankle, bool) or not (isinstance(ankle, (int, float)) and 0.0 <= ankle < math.inf):
            raise ConfigError(f"ankle_diff_weight must be a number >= 0 or null, got {ankle!r}")
        raw["ankle"] = float(ankle)
    total = raw["pelvis"] + raw["chest"] + raw["neck"] + 2 * sum(
        raw[k] for k in ("hip", "knee", "ankle", "shoulder", "elbow"))
    return {k: v / total for k, v in raw.items()}


# DeepMimic's end effectors are the wrists and ankles [R28]; here the hand sites (wrist centres) and the
# foot sites (on the sole, below the middle of the foot), which also carry the foot's orientation.
END_EFFECTORS = ("right_hand", "left_hand", "right_foot", "left_foot")
# Every body but the feet ends the episode when it touches the floor [R28: fall_contact_bodies].
FOOT_BODIES = ("right_ankle", "left_ankle")
# Bodies described in the observation: every body of the humanoid (the wrists are rigid hands).
OBS_BODIES = ("pelvis", "chest", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
              "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
              "left_ankle")
# Points of the tracking metrics: the 13 joint centres (pelvis = mid-hip point) and 5 end-effector sites.
METRIC_POINTS = humanoid.JOINT_NAMES + humanoid.END_EFFECTOR_NAMES

# -- skills (task=<skill>) -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Skill:
    """A skill's reference clip and how it is played: ``motion`` (a file as :func:`resolve_motion_path`
    finds it; ``deepmimic:<name>`` names a DeepMimic humanoid3d motion shipped with pybullet), the source
    frames ``[start_frame, end_frame)`` (None: calibration frames dropped / to the end), ``loop``, the
    stands (s) before and after a clip played once, and the bodies that may touch the floor without it
    counting as a fall (the feet; a cartwheel's hands too). ``source`` says where the clip comes from."""

    motion: str | tuple[str, ...]  # a tuple: several clips, one policy (sportsim.envs.imitation_clips)
    loop: bool | str
    start_frame: int | None = None
    end_frame: int | None = None
    stand_before_s: float = 0.0
    stand_after_s: float = 0.0
    source: str = ""
    support_bodies: tuple[str, ...] = ("right_ankle", "left_ankle")  # may touch the floor (no fall)


# The skills ``task=<skill>`` selects (the env's ``motion``, ``loop`` and stands left at None take the
# skill's). Frame windows were read from the clips' root height (scripts/imitation_skill_clips.py prints
# each clip's retargeting figures and a zero-action check on Imitation-v1). A saved run config with
# ``task: <skill>`` and ``motion: null`` means what this table says, as HighBar's tasks mean what its code
# says: change a skill's clip or settings under a new name (or a new env version), never in place.
SKILLS = {
    "walk": Skill("mocap/cmu_02_01_walk.bvh", "auto",
                  source="CMU subject 02 trial 01 (shipped); one gait cycle, looped"),
    "jump": Skill("mocap/cmu_01_01_forward_jumps.bvh", False, 60, 336, 0.5, 1.0,
                  source="CMU subject 01 trial 01 (shipped), its first two-feet forward jump: 0.5-2.8 s "
                         "(stand, counter-movement, flight, landing, stand); frames 108-336 retarget with "
                         "a foot 8 cm in the floor at the bottom of the counter-movement, these with none"),
    "run": Skill("deepmimic:run", "auto", source="DeepMimic humanoid3d_run (pybullet_data); one cycle, looped"),
    "cartwheel": Skill("deepmimic:cartwheel", False, stand_before_s=0.5, stand_after_s=1.0,
                       source="DeepMimic humanoid3d_cartwheel (pybullet_data), played once; the hands support "
                              "the body, so they may touch the floor",
                       support_bodies=("right_ankle", "left_ankle", "right_wrist", "left_wrist")),
    "kick": Skill("deepmimic:spinkick", False, stand_before_s=0.5, stand_after_s=1.0,
                  source="DeepMimic humanoid3d_spinkick (pybullet_data), played once"),
    "walk_run": Skill(("mocap/cmu_02_01_walk.bvh", "deepmimic:run"), "auto",
                      source="the walk and the run above, one policy for both (issue 20: multi-clip)"),
    "backflip": Skill("deepmimic:backflip", False, stand_before_s=0.5, stand_after_s=1.0,
                      source="DeepMimic humanoid3d_backflip (pybullet_data), played once"),
}
DEFAULT_SKILL = "walk"  # the motion when neither ``motion`` nor ``task`` is given


def skill(task: str | None) -> Skill | None:
    """The skill named ``task`` (None for None); an unknown name is a ConfigError listing the skills."""
    if task is None:
        return None
    if task not in SKILLS:
        raise ConfigError(f"unknown task {task!r} for Imitation (choose from: {', '.join(SKILLS)})")
    return SKILLS[task]


# -- motion preparation ------------------------------------------------------------------------------
CALIBRATION_WINDOW_S = 0.5  # leading calibration frames are looked for in the first 0.5 s
MIN_CYCLE_S = 0.5  # shortest cycle find_cycle accepts (a standing pose matches itself after any time)
STAND_CONTACT_M = 0.01  # a stand's held pose rests on each foot whose sole is within 1 cm of the floor
CYCLE_TOLERANCE_DEG = 8.0  # loop="auto": largest mismatch (pose_distance_deg) at a loop's seam
CYCLE_VELOCITY_HORIZON_S = 0.1  # velocity differences count as the angle they turn in this time
CACHE_FORMAT = 2  # bump when the cached motion would change for the same file and settings


def resolve_motion_path(entry: str | os.PathLike[str]) -> Path:
    """A motion file, found as :func:`sportsim.mocap.find_capture` finds it (``mocap/<clip>`` works anywhere);
    ``deepmimic:<name>`` is a DeepMimic humanoid3d motion that pybullet ships (:func:`deepmimic_motion_path`)."""
    try:
        return find_capture(entry).resolve()
    except MocapError as exc:
        if isinstance(entry, str) and entry.startswith(DEEPMIMIC_PREFIX):
            return deepmimic_motion_path(entry[len(DEEPMIMIC_PREFIX):])
        raise ConfigError(f"motion {exc}") from None


DEEPMIMIC_PREFIX = "deepmimic:"


def deepmimic_motion_path(name: str) -> Path:
    """``pybullet_data/data/motions/humanoid3d_<name>.txt`` (``name`` with or without the prefix and the
    suffix): DeepMimic's motions as the pybullet package ships them (the pybullet extra)."""
    try:
        import pybullet_data  # noqa: PLC0415 - optional (the pybullet extra)
    except ImportError:
        raise ConfigError(f"motion deepmimic:{name} needs the DeepMimic motions that pybullet ships: "
                          f"pip install 'sportsim[pybullet]'") from None
    folder = Path(pybullet_data.getDataPath()) / "data" / "motions"
    stem = name.removesuffix(".txt")
    path = folder / (stem if stem.startswith("humanoid3d_") else f"humanoid3d_{stem}")
    path = path.with_suffix(".txt")
    if not path.is_file():
        have = sorted(p.stem.removeprefix("humanoid3d_") for p in folder.glob("humanoid3d_*.txt"))
        raise ConfigError(f"motion deepmimic:{name}: no such DeepMimic motion (pybullet ships: {', '.join(have)})")
    return path.resolve()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/sportsim/motions``, or ``~/.cache/sportsim/motions``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sportsim" / "motions"


def calibration_frames(clip: Clip) -> int:
    """Leading frames to drop: up to the last velocity spike (a joint faster than the validator's 15 m/s
    between two frames, :mod:`sportsim.mocap.validate`) within the first 0.5 s. CMU's cgspeed BVH files
    start with one T-pose calibration frame, which this finds; a clean clip gives 0."""
    window = min(clip.n_frames - 1, max(1, int(round(CALIBRATION_WINDOW_S * clip.fps))))
    if window < 1:
        return 0
    points = clip.world_positions()[: window + 1]
    speed = np.linalg.norm(np.diff(points, axis=0), axis=-1).max(axis=1) * clip.fps  # (window,)
    spikes = np.flatnonzero(speed > SPIKE_SPEED_MPS)
    return int(spikes[-1]) + 1 if len(spikes) else 0


def _trim(clip: Clip, start: int, end: int | None, source: Path) -> Clip:
    end = clip.n_frames if end is None else end
    if not 0 <= start < end - 1 < clip.n_frames:
        raise ConfigError(f"motion {source}: motion_start_frame {start} / motion_end_frame {end}: need "
                          f"0 <= start < end - 1 < {clip.n_frames} (the clip has {clip.n_frames} frames)")
    return clip.frames(start, end)


def load_reference(path: Path, *, height_m: float | None, mass_kg: float | None, sex: str,
                   start_frame: int | None, end_frame: int | None, cache_dir: Path | None,
                   body: str = "deepmimic", mapping: str | os.PathLike[str] | None = None,
                   smooth_root: bool = False, root_lowpass_hz: float | None = None) -> ReferenceMotion:
    """The reference motion in ``path`` (from :func:`resolve_motion_path`) at its source frame rate.

    A reference-motion ``.npz`` is read as it is (its humanoid must then be ``height_m`` tall, when
    given, and it cannot be trimmed). Any other file is read with :func:`sportsim.mocap.load_clip`,
    trimmed to ``[start_frame, end_frame)`` (``start_frame=None``: :func:`calibration_frames`) and
    retargeted at ``height_m`` / ``mass_kg`` (None: the performer's stature and the reference body-mass
    index). With ``cache_dir`` the retargeted motion is stored there as ``<stem>-<file hash>-<settings
    hash>.npz`` (written atomically, read with ``allow_pickle=False``) and read back next time; a cache
    that cannot be written only costs the retargeting again (a warning says why). ``body="human"``
    (Imitation-v1) retargets with planted feet and anatomical ranges; ``"deepmimic"`` (v0) without.
    ``mapping``: a skeleton-mapping YAML (``python -m sportsim.mocap map``) for a capture whose skeleton
    sportsim does not place, read as every mocap command reads ``--mapping`` (``load_clip(mapping=)``);
    its contents key the cache too. ``smooth_root`` (Imitation-v3, human body only): retarget with
    :func:`sportsim.mocap.retarget.retarget`'s ``smooth_root`` (no jolts in the root's height); it keys the
    cache where it is on. ``root_lowpass_hz`` (Imitation-v4): the root height low-pass filtered at that
    cut-off before the feet are placed (``retarget(root_lowpass_hz=)``); it keys the cache where set.
    """
    if mapping is not None:
        mapping = Path(os.path.expanduser(str(mapping)))
        if not mapping.is_file():
            raise ConfigError(f"motion mapping {mapping}: no such file")
    if path.suffix.lower() == ".npz" and is_reference_motion(path):
        if mapping is not None:
            raise ConfigError(f"motion {path}: a reference-motion .npz is already on the humanoid; it takes no "
                              f"skeleton mapping (motion_mapping {mapping})")
        motion = ReferenceMotion.load_npz(path)
        if start_frame not in (None, 0) or end_frame is not None:
            raise ConfigError(f"motion {path}: a reference-motion .npz cannot be trimmed "
                              f"(motion_start_frame / motion_end_frame); trim the capture file instead")
        if height_m is not None and abs(motion.height_m - height_m) > 1e-3:
            raise ConfigError(f"motion {path} was retargeted for a {motion.height_m:.3f} m humanoid, the env's is "
                              f"{height_m:.3f} m; convert the capture again with --height {height_m:.3f}")
        return motion
    cached = None
    if cache_dir is not None:
        import sportsim  # the package version keys the cache

        settings = {"cache_format": CACHE_FORMAT, "sportsim": sportsim.__version__, "height_m": height_m,
                    "mass_kg": mass_kg, "sex": sex, "start_frame": start_frame, "end_frame": end_frame}
        settings["body"], settings["retarget"] = body, RETARGET_METHOD_VERSION
        if smooth_root:  # absent otherwise: caches of the earlier versions stay valid
            settings["smooth_root"] = True
        if root_lowpass_hz is not None:
            settings["root_lowpass_hz"] = float(root_lowpass_hz)
        if mapping is not None:  # absent otherwise: caches written before mappings were possible stay valid
            settings["mapping"] = sha256_file(mapping)
        settings_hash = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        cached = cache_dir / f"{path.stem}-{sha256_file(path)[:16]}-{settings_hash}.npz"
        if cached.is_file():
            try:
                return ReferenceMotion.load_npz(cached)
            except MocapError:
                pass  # unreadable cache entry: retarget again and replace it
    clip = load_clip(path, mapping=mapping)
    start = calibration_frames(clip) if start_frame is None else int(start_frame)
    clip = _trim(clip, start, end_frame, path)
    human = body == "human"
    motion = retarget(clip, height_m=height_m, mass_kg=mass_kg, sex=sex,  # type: ignore[arg-type]
                      plant_feet=human, anatomical_ranges=human, smooth_root=human and smooth_root,
                      root_lowpass_hz=root_lowpass_hz if human else None)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            motion.save_npz(cached, overwrite=True)
        except (OSError, MocapError) as exc:
            warnings.warn(f"sportsim: could not cache the retargeted motion in {cached.parent}: {exc}", stacklevel=2)
    return motion


# -- loops ---------------------------------------------------------------------------------------------
def _ball_and_hinge_addresses(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """qpos addresses of the ball joints (quaternion starts) and of the hinges."""
    J = mujoco.mjtJoint
    balls = [model.jnt_qposadr[j] for j in range(model.njnt) if model.jnt_type[j] == J.mjJNT_BALL]
    hinges = [model.jnt_qposadr[j] for j in range(model.njnt) if model.jnt_type[j] == J.mjJNT_HINGE]
    return np.asarray(balls), np.asarray(hinges)


def yaw_rad(root_quat: np.ndarray) -> np.ndarray:
    """Heading: the angle of the pelvis's forward (x) axis projected on the floor, from world +x."""
    w, x, y, z = np.moveaxis(np.asarray(root_quat, dtype=float), -1, 0)
    return np.arctan2(2.0 * (x * y + w * z), 1.0 - 2.0 * (y * y + z * z))


def _yaw_quat(angle_rad: np.ndarray) -> np.ndarray:
    half = 0.5 * np.asarray(angle_rad, dtype=float)
    zeros = np.zeros_like(half)
    return np.stack([np.cos(half), zeros, zeros, np.sin(half)], axis=-1)


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def _features(motion: ReferenceMotion, model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: ball + root-tilt quaternions (T, 9, 4), hinge angles (T, 4), heading-frame velocities (T, 34)."""
    balls, hinges = _ball_and_hinge_addresses(model)
    q, v = motion.qpos, motion.qvel
    tilt = _quat_mul(_yaw_quat(-yaw_rad(q[:, 3:7])), q[:, 3:7])  # the root orientation without its heading
    quats = np.concatenate([q[:, balls[:, None] + np.arange(4)], tilt[:, None]], axis=1)
    yaw = yaw_rad(q[:, 3:7])
    c, s = np.cos(yaw), np.sin(yaw)
    vel = v.copy()
    vel[:, 0], vel[:, 1] = c * v[:, 0] + s * v[:, 1], -s * v[:, 0] + c * v[:, 1]  # root velocity, heading frame
    return quats, q[:, hinges], vel


def pose_distance_deg(motion: ReferenceMotion, model: mujoco.MjModel, rows: np.ndarray | None = None) -> np.ndarray:
    """Mismatch between frames, ``(len(rows), T)`` degrees: the mean over the 12 joints and the root's
    tilt of the rotation angle between the two frames' poses, plus the mean absolute difference of the
    velocities (joint rates, root angular and heading-frame linear velocity) times 0.1 s, as an angle.
    Heading and horizontal position do not count (a loop carries them forward)."""
    quats, hinge, vel = _features(motion, model)
    rows = np.arange(motion.n_frames) if rows is None else np.asarray(rows)
    n_angles = quats.shape[1] + hinge.shape[1]
    dots = np.abs(np.einsum("ajq,bjq->abj", quats[rows], quats))  # (R, T, 9)
    angles = 2.0 * np.arccos(np.clip(dots, 0.0, 1.0)).sum(axis=-1)
    angles += np.abs(hinge[rows][:, None, :] - hinge[None, :, :]).sum(axis=-1)
    speed = np.abs(vel[rows][:, None, :] - vel[None, :, :]).mean(axis=-1) * CYCLE_VELOCITY_HORIZON_S
    return np.degrees(angles / n_angles + speed)


def find_cycle(motion: ReferenceMotion, model: mujoco.MjModel, tolerance_deg: float = CYCLE_TOLERANCE_DEG,
               min_cycle_s: float = MIN_CYCLE_S) -> tuple[int, int, float] | None:
    """How ``motion`` loops: ``(first, end, mismatch_deg)`` with frame ``end`` matching frame ``first``
    (:func:`pose_distance_deg`), or None. The whole clip when its last frame matches its first within
    ``tolerance_deg``; otherwise the best-matching pair at least ``min_cycle_s`` apart (a walk: a gait
    cycle), if it is within ``tolerance_deg``."""
    last = motion.n_frames - 1
    min_frames = max(1, int(math.ceil(min_cycle_s * motion.fps)))
    if last < min_frames:
        return None
    whole = float(pose_distance_deg(motion, model, np.array([0]))[0, last])
    if whole <= tolerance_deg:
        return 0, last, whole
    best = (math.inf, 0, 0)
    for start in range(0, motion.n_frames, 256):  # blocks of rows: bounded memory on long clips
        rows = np.arange(start, min(start + 256, motion.n_frames))
        dist = pose_distance_deg(motion, model, rows)
        dist[np.arange(motion.n_frames)[None, :] < rows[:, None] + min_frames] = np.inf
        r, c = np.unravel_index(int(np.argmin(dist)), dist.shape)
        if dist[r, c] < best[0]:
            best = (float(dist[r, c]), int(rows[r]), int(c))
    return (best[1], best[2], best[0]) if best[0] <= tolerance_deg else None


# -- the track the env reads ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ReferenceTrack:
    """One motion at the control rate, unrolled over the longest episode (arrays indexed by step k).

    Fields: ``name`` (file name), ``cyclic``, ``period`` (cyclic: steps per cycle; otherwise the last
    step), ``starts`` (the number of start steps: phases 0 .. starts-1 of the cycle / clip), ``qpos``
    ``(K, 43)`` and ``qvel`` ``(K, 34)`` in the humanoid's layout, ``joint_coords`` ``(K, 28)`` (per
    actuated dof: rotation-vector components of each ball joint, hinge angles; rad), ``points_m``
    ``(K, 18, 3)`` (:data:`METRIC_POINTS`), ``end_effectors_m`` ``(K, 4, 3)`` (:data:`END_EFFECTORS`
    relative to the root in the heading frame, height above the floor), ``root_omega_world``
    ``(K, 3)``, ``com_velocity`` ``(K, 3)``, ``foot_contacts`` ``(K, 2)`` (the reference's stance flags
    of the right and left foot, bool; the stands hold the first / last frame's), ``travel_dir`` (unit
    horizontal vector of the mean travel, else the first heading) and ``notes`` (how the track was made).
    """

    name: str
    cyclic: bool
    period: int
    starts: int
    qpos: np.ndarray
    qvel: np.ndarray
    joint_coords: np.ndarray
    points_m: np.ndarray
    end_effectors_m: np.ndarray
    root_omega_world: np.ndarray
    com_velocity: np.ndarray
    foot_contacts: np.ndarray
    travel_dir: np.ndarray
    notes: str

    def phase(self, k: int) -> float:
        """Fraction of the cycle (cyclic) or clip done at step k."""
        return (k % self.period) / self.period if self.cyclic else min(k / self.period, 1.0)


def rotation_vectors(quats: np.ndarray) -> np.ndarray:
    """Rotation vectors ``(..., 3)`` (axis x angle, angle in [0, pi]) of w-first quaternions ``(..., 4)``,
    as MuJoCo measures a ball joint's actuator length (``mju_quat2Vel``)."""
    q = np.where(quats[..., :1] < 0.0, -quats, quats)
    sin_half = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sin_half, q[..., :1])
    factor = np.where(sin_half > 1e-12, angle / np.maximum(sin_half, 1e-300), 2.0)
    return q[..., 1:] * factor


def build_track(motion: ReferenceMotion, model: mujoco.MjModel, name: str, control_hz: float, loop: bool | str,
                episode_steps: int, stand_before_steps: int = 0, stand_after_steps: int = 0) -> ReferenceTrack:
    """Resample ``motion`` to ``control_hz``, decide the loop (``loop``: True = the whole clip,
    False = play once, "auto" = :func:`find_cycle`), unroll it over ``episode_steps`` from any start and
    compute everything the env compares against (forward kinematics on ``model``).

    A clip played once can be framed by stands (:func:`with_stands`): its first pose held still for
    ``stand_before_steps`` control steps before it and its last pose for ``stand_after_steps`` after it,
    so that a skill starts and ends standing; a looping clip has neither (the notes say so)."""
    low = resample(motion, control_hz)
    if low.n_frames < 3:
        raise ConfigError(f"motion {name}: {motion.duration_s:.2f} s is too short for a {control_hz:g} Hz policy "
                          f"(at least 3 control steps)")
    if loop is True:
        cycle, notes = (0, low.n_frames - 1, math.nan), "looped as a whole (loop=True)"
    elif loop == "auto" and motion.meta.get("source_loop") == "wrap":
        seam = float(pose_distance_deg(low, model, np.array([0]))[0, low.n_frames - 1])
        cycle = (0, low.n_frames - 1, seam)
        notes = f'looped as a whole: the file declares "Loop": "wrap" (seam mismatch {seam:.1f} deg; loop=auto)'
    elif loop == "auto":
        cycle = find_cycle(low, model)
        if cycle is None:
            notes = f"played once: no loop within {CYCLE_TOLERANCE_DEG:g} deg (loop=auto)"
        elif (cycle[0], cycle[1]) == (0, low.n_frames - 1):
            notes = f"looped as a whole: its ends match within {cycle[2]:.1f} deg (loop=auto)"
        else:
            notes = (f"looped over the cycle {cycle[0] / control_hz:.2f}-{cycle[1] / control_hz:.2f} s "
                     f"(seam mismatch {cycle[2]:.1f} deg; loop=auto)")
    else:
        cycle, notes = None, "played once (loop=False)"

    if cycle is None:
        qpos, qvel = with_stands(low.qpos, low.qvel, stand_before_steps, stand_after_steps)
        frames = np.concatenate([np.zeros(stand_before_steps, int), np.arange(low.n_frames),
                                 np.full(stand_after_steps, low.n_frames - 1)])
        cyclic, period, starts = False, len(qpos) - 1, len(qpos) - 1
        if stand_before_steps or stand_after_steps:
            notes += (f"; first pose held {stand_before_steps / control_hz:.2f} s before it, last pose "
                      f"{stand_after_steps / control_hz:.2f} s after it")
    else:
        if stand_before_steps or stand_after_steps:
            notes += "; no stands (stand_before_s / stand_after_s apply to clips played once)"
        first, end, _ = cycle
        period = end - first
        notes += _turn_note(low.qpos, first, end, control_hz)
        qpos, qvel = _unroll(low, first, end, period + episode_steps + 1)
        frames = first + np.arange(len(qpos)) % period
        cyclic, starts = True, period
    points, ee, omega, com_vel = _kinematics(model, qpos, qvel)
    contacts = low.foot_contacts[frames]
    if cycle is None and (stand_before_steps or stand_after_steps):
        # a held pose stands on the feet it rests on: the clip's end-frame flags come from the source's
        # motion (a foot still moving at the last frame is not flagged), the stand is still
        for rows, k in ((slice(0, stand_before_steps), 0), (slice(len(qpos) - stand_after_steps, None), -1)):
            contacts[rows] = foot_lowest_m(model, qpos[k][None])[0] <= STAND_CONTACT_M
    balls, hinges = _ball_and_hinge_addresses(model)
    coords = np.empty((len(qpos), model.nu))
    dof = 0
    for j in range(1, model.njnt):  # actuator order = joint order (ball x, y, z; hinge)
        adr = model.jnt_qposadr[j]
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_BALL:
            coords[:, dof:dof + 3] = rotation_vectors(qpos[:, adr:adr + 4])
            dof += 3
        else:
            coords[:, dof] = qpos[:, adr]
            dof += 1
    shift = qpos[min(len(qpos) - 1, period), :2] - qpos[0, :2]
    if np.linalg.norm(shift) > 0.2:
        travel = shift / np.linalg.norm(shift)
    else:
        yaw = float(yaw_rad(qpos[0, 3:7]))
        travel = np.array([math.cos(yaw), math.sin(yaw)])
    return ReferenceTrack(name=name, cyclic=cyclic, period=period, starts=starts, qpos=_frozen(qpos),
                          qvel=_frozen(qvel), joint_coords=_frozen(coords), points_m=_frozen(points),
                          end_effectors_m=_frozen(ee), root_omega_world=_frozen(omega),
                          com_velocity=_frozen(com_vel), foot_contacts=_frozen_bool(contacts),
                          travel_dir=_frozen(travel), notes=notes)


def with_stands(qpos: np.ndarray, qvel: np.ndarray, before: int, after: int) -> tuple[np.ndarray, np.ndarray]:
    """``qpos`` / ``qvel`` (K, n) with the first pose repeated ``before`` times in front and the last pose
    ``after`` times behind, at rest (zero velocity): K + before + after frames."""
    if before < 0 or after < 0:
        raise ValueError(f"stand lengths must be >= 0, got {before} and {after}")
    rest = np.zeros_like(qvel[:1])
    q = np.concatenate([np.repeat(qpos[:1], before, axis=0), qpos, np.repeat(qpos[-1:], after, axis=0)])
    v = np.concatenate([np.repeat(rest, before, axis=0), qvel, np.repeat(rest, after, axis=0)])
    return q, v


LOOP_TURN_NOTE_DEG = 5.0  # a looped cycle whose heading turns more than this gets a note: its path curves


def _cycle_turn_rad(qpos: np.ndarray, first: int, end: int) -> float:
    """The heading turn (rad, in [-pi, pi]) from frame ``first`` to frame ``end``: what each loop adds."""
    return math.remainder(float(yaw_rad(qpos[end, 3:7]) - yaw_rad(qpos[first, 3:7])), 2.0 * math.pi)


def _turn_note(qpos: np.ndarray, first: int, end: int, control_hz: float) -> str:
    """A note where the cycle ``first .. end`` turns the heading by more than :data:`LOOP_TURN_NOTE_DEG`:
    looping carries the turn on (:func:`_unroll`), so the path is a circle - the SFU walk 0005_Walking001's
    cycle turns 38 deg and its 10 s walk goes once round a circle of 1.5 m radius. Empty otherwise."""
    turn = _cycle_turn_rad(qpos, first, end)
    if abs(math.degrees(turn)) <= LOOP_TURN_NOTE_DEG:
        return ""
    chord = float(np.linalg.norm(qpos[end, :2] - qpos[first, :2]))
    radius = chord / (2.0 * abs(math.sin(turn / 2.0)))
    lap_s = 2.0 * math.pi / abs(turn) * (end - first) / control_hz
    side = "left" if turn > 0 else "right"
    return (f"; the cycle turns {abs(math.degrees(turn)):.0f} deg to the {side}: looped, the path is a circle of "
            f"{radius:.1f} m radius, once round in {lap_s:.1f} s (trim the clip to a straight stretch for a straight path)")


def _unroll(motion: ReferenceMotion, first: int, end: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``first .. end-1`` repeated to ``n_frames``; loop c is moved by c times the planar motion
    (heading turn + horizontal shift) from frame ``first`` to frame ``end``, so the root carries on."""
    period = end - first
    q, v = motion.qpos, motion.qvel
    turn = _cycle_turn_rad(q, first, end)
    c, s = math.cos(turn), math.sin(turn)
    rot = np.array([[c, -s], [s, c]])
    step_shift = q[end, :2] - rot @ q[first, :2]  # D(x) = rot x + step_shift maps frame first onto frame end
    k = np.arange(n_frames)
    loops, frame = k // period, first + k % period
    qpos, qvel = q[frame].copy(), v[frame].copy()
    r_c, t_c = np.eye(2), np.zeros(2)
    for loop in range(int(loops[-1]) + 1):
        rows = loops == loop
        if loop:
            qpos[rows, :2] = qpos[rows, :2] @ r_c.T + t_c
            qpos[rows, 3:7] = _quat_mul(_yaw_quat(np.full(int(rows.sum()), loop * turn)), qpos[rows, 3:7])
            qvel[rows, :2] = qvel[rows, :2] @ r_c.T  # world-frame root velocity; angular velocity is local
        r_c, t_c = rot @ r_c, rot @ t_c + step_shift
    return qpos, qvel


def _kinematics(model: mujoco.MjModel, qpos: np.ndarray, qvel: np.ndarray):
    """Per frame: metric points (K, 18, 3), end effectors in the heading frame (K, 4, 3), world root
    angular velocity (K, 3) and CoM velocity (K, 3)."""
    data = mujoco.MjData(model)
    pelvis = model.body("pelvis").id
    joints = np.array([model.joint(n).id for n in humanoid.JOINT_NAMES[1:]])
    sites = np.array([model.site(n).id for n in humanoid.END_EFFECTOR_NAMES])
    ee_sites = np.array([model.site(n).id for n in END_EFFECTORS])
    n = len(qpos)
    points, ee = np.empty((n, len(METRIC_POINTS), 3)), np.empty((n, len(END_EFFECTORS), 3))
    omega, com_vel = np.empty((n, 3)), np.empty((n, 3))
    for k in range(n):
        data.qpos[:], data.qvel[:] = qpos[k], qvel[k]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        mujoco.mj_comVel(model, data)
        mujoco.mj_subtreeVel(model, data)
        points[k, 0] = data.xpos[pelvis]
        points[k, 1:len(joints) + 1] = data.xanchor[joints]
        points[k, len(joints) + 1:] = data.site_xpos[sites]
        ee[k] = heading_frame_offsets(data.xmat[pelvis], data.xpos[pelvis], data.site_xpos[ee_sites])
        omega[k] = data.xmat[pelvis].reshape(3, 3) @ qvel[k, 3:6]
        com_vel[k] = data.subtree_linvel[pelvis]
    return points, ee, omega, com_vel


def heading_frame_offsets(root_xmat: np.ndarray, root_pos: np.ndarray, points: np.ndarray) -> np.ndarray:
    """DeepMimic's end-effector coordinates [R28]: horizontal offsets from the root turned into the
    root's heading frame, and the height above the (flat) floor."""
    c, s = root_xmat[0], root_xmat[3]  # forward axis projected on the floor (unnormalised)
    norm = math.hypot(c, s) or 1.0
    c, s = c / norm, s / norm
    d = points - root_pos
    out = np.empty_like(d)
    out[:, 0] = c * d[:, 0] + s * d[:, 1]
    out[:, 1] = -s * d[:, 0] + c * d[:, 1]
    out[:, 2] = points[:, 2]
    return out


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def _frozen_bool(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=bool)
    array.flags.writeable = False
    return array
