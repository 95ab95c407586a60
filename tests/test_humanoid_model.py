"""The sportsim humanoid (envs/humanoid.xml, sportsim.humanoid): de Leva segments [R27] on DeepMimic's
joint tree [R28], sized to any subject, and the kinematics helpers the retargeting code calls."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sportsim  # noqa: F401, I001  (first: picks EGL for offscreen rendering before mujoco loads)
import mujoco

from sportsim import humanoid as hum
from sportsim.anthropometry import ANKLE_HEIGHT_FRACTION, segments, standing_com_height
from sportsim.paths import model_path

REFERENCE = (1.741, 73.0, "male")
SUBJECTS = [REFERENCE, (1.60, 55.0, "female"), (1.95, 95.0, "male")]
IDENTITY = (1.0, 0.0, 0.0, 0.0)
# body -> de Leva segment; the trunk is pelvis + chest
SEGMENT_OF_BODY = {"neck": "head", "right_shoulder": "upper_arm", "right_elbow": "forearm", "right_wrist": "hand",
                   "right_hip": "thigh", "right_knee": "shank", "right_ankle": "foot"}


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_path(str(model_path("humanoid.xml")))


def _quat_about(axis, angle_rad: float) -> tuple[float, ...]:
    half = angle_rad / 2.0
    return (math.cos(half), *(math.sin(half) * np.asarray(axis, dtype=float)))


def _pd_arrays(model: mujoco.MjModel, height_m: float, mass_kg: float):
    """Kp, Kd, torque limit per dof, and per actuator its dof and gear."""
    kp, kd, limit = np.zeros(model.nv), np.zeros(model.nv), np.zeros(model.nv)
    for name, gains in hum.pd_gains(height_m, mass_kg).items():
        joint = model.joint(name)
        dofs = slice(joint.dofadr[0], joint.dofadr[0] + (3 if joint.type[0] == mujoco.mjtJoint.mjJNT_BALL else 1))
        kp[dofs], kd[dofs], limit[dofs] = gains.kp_nm_per_rad, gains.kd_nms_per_rad, gains.torque_limit_nm
    axis = np.argmax(np.abs(model.actuator_gear[:, :3]), axis=1)
    act_dof = model.jnt_dofadr[model.actuator_trnid[:, 0]] + axis
    act_gear = model.actuator_gear[np.arange(model.nu), axis]
    return kp, kd, limit, act_dof, act_gear


def _hold_zero_pose(model: mujoco.MjModel, duration_s: float, implicit_damping: bool) -> tuple[float, float]:
    """Run the PD towards the zero pose from standing; returns (pelvis drop m, max joint error rad)."""
    kp, kd, limit, act_dof, act_gear = _pd_arrays(model, *REFERENCE[:2])
    if implicit_damping:
        model.dof_damping[6:] = kd[6:]
        kd = np.zeros_like(kd)
    data, err, max_err = mujoco.MjData(model), np.zeros(model.nv), 0.0
    for _ in range(round(duration_s / model.opt.timestep)):
        mujoco.mj_differentiatePos(model, err, 1.0, data.qpos, model.qpos0)
        tau = np.clip(kp * err - kd * data.qvel, -limit, limit)
        data.ctrl[:] = tau[act_dof] / act_gear
        mujoco.mj_step(model, data)
        max_err = max(max_err, float(np.abs(err[6:]).max()))
    return float(model.qpos0[2] - data.qpos[2]), max_err


# -- the model file -------------------------------------------------------------------------------

def test_model_has_the_canonical_joints_bodies_sites_and_motors(model):
    assert (model.nq, model.nv, model.nu) == (43, 34, 28)
    assert tuple(model.joint(j).name for j in range(model.njnt)) == hum.JOINT_NAMES
    J = mujoco.mjtJoint
    types = {"free": J.mjJNT_FREE, "ball": J.mjJNT_BALL, "hinge": J.mjJNT_HINGE}
    for joint in hum.JOINTS:
        mj_joint = model.joint(joint.name)
        assert mj_joint.type[0] == types[joint.type]
        assert model.body(mj_joint.bodyid[0]).name == joint.name
        parent = model.body(model.body(joint.name).parentid[0]).name
        assert parent == (joint.parent or "world")
        np.testing.assert_allclose(model.body(joint.name).pos, joint.offset_m, atol=1e-6)
        if joint.type == "hinge":
            np.testing.assert_allclose(mj_joint.axis, joint.axis)
        assert model.jnt_qposadr[mj_joint.id] == hum.qpos_address(joint.name)
    for effector in hum.END_EFFECTORS:
        site = model.site(effector.name)
        assert model.body(site.bodyid[0]).name == effector.joint
        np.testing.assert_allclose(site.pos, effector.offset_m, atol=1e-6)
    assert model.site("torso").bodyid[0] == model.body("chest").id
    assert tuple(model.actuator(a).name for a in range(model.nu)) == hum.ACTUATOR_NAMES
    assert model.camera("side").mode[0] == mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM


def test_model_file_is_the_generator_output_for_the_reference_subject(model):
    built = hum.build_humanoid_model(*REFERENCE)
    for field in ("body_pos", "body_quat", "body_ipos", "body_mass", "body_inertia", "jnt_range", "geom_size",
                  "geom_pos", "geom_quat", "site_pos", "actuator_gear", "cam_pos", "qpos0"):
        # the file holds 6 decimals
        np.testing.assert_allclose(getattr(model, field), getattr(built, field), rtol=1e-5, atol=1e-6,
                                   err_msg=field)


# -- anthropometry: masses, lengths, CoM, feet ------------------------------------------------------

@pytest.mark.parametrize("height_m, mass_kg, sex", SUBJECTS)
def test_masses_are_de_levas(height_m, mass_kg, sex):
    model = hum.build_humanoid_model(height_m, mass_kg, sex)
    assert model.body_subtreemass[model.body("pelvis").id] == pytest.approx(mass_kg, rel=0.005)
    seg = segments(height_m, mass_kg, sex)
    for side in hum.SIDES:
        for body, name in SEGMENT_OF_BODY.items():
            body = body.replace("right", side)
            assert model.body(body).mass[0] == pytest.approx(seg[name].mass_kg, rel=1e-9), body
    trunk_kg = model.body("pelvis").mass[0] + model.body("chest").mass[0]
    assert trunk_kg == pytest.approx(seg["trunk"].mass_kg, rel=1e-9)


def test_reference_trunk_split_is_de_levas_lower_trunk(model):
    assert model.body("pelvis").mass[0] == pytest.approx(0.1117 * 73.0, rel=1e-5)  # OMPH-MIDH [R27]
    assert model.body("chest").mass[0] == pytest.approx((0.1596 + 0.1633) * 73.0, rel=1e-5)


@pytest.mark.parametrize("height_m, mass_kg, sex", SUBJECTS)
def test_segment_lengths_are_de_levas(height_m, mass_kg, sex):
    model = hum.build_humanoid_model(height_m, mass_kg, sex)
    pos, seg = hum.kinematic_positions(model, model.qpos0), segments(height_m, mass_kg, sex)
    for side in hum.SIDES:
        for a, b, name in (("hip", "knee", "thigh"), ("knee", "ankle", "shank"),
                           ("shoulder", "elbow", "upper_arm"), ("elbow", "hand", "forearm")):
            length = np.linalg.norm(pos[f"{side}_{a}"] - pos[f"{side}_{b}"])
            assert length == pytest.approx(seg[name].length_m, abs=1e-3), (side, name)
    assert pos["head"][2] < height_m  # the head site is the head's CoM, below the vertex


@pytest.mark.parametrize("height_m, mass_kg, sex", SUBJECTS)
def test_standing_com_height_matches_anthropometry(height_m, mass_kg, sex):
    model = hum.build_humanoid_model(height_m, mass_kg, sex)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    com = data.subtree_com[model.body("pelvis").id]
    assert com[2] == pytest.approx(standing_com_height(height_m, sex), abs=0.02)
    assert abs(com[0]) < 0.02 and abs(com[1]) < 1e-9  # above the feet, symmetric


@pytest.mark.parametrize("height_m, mass_kg, sex", SUBJECTS)
def test_feet_rest_on_the_floor(height_m, mass_kg, sex):
    model = hum.build_humanoid_model(height_m, mass_kg, sex)
    assert model.qpos0[2] == pytest.approx(hum.standing_root_height_m(height_m, sex), abs=1e-9)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    for side in hum.SIDES:
        foot = model.geom(f"{side}_foot")
        sole_z = data.geom_xpos[foot.id][2] - foot.size[2]
        assert sole_z == pytest.approx(0.0, abs=1e-3)
        assert data.site_xpos[model.site(f"{side}_foot").id][2] == pytest.approx(0.0, abs=1e-3)
    feet = {model.geom(f"{side}_foot").id for side in hum.SIDES}
    floor = model.geom("floor").id
    for contact in data.contact[: data.ncon]:
        assert set(contact.geom) - {floor} <= feet  # nothing but the soles touches the floor
        assert contact.dist > -1e-3


# -- standing under PD control --------------------------------------------------------------------

def test_documented_pd_gains_hold_the_standing_pose():
    """Explicit PD, tau = clip(Kp (q_ref - q) - Kd qdot), needs a 0.25 ms step with these gains."""
    model = hum.build_humanoid_model(*REFERENCE)
    model.opt.timestep = 0.00025
    drop_m, max_err_rad = _hold_zero_pose(model, 0.5, implicit_damping=False)
    assert 0.0 <= drop_m < 0.05
    assert max_err_rad < 0.05


def test_pd_with_implicit_joint_damping_holds_at_a_2ms_step():
    """The env's cheap route: Kd as joint damping (implicitfast), the motors give clip(Kp (q_ref - q))."""
    model = hum.build_humanoid_model(*REFERENCE)
    assert model.opt.timestep == 0.002 and model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    drop_m, max_err_rad = _hold_zero_pose(model, 0.5, implicit_damping=True)
    assert 0.0 <= drop_m < 0.05
    assert max_err_rad < 0.05


@pytest.mark.parametrize("height_m, mass_kg, sex", SUBJECTS)
def test_pd_gains_and_motor_gears_scale_with_weight_and_height(height_m, mass_kg, sex):
    gains = hum.pd_gains(height_m, mass_kg)
    factor = mass_kg / 45.0 * height_m / 1.741
    assert gains["right_knee"].kp_nm_per_rad == pytest.approx(500.0 * factor)
    assert gains["chest"].kd_nms_per_rad == pytest.approx(100.0 * factor)
    model = hum.build_humanoid_model(height_m, mass_kg, sex)
    assert model.actuator("right_ankle_y").gear[1] == pytest.approx(90.0 * factor)
    assert model.actuator("left_elbow").gear[0] == pytest.approx(60.0 * factor)
    np.testing.assert_array_equal(model.actuator_ctrlrange, np.tile([-1.0, 1.0], (model.nu, 1)))


# -- qpos from rotations, forward kinematics --------------------------------------------------------

def test_identity_rotations_give_the_zero_pose(model):
    root = (0.0, 0.0, hum.standing_root_height_m())
    qpos = hum.qpos_from_rotations(root, IDENTITY, {name: IDENTITY for name in hum.JOINT_NAMES[1:]})
    np.testing.assert_allclose(qpos, model.qpos0, atol=1e-6)
    np.testing.assert_array_equal(hum.qpos_from_rotations(root, IDENTITY, {}), qpos)


def test_knee_flexion_swings_the_foot_back(model):
    qpos = hum.qpos_from_rotations(model.qpos0[:3], IDENTITY, {"right_knee": _quat_about((0, 1, 0), math.pi / 2)})
    assert qpos[hum.qpos_address("right_knee")] == pytest.approx(math.pi / 2)
    pos, rest = hum.kinematic_positions(model, qpos), hum.kinematic_positions(model, model.qpos0)
    shank = segments(*REFERENCE)["shank"].length_m
    foot = next(e for e in hum.END_EFFECTORS if e.name == "right_foot")
    np.testing.assert_allclose(pos["right_ankle"], rest["right_knee"] + (-shank, 0.0, 0.0), atol=1e-6)
    # the sole point (dx, 0, -ankle height) below the ankle turns with the shank: now behind the ankle
    dx, _, dz = foot.offset_m
    np.testing.assert_allclose(pos["right_foot"], pos["right_ankle"] + (dz, 0.0, -dx), atol=1e-6)
    np.testing.assert_allclose(pos["left_foot"], rest["left_foot"], atol=1e-12)


def test_ball_joint_quaternion_is_the_local_rotation(model):
    # shoulder flexion 90 deg (about -y): the hanging arm points forward; pelvis turned 90 deg to the left
    yaw = _quat_about((0, 0, 1), math.pi / 2)
    qpos = hum.qpos_from_rotations((1.0, 2.0, 0.9), yaw, {"right_shoulder": _quat_about((0, -1, 0), math.pi / 2)})
    pos = hum.kinematic_positions(model, qpos)
    seg = segments(*REFERENCE)
    reach = seg["upper_arm"].length_m + seg["forearm"].length_m
    forward = np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(pos["right_hand"], pos["right_shoulder"] + reach * forward, atol=1e-6)
    np.testing.assert_allclose(pos["pelvis"], (1.0, 2.0, 0.9))
    np.testing.assert_allclose(pos["right_hip"], (1.0 + hum.HIP_HALF_WIDTH_M, 2.0, 0.9), atol=1e-6)  # right = +x


def test_hinge_projection_keeps_the_twist_and_drops_the_swing():
    twist, swing = _quat_about((0, 1, 0), 0.7), _quat_about((1, 0, 0), 0.3)
    q = np.empty(4)
    mujoco.mju_mulQuat(q, swing, twist)
    assert hum.hinge_angle_rad(q, (0, 1, 0)) == pytest.approx(0.7)
    assert hum.hinge_angle_rad(-q, (0, 1, 0)) == pytest.approx(0.7)  # q and -q are the same rotation
    assert hum.hinge_angle_rad(_quat_about((0, -1, 0), 2.5), (0, -1, 0)) == pytest.approx(2.5)


def test_qpos_from_rotations_rejects_unknown_joints_and_zero_quaternions():
    with pytest.raises(KeyError, match="right_wrist"):
        hum.qpos_from_rotations((0, 0, 1), IDENTITY, {"right_wrist": IDENTITY})
    with pytest.raises(ValueError):
        hum.qpos_from_rotations((0, 0, 1), (0, 0, 0, 0), {})


def test_joint_offsets_scale_to_the_subject():
    offsets, seg = hum.joint_offsets_m(1.60, "female"), segments(1.60, 55.0, "female")
    assert offsets["left_knee"][2] == pytest.approx(-seg["thigh"].length_m)
    leg_m = ANKLE_HEIGHT_FRACTION * 1.60 + seg["shank"].length_m + seg["thigh"].length_m
    assert offsets["pelvis"][2] == pytest.approx(leg_m)
    top_of_head = sum(offsets[j][2] for j in ("pelvis", "chest", "neck")) + seg["head"].length_m
    assert top_of_head == pytest.approx(1.60)


# -- rendering --------------------------------------------------------------------------------------

def test_side_camera_renders_the_humanoid(model):
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with mujoco.Renderer(model, 240, 320) as renderer:
        renderer.update_scene(data, camera="side")
        image = renderer.render()
    assert image.shape == (240, 320, 3)
    assert image.std() > 10.0  # not blank
    # the humanoid stands in the middle of the frame: its column differs from the empty sky beside it
    middle, edge = image[20:100, 150:170].astype(float), image[20:100, 10:30].astype(float)
    assert np.abs(middle.mean(axis=(0, 1)) - edge.mean(axis=(0, 1))).max() > 20.0
