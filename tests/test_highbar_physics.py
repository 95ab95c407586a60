"""HighBar-v0 checked against physics: pendulum period, bar reaction force, energy, the elastic bar,
and the scripted swing and giant controllers. Tolerances are stated in each test's docstring.

The rigid-body checks run MuJoCo directly on the env's own model (``build_spec`` with the env's
defaults: same integrator, time step, masses and sensors) with the named joints *welded* - deleted
from the specification, so the segments they joined form one exactly rigid body. (Locking a joint
with limits or equality constraints would leave MuJoCo's soft-constraint compliance in the numbers.)
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from sportsim.controllers import HighBarSwingController
from sportsim.envs import highbar_params as hp
from sportsim.envs.highbar_v0 import HighBarEnv, build_spec

G = hp.GRAVITY_MPS2
CONTROL_HZ = 50
PHYSICS_DT_S = 0.01  # HighBarEnv's default
SEGMENTS = ("arms", "trunk", "legs")


def welded_model(weld: tuple[str, ...], **bar_kwargs) -> mujoco.MjModel:
    """The env's model with the joints in ``weld`` removed (with the sensors and motors that use them)."""
    spec = build_spec(hp.make_gymnast(), hp.make_bar(**bar_kwargs), hp.make_joints(), PHYSICS_DT_S)
    for joint in weld:
        for sensor in list(spec.sensors):
            if sensor.objname == joint:
                spec.delete(sensor)
        for actuator in list(spec.actuators):
            if actuator.target == joint:
                spec.delete(actuator)
        spec.delete(spec.joint(joint))
    model = spec.compile()
    model.opt.enableflags |= mujoco.mjtEnableBit.mjENBL_ENERGY
    return model


def control_step(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    """One 50 Hz control period of physics, then a forward pass so sensors and energy are current."""
    mujoco.mj_step(model, data, nstep=round(1 / (CONTROL_HZ * PHYSICS_DT_S)))
    mujoco.mj_forward(model, data)


def rigid_body_about_bar(model: mujoco.MjModel, data: mujoco.MjData) -> tuple[float, float, float]:
    """Mass m, bar -> CoM distance d and moment of inertia I about the bar of the straight gymnast,
    from the model's own segment masses, CoM positions and inertias (parallel-axis theorem)."""
    mujoco.mj_forward(model, data)
    bar = data.xpos[model.body("bar").id]
    ids = [model.body(name).id for name in SEGMENTS]
    dist = [float(np.linalg.norm(data.xipos[i] - bar)) for i in ids]
    mass = float(sum(model.body_mass[i] for i in ids))
    com = sum(model.body_mass[i] * r for i, r in zip(ids, dist, strict=True)) / mass
    inertia = sum(model.body_inertia[i][1] + model.body_mass[i] * r * r for i, r in zip(ids, dist, strict=True))
    return mass, com, float(inertia)


def bar_angle(model: mujoco.MjModel, data: mujoco.MjData) -> tuple[float, np.ndarray]:
    """Angle of the bar -> CoM line from hanging (counter-clockwise), and the unit vector along it (x, z)."""
    com = data.sensor("com_pos").data
    bar = data.xpos[model.body("bar").id]
    r = np.array([com[0] - bar[0], com[2] - bar[2]])
    return math.atan2(r[0], -r[1]), r / np.linalg.norm(r)


def test_rigid_gymnast_on_rigid_bar_swings_with_the_physical_pendulum_period():
    """Joints and bar welded, hands frictionless: a 2 deg swing has the small-angle period
    T = 2 pi sqrt(I / (m g d)) within 1 % (measured: mean of 8 periods between upward zero crossings of the
    bar angle, interpolated; the 2 deg finite-amplitude correction is 0.008 %)."""
    model = welded_model(("bar_x", "bar_z", "shoulder", "hip"))
    data = mujoco.MjData(model)
    mass, d, inertia = rigid_body_about_bar(model, data)
    expected = 2 * math.pi * math.sqrt(inertia / (mass * G * d))
    data.joint("hand").qpos = math.radians(2.0)
    mujoco.mj_forward(model, data)
    times, angles = [], []
    while data.time < 20.0:
        control_step(model, data)
        times.append(data.time)
        angles.append(bar_angle(model, data)[0])
    t, a = np.array(times), np.array(angles)
    up = np.where((a[:-1] < 0.0) & (a[1:] >= 0.0))[0]
    crossings = t[up] - a[up] * (t[up + 1] - t[up]) / (a[up + 1] - a[up])
    measured = (crossings[-1] - crossings[0]) / (len(crossings) - 1)
    assert len(crossings) >= 8
    assert 2.0 < expected < 2.5  # a 2.2 m long body hanging from its hands
    assert measured == pytest.approx(expected, rel=0.01), f"period {measured:.4f} s vs {expected:.4f} s"


def test_bar_reaction_force_follows_the_radial_equation_through_a_large_swing():
    """Rigid gymnast on a rigid bar falling from a handstand (178 deg) through the bottom and up the other
    side. The bar's force on the hands, measured by MuJoCo's force sensor and projected on the bar -> CoM
    direction (which excludes the tangential component), matches F = m g cos(theta) + m omega^2 R within 3 %
    of its peak all the way, with omega from energy conservation, omega^2 = 2 m g R (cos theta - cos
    theta0) / I (REFERENCES B3, B4). The tangential component, checked separately against
    m g sin(theta) (1 - m R^2 / I), agrees within 3 % of the peak radial force too."""
    model = welded_model(("bar_x", "bar_z", "shoulder", "hip"))
    data = mujoco.MjData(model)
    mass, radius, inertia = rigid_body_about_bar(model, data)
    start = math.radians(178.0)
    data.joint("hand").qpos = start
    mujoco.mj_forward(model, data)
    grip = model.site("grip").id
    radial, tangential, angles = [], [], []
    while data.time < 3.0:
        control_step(model, data)
        theta, r_hat = bar_angle(model, data)
        force = data.site_xmat[grip].reshape(3, 3) @ data.sensor("hand_force").data  # world frame
        pull = -(force[0] * r_hat[0] + force[2] * r_hat[1])  # towards the bar
        along = force[0] * math.cos(theta) + force[2] * math.sin(theta)  # in the direction of increasing theta
        omega2 = 2 * mass * G * radius * (math.cos(theta) - math.cos(start)) / inertia
        radial.append((pull, mass * G * math.cos(theta) + mass * omega2 * radius))
        tangential.append((along, mass * G * math.sin(theta) * (1 - mass * radius**2 / inertia)))
        angles.append(theta)
    radial, tangential = np.array(radial), np.array(tangential)
    peak = radial[:, 1].max()
    assert min(angles) < math.radians(-150) and max(angles) > math.radians(170), "a full swing through the bottom"
    assert 4.0 < peak / (mass * G) < 5.0  # 4-5 body weights at the bottom (REFERENCES B3)
    assert np.abs(radial[:, 0] - radial[:, 1]).max() < 0.03 * peak
    assert np.abs(tangential[:, 0] - tangential[:, 1]).max() < 0.03 * peak


@pytest.mark.parametrize("release_deg", [90.0, 178.0])
def test_energy_is_conserved_without_friction_and_bar_damping(release_deg):
    """Rigid gymnast swinging on the elastic bar, hand friction and bar damping off: the total mechanical
    energy (kinetic + gravity + the bar springs' potential) stays within 0.5 % of the swing's energy
    (the energy above the still hang at rest) over 20 s - a stricter measure than a fraction of the
    total energy above the floor."""
    model = welded_model(("shoulder", "hip"), damping_ratio=0.0)
    data = mujoco.MjData(model)
    data.joint("bar_z").qpos = -hp.make_gymnast().mass_kg * G / model.jnt_stiffness[model.joint("bar_z").id]
    mujoco.mj_forward(model, data)
    rest = data.energy.sum()
    data.joint("hand").qpos = math.radians(release_deg)
    mujoco.mj_forward(model, data)
    energy, deflection = [data.energy.sum()], []
    while data.time < 20.0:
        control_step(model, data)
        energy.append(data.energy.sum())
        deflection.append(data.sensor("bar_z").data[0])
    energy = np.array(energy)
    swing = energy[0] - rest
    assert np.ptp(deflection) > 0.02, "the bar must actually flex"
    drift = np.abs(energy - energy[0]).max() / swing
    assert drift < 0.005, f"energy drift {drift:.4%} of the swing energy over 20 s"


@pytest.mark.parametrize("damping_ratio", [0.0, 0.05])
def test_loaded_bar_bounces_at_its_natural_frequency_with_the_stated_damping(damping_ratio):
    """A rigid, still-hanging gymnast bounced 1 cm on the bar oscillates vertically at
    f = sqrt(k / (m_bar + m)) / (2 pi) within 1 %, and each cycle shrinks the amplitude by
    exp(-2 pi zeta / sqrt(1 - zeta^2)) within 2 % (zeta = bar_damping_ratio, defined for this loaded bounce)."""
    model = welded_model(("shoulder", "hip"), damping_ratio=damping_ratio)
    model.opt.timestep = 0.002  # resolve the 3.8 Hz bounce finely; the physics is the env's
    data = mujoco.MjData(model)
    k = model.jnt_stiffness[model.joint("bar_z").id]
    mass = hp.make_gymnast().mass_kg
    rest = -mass * G / k
    data.joint("bar_z").qpos = rest - 0.01
    mujoco.mj_forward(model, data)
    t, z = [], []
    while data.time < 2.0:
        mujoco.mj_step(model, data)
        t.append(data.time)
        z.append(data.joint("bar_z").qpos[0] - rest)
    t, z = np.array(t), np.array(z)
    peaks = [i for i in range(1, len(z) - 1) if z[i - 1] < z[i] >= z[i + 1] and z[i] > 0]
    period = (t[peaks[-1]] - t[peaks[0]]) / (len(peaks) - 1)
    expected = 2 * math.pi / math.sqrt(k / (model.body_mass[model.body("bar").id] + mass))
    assert period == pytest.approx(expected, rel=0.01)
    decay = z[peaks[1]] / z[peaks[0]]
    zeta = damping_ratio
    assert decay == pytest.approx(math.exp(-2 * math.pi * zeta / math.sqrt(1 - zeta**2)), rel=0.02)


def half_swing_peaks(angles: list[float]) -> np.ndarray:
    """The largest bar angle (signed, degrees) of each half swing between crossings of the bottom."""
    a = np.asarray(angles)
    peaks, start = [], 0
    for i in range(1, len(a)):
        if np.sign(a[i]) != np.sign(a[i - 1]) and a[i] != 0:
            segment = a[start:i]
            peaks.append(segment[np.argmax(np.abs(segment))])
            start = i
    return np.degrees(peaks)


def swing(phase: int, seconds: float = 12.0) -> np.ndarray:
    env = HighBarEnv(task="handstand", episode_time_s=seconds)
    obs, _ = env.reset(seed=5, options={"start_angle_deg": 20.0})
    controller = HighBarSwingController(phase=phase)
    controller.reset()
    angles = []
    while True:
        obs, _, terminated, truncated, info = env.step(controller(obs))
        assert info["fall"] is None
        angles.append(info["bar_angle_rad"])
        if terminated or truncated:
            return half_swing_peaks(angles[:-1])


def test_scripted_swing_grows_swing_after_swing_and_the_inverted_phase_does_not():
    """From a 20 deg swing (default friction and bar damping), arching in the downswing and piking in the
    upswing makes every swing higher than the one before on the same side (front: positive peaks, back:
    negative), 4 swings each; the same controller with the phase inverted never swings higher than the
    start and ends clearly lower."""
    grows, damps = swing(+1), swing(-1)
    for side in (grows[grows > 0], -grows[grows < 0]):
        assert len(side) >= 4 and np.all(np.diff(side) > 0), f"in phase: {np.round(grows, 1)}"
    assert np.abs(grows[-2:]).max() > 40.0  # from 20 deg to over 40 deg in 12 s
    assert np.abs(damps[1:]).max() < 20.0 and abs(damps[-1]) < 17.0, f"inverted: {np.round(damps, 1)}"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scripted_giants_solve_the_giant_task(seed):
    """The giant task is solvable from its default start: the scripted controller completes 3 consecutive
    circles, each loading the hands with a peak of 4-7 body weights (REFERENCES B3: up to 6 in a
    preparatory swing), without losing the grip."""
    env = HighBarEnv(task="giant")
    obs, _ = env.reset(seed=seed)
    controller = HighBarSwingController()
    controller.reset()
    circles_rewarded = 0
    while True:
        obs, _, terminated, truncated, info = env.step(controller(obs))
        circles_rewarded += info["reward_circle"] > 0
        if terminated or truncated:
            break
    assert info["is_success"] and terminated and info["fall"] is None
    assert info["circles"] == 3 == circles_rewarded and len(info["peak_hand_force_bw"]) == 3
    assert all(4.0 < f < 7.0 for f in info["peak_hand_force_bw"])
    assert info["time_s"] < 7.0  # about 2 s per circle
