"""HighBar-v1 (issue 16): gymnast strength curves, passive ranges, the grip moment, the sport's giant and
handstand definitions, physics errors. Literature values and their sources are next to each check;
sportsim.strength's own table is tested in test_strength.py."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sportsim  # noqa: F401  (registers the envs)
from sportsim import strength
from sportsim.envs import highbar_params as hp
from sportsim.envs.highbar import TASKS, HighBarEnv
from sportsim.errors import ConfigError

ENV_ID = "sportsim/HighBar-v1"


@pytest.mark.parametrize("task", TASKS)
def test_check_env_determinism_and_reward_terms(task):
    env = HighBarEnv(task=task)
    check_env(env, skip_render_check=True)
    assert env.action_space.shape == (3,) and env.observation_space.shape == (14,)
    rollouts = []
    for _ in range(2):
        obs, _ = env.reset(seed=3)
        rng = np.random.default_rng(0)
        seq = [obs]
        for _ in range(60):
            obs, reward, term, trunc, info = env.step(rng.uniform(-1, 1, 3).astype(np.float32))
            terms = sum(v for k, v in info.items() if k.startswith("reward_"))
            assert reward == pytest.approx(terms, abs=1e-12) and np.all(np.isfinite(obs))
            seq.append(obs)
            if term or trunc:
                break
        rollouts.append(np.array(seq))
    np.testing.assert_array_equal(rollouts[0], rollouts[1])


def test_registered_next_to_the_frozen_v0():
    from sportsim.envs import highbar_v0

    assert isinstance(gym.make(ENV_ID).unwrapped, HighBarEnv)
    assert isinstance(gym.make("sportsim/HighBar-v0").unwrapped, highbar_v0.HighBarEnv)
    assert gym.make("sportsim/HighBar-v0").action_space.shape == (2,)


def _set(env: HighBarEnv, shoulder: float, hip: float, shoulder_rate: float = 0.0, hip_rate: float = 0.0) -> None:
    d = env.data
    d.qpos[env._q["shoulder"]], d.qpos[env._q["hip"]] = shoulder, hip
    d.qvel[env._v["shoulder"]], d.qvel[env._v["hip"]] = shoulder_rate, hip_rate


def test_joint_torques_follow_the_gymnast_curves():
    """Both sides of Jackson's gymnast (sportsim.strength) scaled by 73 / 69.6 kg: the motor gets the
    activation times the curve at the current angle and rate, plus the passive torque."""
    env = HighBarEnv()
    env.reset(seed=0)
    k = 2.0 * 73.0 / 69.6
    hip_flex, sh_ext = strength.curve("hip", "flexion"), strength.curve("shoulder", "extension")
    _set(env, shoulder=0.3, hip=0.5, shoulder_rate=2.0, hip_rate=3.0)
    env._apply_torques(1.0, 1.0)
    assert env._torque[1] == pytest.approx(k * hip_flex.peak_torque_nm(0.5, 3.0))
    assert env._torque[0] == pytest.approx(k * sh_ext.peak_torque_nm(math.pi - 0.3, 2.0))
    assert env.data.ctrl[env._act["hip"]] == pytest.approx(env._torque[1] + env._passive[1])
    # issue 16: v0's hip gave +300 N m at 13.5 rad/s; the gymnast's hip flexors give nothing at 9.2 rad/s
    _set(env, shoulder=0.0, hip=0.5, hip_rate=13.5)
    env._apply_torques(0.0, 1.0)
    assert env._torque[1] == 0.0
    # isometric hip flexion at its optimum (0.733 rad): 2 x 157.3 N m x 73/69.6 = 330 N m
    _set(env, shoulder=0.0, hip=hip_flex.active_angle_rad)
    env._apply_torques(0.0, 1.0)
    assert env._torque[1] == pytest.approx(k * 157.293)


def test_passive_ranges_replace_the_stops():
    """Passive torques reach the isometric torque at the data set's range ends: shoulder flexors at 60 deg of
    extension (model +240 deg, v0's closing limit), hip flexors at 29.5 deg of arch (v0: 30 deg), hip
    extensors (shifted) at v0's 125 deg pike limit [REFERENCES C2, E2]."""
    env = HighBarEnv()
    env.reset(seed=0)
    k = 2.0 * 73.0 / 69.6
    assert env.model.jnt_limited[env.model.joint("shoulder").id] == 0
    assert env.model.jnt_limited[env.model.joint("hip").id] == 0
    _set(env, shoulder=math.radians(240.0), hip=math.radians(-29.518))
    env._apply_torques(0.0, 0.0)
    assert env._passive[0] == pytest.approx(-k * 91.1388, rel=1e-3)
    assert env._passive[1] == pytest.approx(k * 157.293, rel=1e-3)
    _set(env, shoulder=0.3, hip=math.radians(125.0))
    env._apply_torques(0.0, 0.0)
    assert env._passive[1] == pytest.approx(-k * 175.746, rel=1e-3)
    # inside the range the joints are slack (straight hip: no passive torque)
    _set(env, shoulder=0.5, hip=0.0)
    env._apply_torques(0.0, 0.0)
    assert env._passive == (0.0, 0.0)


def test_grip_moment_is_the_decided_041_n_m_per_kg():
    env = HighBarEnv()
    env.reset(seed=0)
    env.step(np.array([0.0, 0.0, 1.0], dtype=np.float32))
    assert env.data.ctrl[env._act["grip"]] == pytest.approx(0.41 * 73.0)
    assert HighBarEnv(gymnast_mass_kg=60.0).grip_moment_nm == pytest.approx(0.41 * 60.0)
    with pytest.raises(ConfigError, match="grip_moment_nm"):
        HighBarEnv(grip_moment_nm=-1.0)


def _balance(env: HighBarEnv, lean_deg: float, seconds: float = 2.0) -> float:
    """Hold a straight handstand with the grip moment (PD on lean and rate) and stiff joints; returns the
    time the handstand was held."""
    obs, _ = env.reset(seed=0, options={"start_angle_deg": 180.0 + lean_deg})
    held = 0.0
    for _ in range(int(seconds * 50)):
        lean = math.atan2(obs[0], obs[1])
        lean = lean - math.copysign(math.pi, lean)
        grip = -(60.0 * lean + 15.0 * obs[2])
        joints = [-(4.0 * obs[3] + 0.4 * obs[5]), -(4.0 * obs[4] + 0.4 * obs[6])]
        obs, _, term, _, info = env.step(np.clip([*joints, grip], -1, 1).astype(np.float32))
        if not info["in_handstand"] or term:
            break
        held = info["hold_time_s"]
    return held


def test_grip_moment_balances_a_handstand_that_friction_alone_cannot():
    """Kerwin & Trewartha 2001: handstand balance is a wrist strategy. With the 30 N m grip a straight
    handstand leaning 1.5 deg is held 2 s; without it (friction only, ~3 N m) the same controller loses it."""
    assert _balance(HighBarEnv(task="handstand_hold"), 1.5) >= 2.0 - 1e-9
    assert _balance(HighBarEnv(task="handstand_hold", grip_moment_nm=0.0), 1.5) < 2.0


def test_handstand_arrival_and_hold_variants():
    arrive = HighBarEnv(task="handstand")
    arrive.reset(seed=0, options={"start_angle_deg": 180.0})
    _, reward, term, _, info = arrive.step(np.zeros(3, dtype=np.float32))
    assert info["is_success"] and term  # straight, still, on top
    # success pays 10 plus the upright and hold reward of the 999 steps the arrival cuts off
    assert info["reward_success"] == pytest.approx(10.0 + 0.2 * 999)
    fast = HighBarEnv(task="handstand")
    fast.reset(seed=0, options={"start_angle_deg": 180.0})
    fast.data.qvel[fast._v["hand"]] = 2.0  # passing the top at 2 rad/s is no arrival
    _, _, term, _, info = fast.step(np.zeros(3, dtype=np.float32))
    assert info["in_handstand"] and not info["is_success"] and not term
    hold = HighBarEnv(task="handstand_hold")
    assert _balance(hold, 0.5, seconds=2.2) >= 2.0 - 1e-9


def _drive_tops(env: HighBarEnv, tops: list[tuple[float, float, float]]) -> list[float]:
    """Feed the giant bookkeeping top passages (time s, shoulder rad, hip rad); returns the straightness."""
    out = []
    sd = [0.0] * 18
    for t, shoulder, hip in tops:
        env.data.time = t
        env._angle = env._next_top + 1e-6
        sd[11], sd[12] = shoulder, hip
        out.append(env._count_circles(sd))
    return out


def test_giant_counts_only_straight_top_passages():
    """Issue 16: a circle counts when the CoM passes the top with hip and shoulder within 20 deg of straight."""
    env = HighBarEnv(task="giant")
    env.reset(seed=0)
    assert env._streak_started  # the straight start past the top opens the streak
    s = _drive_tops(env, [(1.5, 0.0, 0.0), (3.0, math.radians(10), 0.0), (4.4, 0.0, math.radians(30))])
    assert s[0] == 1.0 and s[1] == pytest.approx(0.5) and s[2] == 0.0
    assert env._circles == 0  # the piked third top ended the streak of two
    assert env._turns["circle_period_s"] == pytest.approx([1.5, 1.5, 1.4])
    assert env._turns["circle_straight"] == [True, True, False]
    assert env._turns["top_hip_deg"][2] == pytest.approx(30.0)
    _drive_tops(env, [(6.0, 0.0, 0.0), (7.5, 0.0, 0.0), (9.0, 0.0, 0.0), (10.5, 0.0, 0.0)])
    assert env._circles == 3


def test_giant_reward_pays_per_step_not_per_circle():
    """Fixed episode (8 s, not ended at success); the streak term is paid per step while circling."""
    env = HighBarEnv(task="giant")
    assert env.episode_time_s == 8.0 and not env.terminate_on_success
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros(3, dtype=np.float32))
    assert info["reward_giant"] == pytest.approx(0.05)


def test_bar_stiffness_is_tied_to_the_time_step():
    """Issue 16: 1e6 N/m diverged at 10 ms and was reported as a release. sqrt(1e6 / 5.6) = 422 rad/s."""
    with pytest.raises(ConfigError, match=r"physics_dt_s <= 0\.00"):
        HighBarEnv(bar_stiffness_z_npm=1e6)
    env = HighBarEnv(bar_stiffness_z_npm=1e6, bar_stiffness_x_npm=1e6, physics_dt_s=0.0025)
    env.reset(seed=0)
    for _ in range(100):
        obs, _, term, _, info = env.step(np.zeros(3, dtype=np.float32))
        assert np.all(np.isfinite(obs)) and info["fall"] != "physics_error"
    assert hp.max_stable_dt_s(hp.BAR_STIFFNESS_NPM, hp.BAR_EFFECTIVE_MASS_KG) > 0.01


def test_divergence_is_a_physics_error_not_a_release():
    env = HighBarEnv(task="giant")
    env.reset(seed=0)
    env.data.qvel[env._v["bar_z"]] = 1e3  # a kick only a diverging integration produces
    obs, reward, term, trunc, info = env.step(np.zeros(3, dtype=np.float32))
    assert term and info["fall"] == "physics_error" and info["physics_error"] is True
    assert np.all(np.isfinite(obs)) and reward == 0.0


def test_balance_script_shows_what_the_grip_moment_adds():
    """scripts/highbar_handstand_balance.py (LQR on the linearised v1 model): with the decided 30 N m grip a
    handstand leaning 2 deg at rest is held 2 s; with friction only (0 N m, v0's hands) not even 1 deg."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "highbar_handstand_balance.py"
    out = subprocess.run([sys.executable, str(script), "--grip-moment-nm", "0", "29.93"], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    rows = {line.split("Nm")[0].strip(): [float(x) for x in line.split("|")[1].split()]
            for line in out.splitlines() if " Nm |" in line}
    # columns: lean 0.5, 1, 2, 3, 5, 10 deg at rest
    assert rows["0"][1] < 2.0 and rows["29.93"][2] >= 2.0
