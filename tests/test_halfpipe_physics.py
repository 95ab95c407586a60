"""HalfPipe-v0 checked against physics: energy, friction, pumping, the exact surface, the lip.

Tolerances are stated next to each check.
"""

from __future__ import annotations

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import sportsim  # noqa: F401
from sportsim.controllers import HalfPipePumpController
from sportsim.envs.halfpipe_v0 import HalfPipeEnv

ENV_ID = "sportsim/HalfPipe-v0"
CONTROL_HZ = 25


def passive_rider_env(pipe: str, energy_frac: float, **kwargs) -> HalfPipeEnv:
    """A rider holding one stance with rigid legs (leg joint locked, servo off), energy bookkeeping on."""
    env = gym.make(ENV_ID, pipe=pipe, start_energy_frac=(energy_frac, energy_frac), bail_load_bw=1e9,
                   episode_time_s=60.0, **kwargs).unwrapped
    env.reset(seed=11)
    m, d = env.model, env.data
    leg = m.joint("leg")
    length = d.qpos[leg.qposadr[0]]
    m.jnt_range[leg.id] = [length - 1e-4, length + 1e-4]
    m.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_ACTUATION
    m.opt.enableflags |= mujoco.mjtEnableBit.mjENBL_ENERGY
    mujoco.mj_forward(m, d)
    return env


def energy_trace(env: HalfPipeEnv, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    d = env.data
    energy, height = [d.energy.sum()], [env.data.sensordata[env._s_board_pos + 2]]
    for _ in range(int(seconds * CONTROL_HZ)):
        _, _, terminated, _, info = env.step(np.zeros(1, dtype=np.float32))
        assert not terminated, info
        energy.append(d.energy.sum())
        height.append(info["board_height_m"])
    return np.array(energy), np.array(height)


@pytest.mark.parametrize("pipe, energy_frac", [("mini", 0.5), ("vert", 0.6), ("superpipe", 0.5)])
def test_frictionless_passive_rider_conserves_energy(pipe, energy_frac):
    """No friction, no drag: total mechanical energy stays within 0.5 % over 20 s of oscillation."""
    env = passive_rider_env(pipe, energy_frac, rolling_resistance=0.0, drag_area_m2=0.0)
    energy, height = energy_trace(env, 20.0)
    assert height.max() > 0.4 * energy_frac * env.pipe.height_m, "the rider must actually oscillate"
    drift = np.abs(energy - energy[0]).max() / energy[0]
    assert drift < 0.005, f"energy drift {drift:.4%} over 20 s"


@pytest.mark.parametrize("surface", ["skateboard", "snowboard"])
def test_friction_and_drag_only_remove_energy(surface):
    """With rolling resistance/snow friction and drag the energy never rises (beyond 0.05 % of the
    start, the elastic energy the soft surface constraint holds) and ends clearly lower."""
    env = passive_rider_env("mini", 0.5, surface=surface)
    energy, _ = energy_trace(env, 20.0)
    rises = np.diff(energy)
    assert rises.max() < 5e-4 * energy[0], f"energy rose by {rises.max():.3f} J in one step"
    assert energy[-1] < energy[0] - 0.02 * energy[0]


def apex_heights(heights: np.ndarray, floor_m: float = 0.02) -> np.ndarray:
    """Board heights at the turning points (local maxima above the flat)."""
    h = heights
    idx = [i for i in range(1, len(h) - 1) if h[i] >= h[i - 1] and h[i] > h[i + 1] and h[i] > floor_m]
    return h[idx]


def pump(phase: int, seed: int, seconds: float, stop_above_m: float = math.inf,
         **kwargs) -> tuple[np.ndarray, dict]:
    """Run the scripted pumper; once the board has been above ``stop_above_m`` the rider just holds."""
    env = gym.make(ENV_ID, episode_time_s=seconds, **kwargs)
    obs, info = env.reset(seed=seed)
    controller = HalfPipePumpController(env.unwrapped.coping_height_m, phase=phase, crouch_at=0.8)
    heights = [info["board_height_m"]]
    for _ in range(int(seconds * CONTROL_HZ)):
        hold = max(heights) > stop_above_m
        obs, _, terminated, truncated, info = env.step(np.zeros(1, np.float32) if hold else controller(obs))
        heights.append(info["board_height_m"])
        if terminated or truncated:
            break
    return np.array(heights), info


def test_pumping_in_phase_gains_height_every_cycle_and_anti_phase_loses():
    gains, _ = pump(+1, seed=2, seconds=8.0, start_energy_frac=(0.1, 0.1))
    losses, _ = pump(-1, seed=2, seconds=8.0, start_energy_frac=(0.1, 0.1))
    up, down = apex_heights(gains), apex_heights(losses)
    assert len(up) >= 3 and len(down) >= 2
    assert np.all(np.diff(up) > 0), f"in-phase apexes {np.round(up, 3)}"
    assert np.all(np.diff(down) < 0), f"anti-phase apexes {np.round(down, 3)}"


@pytest.mark.parametrize("pipe, seconds", [("mini", 30.0), ("vert", 60.0)])
def test_scripted_pumping_reaches_the_coping(pipe, seconds):
    """The task is solvable from the default start distribution."""
    for seed in range(3):
        heights, info = pump(+1, seed=seed, seconds=seconds, pipe=pipe)
        assert info["is_success"], f"{pipe} seed {seed}: best height {heights.max():.2f} m"
        assert info["fall"] is None


def surface_gap_m(env: HalfPipeEnv, x: float, z: float) -> float:
    """Distance of a point inside the pipe from the analytic profile (0 on the surface)."""
    p = env.pipe
    half, r = p.flat_width_m / 2, p.transition_radius_m
    if abs(x) <= half:
        return z if z <= r else min(z, abs(x) - half - r)  # flat bottom
    cx = math.copysign(half, x)
    if z <= r:
        return r - math.hypot(x - cx, z - r)  # circular transition
    return half + r - abs(x)  # vertical wall


def test_board_rolls_on_the_exact_profile():
    """While loaded, the board's contact point lies on the analytic flat/circle/wall profile within
    1 mm and its pitch equals the profile's slope within 0.1 deg - no facets, no bumps."""
    env = gym.make(ENV_ID, pipe="vert", start_energy_frac=(0.9, 0.9), episode_time_s=60).unwrapped
    env.reset(seed=0)
    checked = 0
    for _ in range(15 * CONTROL_HZ):
        env.step(np.zeros(1, dtype=np.float32))
        if env.data.sensordata[env._s_load] < 0.3 * env.body_weight_n:
            continue  # unloaded: the board may be airborne
        x, _, z = env.data.sensordata[env._s_board_pos:env._s_board_pos + 3]
        assert abs(surface_gap_m(env, x, z)) < 1e-3, (x, z)
        half, r = env.pipe.flat_width_m / 2, env.pipe.transition_radius_m
        if abs(x) > half and z < r:
            slope = math.atan2(abs(x) - half, r - z)  # angle of the circle's normal from vertical
            assert abs(abs(env.data.sensordata[env._s_pitch]) - slope) < math.radians(0.1)
        checked += 1
    assert checked > 200


def test_board_leaves_a_vertical_lip_and_lands_back():
    """On a vert ramp (vertical coping) with success not ending the episode, a strong pumper flies
    above the coping and comes back onto the wall without falling."""
    coping = 3.35
    heights, info = pump(+1, seed=1, seconds=60.0, stop_above_m=coping, pipe="vert", terminate_on_success=False)
    above = heights > coping
    assert above.any(), f"best height {heights.max():.2f} m"
    first_air = int(np.argmax(above))
    assert (heights[first_air:] < coping - 0.5).any(), "never came back down into the pipe"
    assert info["fall"] is None


def test_leg_limits_are_respected():
    """Stroke, force and speed limits of the legs hold under any command."""
    env = gym.make(ENV_ID).unwrapped
    env.reset(seed=0)
    lo, hi = env._stroke
    rng = np.random.default_rng(0)
    for _ in range(500):
        env.step(rng.choice([-1.0, 1.0], size=1).astype(np.float32))
        assert lo - 1e-9 <= env.data.act[0] <= hi + 1e-9
        assert -1e-6 <= env.data.actuator_force[0] <= env.rider.max_push_n + 1e-6
        assert abs(env.data.ctrl[0]) <= env.rider.max_speed_mps + 1e-9


def test_air_drag_coast_down_matches_the_quadratic_drag_law():
    """Coasting on a long flat with drag only (no rolling resistance): m dv/dt = -1/2 rho C_D A v^2, so
    v(t) = v0 / (1 + k v0 t) with k = rho C_D A / (2 m). Speed after 4 s within 1 % of the law."""
    env = passive_rider_env("mini", 1.0, flat_width_m=100.0, rolling_resistance=0.0, drag_area_m2=0.6)
    v0 = abs(env.data.sensordata[env._s_com_vel])
    assert v0 > 4.0
    for _ in range(4 * CONTROL_HZ):
        env.step(np.zeros(1, dtype=np.float32))
    k = 1.2 * 0.6 / (2 * env.total_mass_kg)
    expected = v0 / (1 + k * v0 * 4.0)
    speed = float(np.linalg.norm(env.data.sensordata[env._s_com_vel:env._s_com_vel + 3]))
    assert speed == pytest.approx(expected, rel=0.01)
    assert speed < v0 * 0.95  # drag really acted
