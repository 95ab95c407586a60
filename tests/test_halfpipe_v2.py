"""HalfPipe-v2 (issue 16): the body's rotation in the dynamics, a board with a wheelbase, force-tracking legs and
the reduced-coordinate integration, checked against physics: energy, the rotation's energy, the exact
profile, pumping, friction and drag. Tolerances next to each check."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sportsim  # noqa: F401  (registers the envs)
from sportsim.controllers import HalfPipePumpController
from sportsim.envs import halfpipe_params as hp
from sportsim.envs.halfpipe import HalfPipeEnv
from sportsim.envs.halfpipe_v2 import HalfPipeV2Env
from sportsim.errors import ConfigError

ENV_ID = "sportsim/HalfPipe-v2"
CONTROL_HZ = 25


def test_registration_check_env_determinism_and_reward_terms():
    env = HalfPipeV2Env()
    check_env(env, skip_render_check=True)
    runs = []
    for _ in range(2):
        obs, _ = env.reset(seed=5)
        rng = np.random.default_rng(1)
        seq = [obs]
        for _ in range(150):
            obs, reward, term, trunc, info = env.step(rng.uniform(-1, 1, 1).astype(np.float32))
            assert reward == pytest.approx(sum(v for k, v in info.items() if k.startswith("reward_")), abs=1e-12)
            assert info["leg_power_w_per_kg"] >= 0.0 and np.all(np.isfinite(obs))
            assert env.dynamics.integrated_s == pytest.approx(env.control_dt_s, abs=1e-12)
            seq.append(obs)
            if term or trunc:
                break
        runs.append(np.array(seq))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert type(gym.make(ENV_ID).unwrapped) is HalfPipeV2Env
    assert type(gym.make("sportsim/HalfPipe-v1").unwrapped) is HalfPipeEnv  # v1 stays for its zoo entries


@pytest.mark.parametrize("kwargs, message", [
    ({"rider_inertia_kgm2": 9.0}, "rider_inertia_kgm2 is a HalfPipe-v1 argument"),
    ({"wheelbase_m": 0.01}, "wheelbase_m=0.01"),
    ({"wheelbase_m": 3.0, "pipe": "mini"}, "wheelbase_m=3.0"),
    ({"physics_dt_s": 0.03}, "not a multiple"),
])
def test_bad_arguments_raise_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        HalfPipeV2Env(**kwargs)


def passive(pipe: str, energy_frac: float = 0.5, **kwargs) -> HalfPipeV2Env:
    """A rider holding one stance with rigid legs; no friction or drag unless given."""
    kw = {"rolling_resistance": 0.0, "drag_area_m2": 0.0, "terminate_on_success": pipe == "mini", **kwargs}
    env = HalfPipeV2Env(pipe=pipe, start_energy_frac=(energy_frac, energy_frac), bail_load_bw=1e9,
                        episode_time_s=120.0, **kw)
    env.reset(seed=11)
    env.dynamics.legs_locked = True
    return env


def trace(env: HalfPipeV2Env, seconds: float) -> tuple[np.ndarray, list[dict]]:
    energy, infos = [env.dynamics.kinematics()["energy_j"]], []
    for _ in range(int(seconds * CONTROL_HZ)):
        _, _, term, _, info = env.step(np.zeros(1, dtype=np.float32))
        assert not term, info
        energy.append(env.dynamics.kinematics()["energy_j"])
        infos.append(info)
    return np.array(energy), infos


@pytest.mark.parametrize("pipe, energy_frac", [("mini", 0.3), ("mini", 0.5), ("vert", 0.6), ("vert", 1.0),
                                               ("superpipe", 0.5)])
def test_frictionless_rider_with_a_turning_body_conserves_energy(pipe, energy_frac):
    """Issue 16's bound with the body's rotation in the dynamics: all the mechanical energy (rider translation
    and rotation, board) within 0.5 % over 20 s, through ~10-20 junction crossings (v1's point contact with
    the body's inertia lost a third in 20 s: test_halfpipe_v1.py); the vert case at 1.0 flies above the
    coping along the wall's line and lands back. Measured: <= 0.15 %."""
    env = passive(pipe, energy_frac)
    energy, infos = trace(env, 20.0)
    heights = np.array([i["board_height_m"] for i in infos])
    assert heights.max() > 0.5 * energy_frac * env.pipe.height_m, "the rider must actually oscillate"
    drift = np.abs(energy - energy[0]).max() / energy[0]
    assert drift < 0.005, f"energy drift {drift:.4%} over 20 s"


def test_body_rotation_carries_its_kinetic_energy():
    """On a transition (the whole wheelbase on the circle) the body turns at omega = v / r, v the board's speed
    along the surface and r the transition radius, and carries 1/2 I omega^2 with I the de Leva inertia at
    the current crouch (computed here independently). omega is also read off the board's pitch between
    steps; the rotation's share of the kinetic energy follows from the CoM's circle."""
    env = passive("vert", 0.7)
    r, half = env.pipe.transition_radius_m, env.wheelbase_m / 2
    a = env.pipe.flat_width_m / 2
    checked = 0
    prev = None
    for _ in range(10 * CONTROL_HZ):
        obs, _, _, _, info = env.step(np.zeros(1, dtype=np.float32))
        dyn = env.dynamics
        x = abs(dyn.s)
        pitch = math.atan2(obs[2], obs[3])
        on_circle = a + half + 0.05 < x < a + r * math.pi / 2 - half - 0.05
        if on_circle and prev is not None and prev[1]:
            v = abs(dyn.ds)
            crouch = env._stroke[1] - dyn.l
            inertia = hp.body_pitch_inertia_kgm2(env.rider.height_m, env.rider.mass_kg, env.rider.sex, crouch)
            assert abs(info["body_pitch_rate_radps"]) == pytest.approx(v / r, rel=1e-9)
            assert info["rotation_energy_j"] == pytest.approx(0.5 * inertia * (v / r) ** 2, rel=2e-3)
            # the pitch change over the last step (both ends on the circle) against the arc travelled
            assert abs(pitch - prev[0]) == pytest.approx(abs(dyn.s - prev[2]) / r, rel=1e-6)
            # the CoM circles the same centre at radius r - l with the same rate: its share of the kinetic
            # energy is I / (I + m (r - l)^2) (~3 % here, ~10 % on the mini ramp's 2.08 m transition)
            kin = dyn.kinematics()
            translation = 0.5 * env.rider.mass_kg * (kin["com_vx"] ** 2 + kin["com_vz"] ** 2)
            share = info["rotation_energy_j"] / (translation + info["rotation_energy_j"])
            assert share == pytest.approx(inertia / (inertia + env.rider.mass_kg * (r - dyn.l) ** 2), rel=3e-3)
            checked += 1
        prev = (pitch, on_circle, dyn.s)
    assert checked > 20


def test_rotation_slows_the_swing():
    """The body's inertia is in the dynamics: the same passive rider swings more slowly with it (period of the
    oscillation measured between turning points), by a few per cent on the mini ramp."""
    periods = []
    for inertia_scale in (1.0, 1e-6):
        env = passive("mini", 0.5)
        c0, c1, c2 = env.dynamics.p.inertia_coef
        env.dynamics.p.inertia_coef = (c0 * inertia_scale, c1 * inertia_scale, c2 * inertia_scale)
        env.dynamics.p.board_inertia_kgm2 *= inertia_scale
        env.dynamics.refresh()
        xs = []
        for _ in range(12 * CONTROL_HZ):
            env.step(np.zeros(1, dtype=np.float32))
            xs.append(env.dynamics.ds)
        sign_changes = [i for i in range(1, len(xs)) if xs[i - 1] > 0 >= xs[i]]
        periods.append((sign_changes[-1] - sign_changes[0]) / (len(sign_changes) - 1) / CONTROL_HZ)
    assert periods[0] > 1.02 * periods[1]


def surface_gap_m(env: HalfPipeV2Env, x: float, z: float) -> float:
    """Distance of a point inside the pipe from the analytic flat/circle/wall profile (0 on the surface)."""
    p = env.pipe
    half, r = p.flat_width_m / 2, p.transition_radius_m
    if abs(x) <= half:
        return z
    if z <= r:
        return r - math.hypot(abs(x) - half, z - r)
    return half + r - abs(x)


def profile_angle(env: HalfPipeV2Env, x: float, z: float) -> float:
    """Surface angle (rad, + rising towards +x) of the analytic profile at its point (x, z)."""
    half, r = env.pipe.flat_width_m / 2, env.pipe.transition_radius_m
    if abs(x) <= half:
        return 0.0
    angle = math.pi / 2 if z > r else math.atan2(abs(x) - half, r - z)
    return math.copysign(angle, x)


def test_board_rolls_on_the_exact_profile_with_the_pitch_of_its_wheelbase():
    """The point under the board's middle lies on the analytic flat/circle/wall profile within 1 mm; the board's
    pitch equals the profile's slope within 0.1 deg wherever the whole wheelbase is on one piece, and the mean
    slope under the wheelbase (numerical quadrature of the profile here) within 0.1 deg everywhere; it differs
    from the chord through two wheels on the profile by < 0.3 deg."""
    env = HalfPipeV2Env(pipe="vert", start_energy_frac=(0.9, 0.9), episode_time_s=60.0)
    env.reset(seed=0)
    dyn = env.dynamics
    half = env.wheelbase_m / 2
    checked = junction = 0
    for _ in range(15 * CONTROL_HZ):
        obs, _, _, _, _ = env.step(np.zeros(1, dtype=np.float32))
        x, z = float(obs[0]), float(obs[1])
        assert abs(surface_gap_m(env, x, z)) < 1e-3, (x, z)
        pitch = -math.atan2(obs[2], obs[3])  # v1's sign convention in the observation
        ends = [dyn.point(dyn.s + d) for d in np.linspace(-half, half, 401)]
        angles = [profile_angle(env, *p) for p in ends]
        mean_slope = float(np.trapezoid(angles, dx=1.0) / (len(angles) - 1))
        assert pitch == pytest.approx(mean_slope, abs=math.radians(0.1))
        if abs(angles[0] - angles[-1]) < 1e-12:
            assert pitch == pytest.approx(profile_angle(env, x, z), abs=math.radians(0.1))
        else:
            junction += 1
            rear, front = dyn.point(dyn.s - half), dyn.point(dyn.s + half)
            # the chord through two wheels on the profile a wheelbase apart, near the board's ends
            chord = math.atan2(front[1] - rear[1], front[0] - rear[0])
            assert abs(chord - pitch) < math.radians(0.3)
        checked += 1
    assert checked > 300 and junction > 10


def test_held_legs_lose_no_energy():
    """v0's servo lost 0.21 m of energy height in 30 s with the legs held (friction and drag off), v1's 0.026 m;
    v2's legs track the target with the force the load needs, so holding does no work: < 2 mm."""
    env = HalfPipeV2Env(pipe="mini", rolling_resistance=0.0, drag_area_m2=0.0, episode_time_s=30.0,
                        start_energy_frac=(0.5, 0.5), bail_load_bw=1e9)
    env.reset(seed=0)
    start = env._energy_height
    for _ in range(30 * CONTROL_HZ):
        _, _, term, _, info = env.step(np.zeros(1, dtype=np.float32))
        assert not term, info
    assert abs(start - env._energy_height) < 0.002


def test_the_legs_work_is_the_energy_the_rider_gains():
    """Work-energy theorem with the legs moving (friction and drag off): over every control step the change of
    all the mechanical energy - the body's rotation with its crouch-dependent inertia included - equals the
    legs' work, negative parts included, within 0.5 J (steps where the legs land on their stop, an inelastic
    impact, are left out; the scripted pumper stays off it). Over 20 s of pumping the energy rises by
    hundreds of joules."""
    env = HalfPipeV2Env(pipe="vert", rolling_resistance=0.0, drag_area_m2=0.0, episode_time_s=20.0,
                        start_energy_frac=(0.1, 0.1))
    obs, _ = env.reset(seed=4)
    controller = HalfPipePumpController(env.coping_height_m, crouch_at=0.8)
    dyn = env.dynamics
    energy = dyn.kinematics()["energy_j"]
    start, checked, total_work = energy, 0, 0.0
    while True:
        obs, _, term, trunc, _ = env.step(controller(obs))
        now = dyn.kinematics()["energy_j"]
        total_work += dyn.net_work_j
        if dyn.l > dyn.p.stop_m + 1e-9:
            assert now - energy == pytest.approx(dyn.net_work_j, abs=0.5)
            checked += 1
        energy = now
        if term or trunc:
            break
    assert checked > 400 and energy - start > 300.0
    # and the errors do not add up to a gain (measured: 1.7 J of ~1,800 J over 20 s)
    assert abs(energy - start - total_work) < 0.005 * (energy - start)


def pump(phase: int, seed: int, seconds: float, **kwargs) -> tuple[np.ndarray, dict]:
    """Run the scripted pumper; every control step integrates exactly the control period, and the legs'
    mean power over it stays under their force-velocity limit F0 v0 / 4 per kg."""
    env = gym.make(ENV_ID, episode_time_s=seconds, **kwargs)
    obs, info = env.reset(seed=seed)
    u = env.unwrapped
    power_limit = u.rider.max_push_n * u.leg_max_velocity_mps / 4 / u.rider.mass_kg
    controller = HalfPipePumpController(u.coping_height_m, phase=phase, crouch_at=0.8)
    heights = [info["board_height_m"]]
    while True:
        obs, _, terminated, truncated, info = env.step(controller(obs))
        assert u.dynamics.integrated_s == pytest.approx(u.control_dt_s, abs=1e-12)
        assert info["leg_power_w_per_kg"] <= power_limit + 1e-9
        heights.append(info["board_height_m"])
        if terminated or truncated:
            return np.array(heights), info


def apex_heights(h: np.ndarray, floor_m: float = 0.02) -> np.ndarray:
    return h[[i for i in range(1, len(h) - 1) if h[i] >= h[i - 1] and h[i] > h[i + 1] and h[i] > floor_m]]


def test_pumping_in_phase_gains_and_anti_phase_loses():
    up = apex_heights(pump(+1, seed=2, seconds=8.0, start_energy_frac=(0.1, 0.1))[0])
    down = apex_heights(pump(-1, seed=2, seconds=8.0, start_energy_frac=(0.3, 0.3))[0])
    assert len(up) >= 3 and len(down) >= 2
    assert np.all(np.diff(up) > 0), f"in-phase apexes {np.round(up, 3)}"
    assert np.all(np.diff(down) < 0), f"anti-phase apexes {np.round(down, 3)}"


@pytest.mark.parametrize("pipe, seconds", [("mini", 30.0), ("vert", 60.0)])
def test_scripted_pumping_reaches_the_coping_within_the_power_limit(pipe, seconds):
    """The task is solvable, and the legs never exceed F0 v0 / 4 (30.7 W/kg for the reference male: the
    force-velocity limit F <= F0 (1 - v / v0) is applied at every RK4 stage)."""
    for seed in range(2):
        heights, info = pump(+1, seed=seed, seconds=seconds, pipe=pipe)
        assert info["is_success"], f"{pipe} seed {seed}: best height {heights.max():.2f} m"
        assert info["fall"] is None
        assert 10.0 < info["peak_leg_power_w_per_kg"] <= 30.72


@pytest.mark.parametrize("surface", ["skateboard", "snowboard"])
def test_friction_and_drag_only_remove_energy(surface):
    env = passive("mini", 0.5, surface=surface, rolling_resistance=None, drag_area_m2=None)
    energy, _ = trace(env, 20.0)
    assert np.diff(energy).max() < 1e-6 * energy[0]
    assert energy[-1] < 0.98 * energy[0]


def test_air_drag_coast_down_matches_the_quadratic_drag_law():
    """Coasting on a long flat with drag only: m_total dv/dt = -1/2 rho C_D A v^2, so v(t) = v0 / (1 + k v0 t),
    k = rho C_D A / (2 m_total). Speed after 4 s within 0.1 % of the law."""
    env = passive("mini", 1.0, flat_width_m=100.0, drag_area_m2=0.6)
    v0 = abs(env.dynamics.ds)
    for _ in range(4 * CONTROL_HZ):
        env.step(np.zeros(1, dtype=np.float32))
    k = 1.2 * 0.6 / (2 * env.total_mass_kg)
    assert abs(env.dynamics.ds) == pytest.approx(v0 / (1 + k * v0 * 4.0), rel=1e-3)


def test_render_poses_v1s_model_at_v2s_state(monkeypatch):
    """The frame is drawn from v1's model posed so that its board point and rider CoM are v2's."""
    env = HalfPipeV2Env(pipe="vert", start_energy_frac=(0.8, 0.8))
    env.reset(seed=3)
    for _ in range(40):
        env.step(np.ones(1, dtype=np.float32))
    captured = {}
    monkeypatch.setattr(env._renderer, "render", lambda data: captured.setdefault("data", data))
    env.render_mode = "rgb_array"
    env.render()
    import mujoco
    d = captured["data"]
    mujoco.mj_kinematics(env.model, d)
    kin = env.dynamics.kinematics()
    np.testing.assert_allclose(d.site("contact").xpos[[0, 2]], [kin["board_x"], kin["board_z"]], atol=1e-9)
    np.testing.assert_allclose(d.site("com").xpos[[0, 2]], [kin["com_x"], kin["com_z"]], atol=1e-9)
