"""The sportsim humanoid: DeepMimic's humanoid3d joint tree [R28] with de Leva (1996) segments [R27],
scaled to any athlete. Shared by the motion-capture retargeting and the imitation env.

Conventions (sportsim-wide): Z up, metres, x forward, y left, quaternions w-first (w, x, y, z).

* Zero pose (all joint angles 0, identity ball quaternions) = standing upright, arms hanging along the
  body with the palms facing the thighs, feet flat and parallel under the hips. Every body frame is
  then parallel to the world frame (no body ``quat`` in the model).
* Ball joints: the qpos quaternion is the rotation of the child body relative to its parent, in the
  parent's frame: ``q_child_world = q_parent_world * q_local``. Ball qvel and motor torques are in the
  child's (local) frame.
* Hinges: positive = flexion. Knees turn about +y (the shank swings back), elbows about -y (the
  forearm swings forward).
* Root (``pelvis``, free joint): position of the mid-hip point (between the hip joint centres) and the
  pelvis orientation, in the world.

``envs/humanoid.xml`` is the reference male (1.741 m, 73 kg) written from this module's numbers by
``scripts/humanoid/write_humanoid_xml.py``; its
header documents the sources. :func:`build_humanoid_spec` loads it and resizes every body, geom, site
and actuator for another subject; ``tests/test_humanoid_model.py`` checks that the reference subject
reproduces the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import mujoco
import numpy as np

from sportsim.anthropometry import ANKLE_HEIGHT_FRACTION, REFERENCE_STATURE_M, Segment, Sex, segments
from sportsim.paths import model_path

REFERENCE_HEIGHT_M = 1.741  # de Leva reference male [R27]
REFERENCE_MASS_KG = 73.0
DEEPMIMIC_MASS_KG = 45.0  # total mass of DeepMimic's humanoid3d (REFERENCES C1)

# de Leva's trunk subsegments [R27: Table 4 as transcribed in deleva.m and BMClab BSP_ZdeLeva.txt]:
# (length_m, mass %, CoM % from the first endpoint, r_sag %, r_trans %, r_long %). Per sex the three
# lengths and masses sum to the trunk (SUPR-MIDH) row. Pelvis = lower trunk, chest = upper + middle.
_SUBTRUNK = {
    "male": {"upper": (0.1707, 15.96, 29.99, 71.6, 45.4, 65.9),  # SUPR-XYPH
             "middle": (0.2155, 16.33, 45.02, 48.2, 38.3, 46.8),  # XYPH-OMPH
             "lower": (0.1457, 11.17, 61.15, 61.5, 55.1, 58.7)},  # OMPH-MIDH
    "female": {"upper": (0.1425, 15.45, 20.77, 74.6, 50.2, 71.8),
               "middle": (0.2053, 14.65, 45.12, 43.3, 35.4, 41.5),
               "lower": (0.1815, 12.47, 49.20, 43.3, 40.2, 44.4)},
}
# Widths de Leva does not give, from DeepMimic's humanoid3d [R28] (its thigh, 0.4215 m, is the reference
# male's): hip centres +-0.0849 m from the mid-hip, shoulder centres 0.1831 m lateral and 0.024 m
# behind the chest line, foot box 0.09 m wide with the heel 0.0435 m behind the ankle of a 0.177 m foot.
# They scale with stature.
HIP_HALF_WIDTH_M = 0.0849
SHOULDER_HALF_WIDTH_M = 0.1831
SHOULDER_BACK_M = 0.024
FOOT_WIDTH_M = 0.09
HEEL_FRACTION = 0.0435 / 0.177  # heel-to-ankle distance / foot length

# DeepMimic humanoid3d PD gains and torque limits for its 45 kg character [R28, R29]:
# joint kind: (Kp N m/rad, Kd N m s/rad, torque limit N m). See pd_gains() for the scaling.
DEEPMIMIC_PD = {"chest": (1000.0, 100.0, 200.0), "neck": (100.0, 10.0, 50.0), "hip": (500.0, 50.0, 200.0),
                "knee": (500.0, 50.0, 150.0), "ankle": (400.0, 40.0, 90.0),
                "shoulder": (400.0, 40.0, 100.0), "elbow": (300.0, 30.0, 60.0)}

JointType = Literal["free", "ball", "hinge"]


@dataclass(frozen=True)
class Joint:
    """One joint of the kinematic tree; its body has the same name. ``offset_m``: zero-pose position of
    the joint centre relative to the parent joint's (root: the point on the floor below it), reference
    male. ``axis``: hinge axis in the parent frame (None otherwise)."""

    name: str
    parent: str | None
    type: JointType
    axis: tuple[float, float, float] | None
    offset_m: tuple[float, float, float]


@dataclass(frozen=True)
class EndEffector:
    """A site fixed to the body of ``joint``, at ``offset_m`` from its joint centre (reference male)."""

    name: str
    joint: str
    offset_m: tuple[float, float, float]


@dataclass(frozen=True)
class PDGains:
    kp_nm_per_rad: float
    kd_nms_per_rad: float
    torque_limit_nm: float


# MuJoCo order (depth first, as in envs/humanoid.xml): name, parent, type, hinge axis
_TREE: tuple[tuple[str, str | None, JointType, tuple[float, float, float] | None], ...] = (
    ("pelvis", None, "free", None),
    ("chest", "pelvis", "ball", None),
    ("neck", "chest", "ball", None),
    ("right_shoulder", "chest", "ball", None),
    ("right_elbow", "right_shoulder", "hinge", (0.0, -1.0, 0.0)),
    ("left_shoulder", "chest", "ball", None),
    ("left_elbow", "left_shoulder", "hinge", (0.0, -1.0, 0.0)),
    ("right_hip", "pelvis", "ball", None),
    ("right_knee", "right_hip", "hinge", (0.0, 1.0, 0.0)),
    ("right_ankle", "right_knee", "ball", None),
    ("left_hip", "pelvis", "ball", None),
    ("left_knee", "left_hip", "hinge", (0.0, 1.0, 0.0)),
    ("left_ankle", "left_knee", "ball", None),
)
JOINT_NAMES = tuple(row[0] for row in _TREE)
_JOINT_TYPE = {name: jtype for name, _, jtype, _ in _TREE}
SIDES = ("right", "left")


def _scale(height_m: float) -> float:
    return height_m / REFERENCE_HEIGHT_M


def _subtrunk(height_m: float, mass_kg: float, sex: Sex) -> dict[str, Segment]:
    s = height_m / REFERENCE_STATURE_M[sex]
    out = {}
    for name, (length, mass_pct, com_pct, r_sag, r_tr, r_lo) in _SUBTRUNK[sex].items():
        seg_len = length * s
        out[name] = Segment(name, seg_len, mass_kg * mass_pct / 100.0, com_pct / 100.0,
                            seg_len * r_sag / 100.0, seg_len * r_tr / 100.0, seg_len * r_lo / 100.0)
    return out


def standing_root_height_m(height_m: float = REFERENCE_HEIGHT_M, sex: Sex = "male") -> float:
    """Height of the mid-hip point (the root) above the floor in the zero pose: ankle (lateral malleolus,
    0.039 x stature) + shank + thigh [R27]."""
    seg = segments(height_m, 70.0, sex)
    return ANKLE_HEIGHT_FRACTION * height_m + seg["shank"].length_m + seg["thigh"].length_m


def joint_offsets_m(height_m: float = REFERENCE_HEIGHT_M, sex: Sex = "male") -> dict[str, np.ndarray]:
    """Zero-pose position of every joint centre relative to its parent's (pelvis: to the floor below).

    Lengths are de Leva's [R27]: hip-knee = thigh, knee-ankle = shank (to the lateral malleolus),
    shoulder-elbow = upper arm, elbow-wrist = forearm; the chest joint is at the omphalion (top of the
    lower trunk), the shoulders at suprasternale height, the neck at cervicale, placed so the vertex is
    at the subject's stature (VERT-CERV = the head segment). Widths: see HIP_HALF_WIDTH_M.
    """
    seg, sub, s = segments(height_m, 70.0, sex), _subtrunk(height_m, 70.0, sex), _scale(height_m)
    root_z = standing_root_height_m(height_m, sex)
    chest_z = sub["lower"].length_m
    neck_z = height_m - seg["head"].length_m - root_z - chest_z
    shoulder_z = seg["trunk"].length_m - chest_z
    out = {"pelvis": np.array([0.0, 0.0, root_z]), "chest": np.array([0.0, 0.0, chest_z]),
           "neck": np.array([0.0, 0.0, neck_z])}
    for side, sign in zip(SIDES, (-1.0, 1.0)):  # y left: the right side is at -y
        out[f"{side}_shoulder"] = np.array([-SHOULDER_BACK_M * s, sign * SHOULDER_HALF_WIDTH_M * s, shoulder_z])
        out[f"{side}_elbow"] = np.array([0.0, 0.0, -seg["upper_arm"].length_m])
        out[f"{side}_hip"] = np.array([0.0, sign * HIP_HALF_WIDTH_M * s, 0.0])
        out[f"{side}_knee"] = np.array([0.0, 0.0, -seg["thigh"].length_m])
        out[f"{side}_ankle"] = np.array([0.0, 0.0, -seg["shank"].length_m])
    return out


def _end_effector_offsets_m(height_m: float, sex: Sex) -> dict[str, tuple[str, np.ndarray]]:
    """Sites: head = head CoM; hand = wrist joint centre (DeepMimic's hand end effector [R28]; the
    model's wrists are rigid, so a point further into the hand would carry the mocap's wrist angle);
    foot = on the sole below the middle of the foot (heel to toe tip)."""
    seg = segments(height_m, 70.0, sex)
    head, foot = seg["head"], seg["foot"]
    out = {"head": ("neck", np.array([0.0, 0.0, head.length_m * (1.0 - head.com_fraction)]))}
    for side in SIDES:
        out[f"{side}_hand"] = (f"{side}_elbow", np.array([0.0, 0.0, -seg["forearm"].length_m]))
        out[f"{side}_foot"] = (f"{side}_ankle", np.array([(0.5 - HEEL_FRACTION) * foot.length_m, 0.0,
                                                           -ANKLE_HEIGHT_FRACTION * height_m]))
    return out


def pd_gains(height_m: float = REFERENCE_HEIGHT_M, mass_kg: float = REFERENCE_MASS_KG) -> dict[str, PDGains]:
    """PD gains and torque limits per joint (pelvis excluded): DeepMimic's [R28] times
    (mass / 45 kg) x (height / 1.741 m). Gravity torques scale with weight x lever arm; DeepMimic's
    legs are the reference male's length, so the reference subject gets exactly the mass ratio 73/45."""
    factor = (mass_kg / DEEPMIMIC_MASS_KG) * _scale(height_m)
    out = {}
    for name in JOINT_NAMES[1:]:
        kp, kd, limit = DEEPMIMIC_PD[name.split("_")[-1]]
        out[name] = PDGains(kp * factor, kd * factor, limit * factor)
    return out


JOINTS: tuple[Joint, ...] = tuple(
    Joint(name, parent, jtype, axis, tuple(round(float(v), 6) for v in joint_offsets_m()[name]))
    for name, parent, jtype, axis in _TREE)
END_EFFECTORS: tuple[EndEffector, ...] = tuple(
    EndEffector(name, joint, tuple(round(float(v), 6) for v in offset))
    for name, (joint, offset) in _end_effector_offsets_m(REFERENCE_HEIGHT_M, "male").items())


# -- model building ---------------------------------------------------------------------------------
# Geom sizes of the reference male, m (assumptions: contact and picture only - masses and inertias come
# from the explicit inertials). Radii scale with girth, sqrt((mass/73 kg) / (height/1.741 m)) (equal
# density); lengths with stature.
_RADIUS_M = {"upper_arm": 0.042, "forearm": 0.035, "hand": 0.032, "thigh": 0.07, "shank": 0.05, "neck": 0.05}
_PELVIS_SEMI_M = (0.10, 0.14, 0.10)  # ellipsoid semi-axes x, y (girth) and z (stature), centre 0.06 m up
_PELVIS_CENTRE_M = 0.06
_CHEST_SEMI_XY_M = (0.11, 0.135)  # ellipsoid; z semi-axis 0.55 x chest length, centred on the chest
_HEAD_RADIUS_M = 0.10  # sphere touching the vertex
_HAND_LENGTH_M = 0.19  # wrist to fingertip, capsule end to end
_CAMERA_DISTANCE_M = 2.8  # side camera, in front of the subject's right side


def _inertia_from_radii(mass_kg: float, r_x: float, r_y: float, r_z: float) -> list[float]:
    return [mass_kg * r_x**2, mass_kg * r_y**2, mass_kg * r_z**2]


def _limb_inertia(seg: Segment, legacy_axes: bool = False) -> list[float]:
    """Principal inertias of a segment along z: x (antero-posterior) from de Leva's *sagittal* radius,
    y (medio-lateral: rotation in the sagittal plane, flexion/extension) from the *transverse* one, z
    from the longitudinal one [R27]. de Leva, after Zatsiorsky, names each radius by the axis it is
    taken about: the sagittal axis runs antero-posterior, the transverse axis medio-lateral. The
    segment shapes confirm it: the trunk, wider than deep, has the larger radius about the
    antero-posterior axis (sagittal 37.2 % > transverse 34.7 %), the head, deeper than wide, about the
    medio-lateral one (transverse 31.5 % > sagittal 30.3 %). HighBar-v0 reads the transverse radius for
    its medio-lateral bar axis, the same reading.

    ``legacy_axes=True``: the swapped reading of ``sportsim/Imitation-v0`` (x from the transverse, y from
    the sagittal radius), kept so that the v0 zoo policies run on the body they were trained on."""
    if legacy_axes:
        return _inertia_from_radii(seg.mass_kg, seg.gyration_transverse_m, seg.gyration_sagittal_m,
                                   seg.gyration_longitudinal_m)
    return _inertia_from_radii(seg.mass_kg, seg.gyration_sagittal_m, seg.gyration_transverse_m,
                               seg.gyration_longitudinal_m)


def _foot_inertia(foot: Segment, legacy_axes: bool = False) -> list[float]:
    """The foot lies along x (heel to toe): x from the longitudinal radius, y (medio-lateral) from the
    transverse one, z (the foot's sagittal axis, vertical when flat) from the sagittal one
    (:func:`_limb_inertia`); ``legacy_axes``: y and z swapped, as in Imitation-v0."""
    if legacy_axes:
        return _inertia_from_radii(foot.mass_kg, foot.gyration_longitudinal_m, foot.gyration_sagittal_m,
                                   foot.gyration_transverse_m)
    return _inertia_from_radii(foot.mass_kg, foot.gyration_longitudinal_m, foot.gyration_transverse_m,
                               foot.gyration_sagittal_m)


def _set_inertial(spec: mujoco.MjSpec, body: str, pos_m, mass_kg: float, diag_kgm2) -> None:
    b = spec.body(body)
    b.ipos, b.mass, b.inertia = [float(v) for v in pos_m], float(mass_kg), [float(v) for v in diag_kgm2]


def _chest_inertial(sub: dict[str, Segment], legacy_axes: bool = False) -> tuple[list[float], float, list[float]]:
    """Upper + middle trunk combined about their joint CoM (parallel axes along z) [R27]; origin at the
    omphalion (chest joint)."""
    upper, middle = sub["upper"], sub["middle"]
    z_upper = middle.length_m + upper.length_m * (1.0 - upper.com_fraction)  # CoM % from SUPR
    z_middle = middle.length_m * (1.0 - middle.com_fraction)  # from XYPH
    mass = upper.mass_kg + middle.mass_kg
    z_com = (upper.mass_kg * z_upper + middle.mass_kg * z_middle) / mass
    shift = upper.mass_kg * (z_upper - z_com) ** 2 + middle.mass_kg * (z_middle - z_com) ** 2
    iu, im = _limb_inertia(upper, legacy_axes), _limb_inertia(middle, legacy_axes)
    return [0.0, 0.0, z_com], mass, [iu[0] + im[0] + shift, iu[1] + im[1] + shift, iu[2] + im[2]]


def build_humanoid_spec(height_m: float = REFERENCE_HEIGHT_M, mass_kg: float = REFERENCE_MASS_KG,
                        sex: Sex = "male", legacy_inertia_axes: bool = False) -> mujoco.MjSpec:
    """``envs/humanoid.xml`` sized to a subject: joint positions, de Leva masses, CoMs and inertias
    [R27], geoms, sites, camera and motor gears (= torque limits, :func:`pd_gains`). ``qpos0`` is the
    zero pose standing on the floor. ``legacy_inertia_axes``: see :func:`_limb_inertia`."""
    lax = legacy_inertia_axes
    seg, sub = segments(height_m, mass_kg, sex), _subtrunk(height_m, mass_kg, sex)
    s, girth = _scale(height_m), math.sqrt((mass_kg / REFERENCE_MASS_KG) / _scale(height_m))
    ankle_h = ANKLE_HEIGHT_FRACTION * height_m
    spec = mujoco.MjSpec.from_file(str(model_path("humanoid.xml")))
    for name, offset in joint_offsets_m(height_m, sex).items():
        spec.body(name).pos = offset.tolist()
    for name, (_, offset) in _end_effector_offsets_m(height_m, sex).items():
        spec.site(name).pos = offset.tolist()  # each site sits in its joint's body

    # trunk: pelvis = lower trunk, chest = upper + middle trunk; head = VERT-CERV from the neck joint
    lower, head = sub["lower"], seg["head"]
    lower_com = [0, 0, lower.length_m * (1 - lower.com_fraction)]  # CoM % from OMPH
    _set_inertial(spec, "pelvis", lower_com, lower.mass_kg, _limb_inertia(lower, lax))
    chest_com, chest_mass, chest_inertia = _chest_inertial(sub, lax)
    _set_inertial(spec, "chest", chest_com, chest_mass, chest_inertia)
    head_com = [0, 0, head.length_m * (1 - head.com_fraction)]  # CoM % from VERT
    _set_inertial(spec, "neck", head_com, head.mass_kg, _limb_inertia(head, lax))
    chest_len = seg["trunk"].length_m - lower.length_m
    spec.site("torso").pos = chest_com
    spec.geom("pelvis").size = [_PELVIS_SEMI_M[0] * girth, _PELVIS_SEMI_M[1] * girth, _PELVIS_SEMI_M[2] * s]
    spec.geom("pelvis").pos = [0.0, 0.0, _PELVIS_CENTRE_M * s]
    spec.geom("chest").size = [_CHEST_SEMI_XY_M[0] * girth, _CHEST_SEMI_XY_M[1] * girth, 0.55 * chest_len]
    spec.geom("chest").pos = [0.0, 0.0, 0.5 * chest_len]
    head_r, head_top = _HEAD_RADIUS_M * s, head.length_m
    spec.geom("head").size = [head_r, 0, 0]
    spec.geom("head").pos = [0.0, 0.0, head_top - head_r]
    spec.geom("nose").size = [0.2 * head_r, 0, 0]
    spec.geom("nose").pos = [0.95 * head_r, 0.0, head_top - 1.1 * head_r]
    spec.geom("neck").size = [_RADIUS_M["neck"] * girth, 0, 0]
    spec.geom("neck").fromto = [0.0, 0.0, -0.04 * s, 0.0, 0.0, head_top - head_r]

    for side in SIDES:
        limbs = ((f"{side}_shoulder", "upper_arm", 0.0), (f"{side}_elbow", "forearm", 0.0),
                 (f"{side}_hip", "thigh", 0.0), (f"{side}_knee", "shank", _RADIUS_M["shank"] * girth))
        for body, name, shorten_m in limbs:  # capsule joint to joint; the shank's ends at the ankle's height
            limb = seg[name]
            limb_com = [0, 0, -limb.com_fraction * limb.length_m]
            _set_inertial(spec, body, limb_com, limb.mass_kg, _limb_inertia(limb, lax))
            geom = spec.geom(f"{side}_{name}")
            geom.size = [_RADIUS_M[name] * girth, 0, 0]
            geom.fromto = [0.0, 0.0, 0.0, 0.0, 0.0, -(limb.length_m - shorten_m)]
        hand, foot = seg["hand"], seg["foot"]
        spec.body(f"{side}_wrist").pos = [0.0, 0.0, -seg["forearm"].length_m]
        hand_com = [0, 0, -hand.com_fraction * hand.length_m]
        _set_inertial(spec, f"{side}_wrist", hand_com, hand.mass_kg, _limb_inertia(hand, lax))
        hand_r = _RADIUS_M["hand"] * girth
        spec.geom(f"{side}_hand").size = [hand_r, 0, 0]
        spec.geom(f"{side}_hand").fromto = [0.0, 0.0, 0.0, 0.0, 0.0, -(_HAND_LENGTH_M * s - 2 * hand_r)]
        # foot: box heel to toe tip, sole on the floor; CoM along the sole line at half the ankle height
        heel_x = -HEEL_FRACTION * foot.length_m
        _set_inertial(spec, f"{side}_ankle", [heel_x + foot.com_fraction * foot.length_m, 0.0, -ankle_h / 2],
                      foot.mass_kg, _foot_inertia(foot, lax))
        spec.geom(f"{side}_foot").size = [foot.length_m / 2, FOOT_WIDTH_M * s / 2, ankle_h / 2]
        spec.geom(f"{side}_foot").pos = [heel_x + foot.length_m / 2, 0.0, -ankle_h / 2]

    for name, gains in pd_gains(height_m, mass_kg).items():
        if _JOINT_TYPE[name] == "hinge":
            spec.actuator(name).gear = [gains.torque_limit_nm, 0, 0, 0, 0, 0]
        else:
            for i, axis in enumerate("xyz"):
                gear = [0.0] * 6
                gear[i] = gains.torque_limit_nm
                spec.actuator(f"{name}_{axis}").gear = gear
    spec.camera("side").pos = [0.0, -_CAMERA_DISTANCE_M * s, 0.0]
    return spec


def build_humanoid_model(height_m: float = REFERENCE_HEIGHT_M, mass_kg: float = REFERENCE_MASS_KG,
                         sex: Sex = "male", legacy_inertia_axes: bool = False) -> mujoco.MjModel:
    """:func:`build_humanoid_spec`, compiled."""
    return build_humanoid_spec(height_m, mass_kg, sex, legacy_inertia_axes).compile()


# -- qpos layout and kinematics for the retargeting code ----------------------------------------------
QPOS_SIZE = {"free": 7, "ball": 4, "hinge": 1}
# one motor per hinge, three per ball joint (torques about the child body's x, y, z axes)
ACTUATOR_NAMES = tuple(
    name if jtype == "hinge" else f"{name}_{axis}"
    for name, jtype in list(_JOINT_TYPE.items())[1:] for axis in (("",) if jtype == "hinge" else ("x", "y", "z")))
END_EFFECTOR_NAMES = tuple(e.name for e in END_EFFECTORS)


def actuator_dofs(model: mujoco.MjModel) -> np.ndarray:
    """The dof (qvel index) each actuator of a humanoid model drives: its joint's first dof plus the axis
    its gear selects (x, y, z of a ball joint; 0 for a hinge)."""
    return np.array([model.jnt_dofadr[model.actuator_trnid[i, 0]] + int(np.argmax(np.abs(model.actuator_gear[i, :3])))
                     for i in range(model.nu)])


def qpos_address(name: str) -> int:
    """Start of joint ``name`` in qpos (the model's order is :data:`JOINTS`)."""
    adr = 0
    for joint in JOINTS:
        if joint.name == name:
            return adr
        adr += QPOS_SIZE[joint.type]
    raise KeyError(f"unknown joint {name!r}; expected one of {JOINT_NAMES}")


def hinge_angle_rad(quat_wxyz, axis) -> float:
    """Angle about ``axis`` of a rotation: the twist of its swing-twist decomposition,
    ``2 atan2(v . axis, w)`` wrapped to (-pi, pi]. The swing (the rotation about axes perpendicular to
    the hinge, which a hinge cannot make) is dropped."""
    q = np.asarray(quat_wxyz, dtype=float)
    angle = 2.0 * math.atan2(float(np.dot(q[1:], np.asarray(axis, dtype=float))), float(q[0]))
    return math.remainder(angle, 2.0 * math.pi)


def qpos_from_rotations(root_pos_m, root_quat_wxyz, local_quats_by_joint: dict[str, object]) -> np.ndarray:
    """The humanoid's qpos from a pose given as joint rotations.

    ``root_pos_m``, ``root_quat_wxyz``: world position of the mid-hip point and world orientation of the
    pelvis. ``local_quats_by_joint``: w-first rotation of each joint's body relative to its parent body,
    in the parent's frame (zero pose = identity); joints left out stay at zero. Ball joints take the
    normalised quaternion (sign chosen with w >= 0); hinges take :func:`hinge_angle_rad` about their axis.
    """
    unknown = set(local_quats_by_joint) - set(JOINT_NAMES[1:])
    if unknown:
        raise KeyError(f"unknown joints {sorted(unknown)}; expected some of {JOINT_NAMES[1:]}")
    qpos = np.zeros(sum(QPOS_SIZE[j.type] for j in JOINTS))
    qpos[0:3] = root_pos_m
    qpos[3:7] = _unit_quat(root_quat_wxyz)
    adr = 7
    for joint in JOINTS[1:]:
        quat = _unit_quat(local_quats_by_joint.get(joint.name, (1.0, 0.0, 0.0, 0.0)))
        if joint.type == "ball":
            qpos[adr:adr + 4] = quat
        else:
            qpos[adr] = hinge_angle_rad(quat, joint.axis)
        adr += QPOS_SIZE[joint.type]
    return qpos


def _unit_quat(quat) -> np.ndarray:
    q = np.asarray(quat, dtype=float)
    norm = float(np.linalg.norm(q))
    if q.shape != (4,) or not norm > 0.0:
        raise ValueError(f"expected a non-zero w-first quaternion, got {quat!r}")
    return q / norm if q[0] >= 0.0 else -q / norm


def kinematic_positions(model: mujoco.MjModel, qpos,
                        data: mujoco.MjData | None = None) -> dict[str, np.ndarray]:
    """World positions (m) of the joint centres (``pelvis`` = the mid-hip point) and of the end-effector
    sites for ``qpos``, by forward kinematics (``mj_kinematics``). Pass ``data`` to reuse one."""
    data = mujoco.MjData(model) if data is None else data
    data.qpos[:] = qpos
    mujoco.mj_kinematics(model, data)
    out = {"pelvis": data.xpos[model.body("pelvis").id].copy()}
    for name in JOINT_NAMES[1:]:
        out[name] = data.xanchor[model.joint(name).id].copy()
    for name in END_EFFECTOR_NAMES:
        out[name] = data.site_xpos[model.site(name).id].copy()
    return out
