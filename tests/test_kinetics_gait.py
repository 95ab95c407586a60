"""Gait figures of sportsim.kinetics: the sole's slip on the floor, per-stride moment peaks and the positive
work of Winter's joints - checked against MuJoCo's own constraint velocities and against signals whose
answer is known."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from sportsim import humanoid, kinetics
from sportsim.envs.imitation import ImitationEnv


def test_slip_speed_is_mujocos_tangential_contact_velocity(standing):
    """The probe's slip speed (the foot's material point under the centre of pressure) against MuJoCo's
    own constraint-space velocities: with elliptic cones each contact has rows (normal, t1, t2) and
    ``efc_vel`` of t1, t2 is the sliding velocity along the contact frame's tangents. A rigid foot's
    velocity is affine in the point, so at the centre of pressure it is the contacts' velocities
    averaged with the centre of pressure's own weights (each contact's normal force)."""
    env = ImitationEnv(motion=str(standing), rsi=False, kinetics=True, terminate_on_tracking_error=False)
    env.model.opt.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    env.reset(seed=0)
    rng = np.random.default_rng(3)
    probe, m, d = env._kinetics, env.model, env.data
    force = np.zeros(6)
    checked = moving = 0
    for _ in range(20):
        env.step(rng.uniform(-0.6, 0.6, 28).astype(np.float32))  # push the feet around
        mujoco.mj_forward(m, d)
        probe.start(1)
        probe.sample(d)
        speed = np.hypot(*probe.result()["slip_velocity_mps"][0].T)
        for k, geom in enumerate(kinetics.FOOT_GEOMS):
            g = m.geom(geom).id
            total, weight = np.zeros(3), 0.0
            for i in range(d.ncon):
                c = d.contact[i]
                if g not in (c.geom1, c.geom2) or c.efc_address < 0:
                    continue
                mujoco.mj_contactForce(m, d, i, force)
                frame = c.frame.reshape(3, 3)
                sign = 1.0 if c.geom2 == g else -1.0  # efc_vel: geom2 relative to geom1
                vel = sign * (d.efc_vel[c.efc_address + 1] * frame[1] + d.efc_vel[c.efc_address + 2] * frame[2])
                total += force[0] * vel
                weight += force[0]
            if weight > 1.0:
                assert speed[k] == pytest.approx(float(np.hypot(*(total / weight)[:2])), rel=1e-6, abs=1e-9)
                checked += 1
                moving += speed[k] > 1e-3
    assert checked >= 20 and moving >= 5  # loaded feet, several of them sliding


def test_stance_slip_integrates_the_speed_over_each_stance():
    rate = 200.0
    fz = np.concatenate([np.zeros(50), np.ones(100), np.zeros(50), np.ones(60), np.zeros(40)])
    velocity = np.zeros((len(fz), 2))
    velocity[:, 0] = np.where(fz > 0, 0.02, 0.5)  # 20 mm/s on the floor, fast in the air (not counted)
    assert kinetics.stance_slip_mm(velocity, fz, rate, cutoff_hz=None) == pytest.approx([10.0, 6.0])
    assert kinetics.stance_slip_mm(velocity, fz, rate, cutoff_hz=None, net=True) == pytest.approx([10.0, 6.0])
    # a vibration of the loaded foot: 40 Hz back and forth, 5 mm/s drift - the filter keeps the drift
    t = np.arange(len(fz)) / rate
    velocity[:, 0] = np.where(fz > 0, 0.005 + 0.2 * np.sin(2 * np.pi * 40 * t), 0.0)
    raw = kinetics.stance_slip_mm(velocity, fz, rate, cutoff_hz=None)
    filtered = kinetics.stance_slip_mm(velocity, fz, rate)
    assert raw[0] > 50.0 and filtered[0] < 10.0
    assert kinetics.stance_slip_mm(velocity, fz, rate, cutoff_hz=None, net=True)[0] == pytest.approx(2.5, abs=0.3)


def test_stride_peaks_run_heel_strike_to_heel_strike_and_skip_the_start():
    rate = 100.0
    fz = np.zeros(500)
    for start in (50, 150, 250, 350):
        fz[start:start + 60] = 1.0
    moment = np.zeros(500)
    moment[10] = 9.0  # the start of an episode, before the first heel strike: not a stride
    for start, peak in ((50, 1.0), (150, -2.0), (250, 1.5)):
        moment[start + 20] = peak
    moment[360] = 7.0  # in the last, incomplete stride: not counted
    assert kinetics.stride_peaks(moment, fz, rate) == pytest.approx([1.0, 2.0, 1.5])
    # each peak 20 samples after a heel strike, strides of 100 samples: at 20 % of the stride
    assert kinetics.stride_peak_phases(moment, fz, rate) == pytest.approx([20.0, 20.0, 20.0])
    moment[150 + 20] = 0.0
    moment[150 + 70] = -2.0  # in the swing of the second stride
    assert kinetics.stride_peak_phases(moment, fz, rate) == pytest.approx([20.0, 70.0, 20.0])


def test_a_scuff_of_the_swinging_foot_is_no_stance():
    """A swinging toe touching the floor for 0.04 s (the v5 walk's right foot does, 0.04 s after each toe-off)
    neither counts as a stance - its slide would enter the slip median - nor opens a stride."""
    rate = 100.0
    fz = np.zeros(500)
    for start in (50, 150, 250, 350):
        fz[start:start + 60] = 1.0
        fz[start + 64:start + 68] = 0.5  # the scuff
    velocity = np.where(fz[:, None] > 0, [0.1, 0.0], 0.0)  # 100 mm/s on the floor
    assert kinetics.brief_contacts(fz, rate) == 4
    assert kinetics.gait_stances(fz, rate) == [(50, 110), (150, 210), (250, 310), (350, 410)]
    assert kinetics.stance_slip_mm(velocity, fz, rate, cutoff_hz=None) == pytest.approx([60.0] * 4)
    moment = np.zeros(500)
    for start, peak in ((50, 1.0), (150, -2.0), (250, 1.5)):
        moment[start + 20] = peak
    assert kinetics.stride_peaks(moment, fz, rate) == pytest.approx([1.0, 2.0, 1.5])
    # a scuff-length stance counts where asked for
    assert len(kinetics.stance_slip_mm(velocity, fz, rate, cutoff_hz=None, min_stance_s=0.0)) == 8


def test_summary_sums_winters_joints_apart_from_the_rest():
    names = humanoid.ACTUATOR_NAMES
    n, rate = 400, 100.0
    power = np.zeros((n, len(names)))
    power[:, names.index("right_knee")] = 2.0
    power[:, names.index("left_shoulder_x")] = 3.0
    power[:, names.index("right_ankle_y")] = -1.0  # negative work: not counted
    series = {"grf_bw": np.zeros((n, 2, 3)), "moment_nm_per_kg": np.zeros((n, len(names))), "power_w_per_kg": power,
              "slip_velocity_mps": np.zeros((n, 2, 2))}
    out = kinetics.summary(series, rate, names, distance_m=4.0)
    assert out["positive_work_j_per_kg"] == pytest.approx(20.0)
    assert out["positive_work_sagittal_legs_j_per_kg"] == pytest.approx(8.0)
    assert out["positive_work_sagittal_legs_j_per_kg_m"] == pytest.approx(2.0)


def test_summary_places_the_stride_peak_of_the_leg_it_reports():
    """Strides of 1 s, stance 0.6 s; the right knee peaks (1.6 N m/kg) at 35 % of its strides, the left
    (1.0) at 15 %: the summary reports the right leg's median peak and where it falls."""
    names = humanoid.ACTUATOR_NAMES
    rate, n = 200.0, 1200
    t = np.arange(n) / rate
    grf = np.zeros((n, 2, 3))
    moment = np.zeros((n, len(names)))
    for k, (side, offset, peak, at) in enumerate((("right", 0.1, 1.6, 0.35), ("left", 0.6, 1.0, 0.15))):
        phase = (t - offset) % 1.0
        grf[:, k, 2] = np.where((t >= offset) & (phase < 0.6), 1.0, 0.0)
        moment[:, names.index(f"{side}_knee")] = peak * np.exp(-((phase - at) / 0.06) ** 2)  # smooth: the 15 Hz filter keeps it
    series = {"grf_bw": grf, "moment_nm_per_kg": moment, "power_w_per_kg": np.zeros((n, len(names)))}
    out = kinetics.summary(series, rate, names)
    assert out["stride_peak_knee_moment_nm_per_kg"] == pytest.approx(1.6, abs=0.05)
    assert out["stride_peak_knee_moment_pct_stride"] == pytest.approx(35.0, abs=3.0)


def test_jump_figures_split_take_off_and_landing_at_the_flight():
    names = humanoid.ACTUATOR_NAMES
    rate, n = 200.0, 400
    t = np.arange(n) / rate
    fz = np.where(t < 0.8, 1.0 + 1.2 * np.exp(-((t - 0.6) / 0.05) ** 2), 0.0)  # take-off push to 2.2 BW
    fz = np.where(t >= 1.2, 1.0 + 2.5 * np.exp(-((t - 1.3) / 0.03) ** 2), fz)  # landing to 3.5 BW
    grf = np.zeros((n, 2, 3))
    grf[:, 0, 2] = grf[:, 1, 2] = fz / 2
    moment = np.zeros((n, len(names)))
    moment[:, names.index("left_knee")] = np.where(t < 0.8, 1.5, 0.0) + np.where(t >= 1.2, 2.5, 0.0)
    out = kinetics.jump_figures({"grf_bw": grf, "moment_nm_per_kg": moment}, rate, names)
    assert out["flight_s"] == pytest.approx(0.4, abs=0.05)  # the 15 Hz filter rounds the edges by ~20 ms each
    assert out["takeoff_peak_grf_bw"] == pytest.approx(2.2, abs=0.1)
    assert out["landing_peak_grf_bw"] == pytest.approx(3.5, abs=0.35)  # a 30 ms impact, filtered at 15 Hz
    assert out["takeoff_peak_knee_moment_nm_per_kg"] == pytest.approx(1.5, abs=0.1)  # Butterworth overshoot at a step
    assert out["landing_peak_knee_moment_nm_per_kg"] == pytest.approx(2.5, abs=0.15)
    walking = {"grf_bw": np.tile([[[0, 0, 0.5]]], (n, 2, 1)), "moment_nm_per_kg": moment}
    assert kinetics.jump_figures(walking, rate, names) == {}


def test_filtered_power_leaves_servo_vibration_out_of_the_work() -> None:
    """A joint whose moment and velocity vibrate together at 40 Hz on top of a 1 Hz movement: the raw power
    integrates the vibration's in-phase product as positive work, the filtered power (moment and velocity
    low-passed first, as gait laboratories compute it) gives the movement's own work."""
    rate = 480.0
    t = np.arange(0.0, 4.0, 1.0 / rate)
    moment, velocity = np.sin(2 * np.pi * t), np.sin(2 * np.pi * t)
    vib = 0.5 * np.sin(2 * np.pi * 40.0 * t)
    smooth_work = kinetics.positive_work_j_per_kg(moment * velocity, rate)
    raw_work = kinetics.positive_work_j_per_kg((moment + vib) * (velocity + vib), rate)
    filtered_work = kinetics.positive_work_j_per_kg(kinetics.filtered_power(moment + vib, velocity + vib, rate), rate)
    assert raw_work > 1.2 * smooth_work
    assert abs(filtered_work - smooth_work) < 0.03 * smooth_work
