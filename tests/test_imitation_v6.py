"""Imitation-v6's two physics changes.

* Its servos damp the velocity error, Kd (v_ref - qdot), instead of the velocity, -Kd qdot
  (``servo_velocity="reference"``, :class:`sportsim.envs.imitation_model.ServoFeedforward`): the torque is
  exactly that, inside the same strength bound, the anatomical clamp of the pose target still holds, the
  earlier versions are unchanged, and on the DeepMimic run - where the zero-velocity damper alone asks more
  than the legs' strength - the servos no longer saturate at the reference's own state.
* MuJoCo's ``discrete`` integrator (``integrator="discrete"``): the contact solve sees the servos' implicit
  damping, so a standing body no longer glides on its soles at 1/120 s (issue 15's slide)."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from sportsim import resolve, runs
from sportsim.errors import ConfigError


def _reference_actuator_velocity(m: mujoco.MjModel, qvel: np.ndarray) -> np.ndarray:
    """The reference's velocity along each servo's axis, computed here from the joint tree (hinge: its dof;
    ball: gear . angular velocity), independently of the env's matrix."""
    out = np.zeros(m.nu)
    for i in range(m.nu):
        j = m.actuator_trnid[i, 0]
        a = m.jnt_dofadr[j]
        if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_BALL:
            out[i] = m.actuator_gear[i, :3] @ qvel[a:a + 3]
        else:
            out[i] = m.actuator_gear[i, 0] * qvel[a]
    return out


def _servo_terms(env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Kp, Kd, the force each servo applies) with the env's model and data."""
    m, d = env.model, env.data
    return m.actuator_gainprm[:, 0], -m.actuator_biasprm[:, 2], d.actuator_force.copy()


@pytest.mark.parametrize(("env_id", "task"), [("sportsim/Imitation-v6", "run"), ("sportsim/Imitation-v6", "kick"),
                                            ("sportsim/Imitation-v7", "run")])  # v7: its capped Kd in the shift too
def test_torque_is_kp_pose_error_plus_kd_velocity_error(env_id: str, task: str) -> None:
    env = gym.make(env_id, task=task).unwrapped
    m, d = env.model, env.data
    rng = np.random.default_rng(0)
    env.reset(seed=3)
    for _ in range(6):
        action = rng.uniform(-1.0, 1.0, m.nu)
        env.step(action)
        track, k = env._track, env.step_index
        # the target the policy chose, clamped to the anatomical range (the model's ctrlrange is kept as data)
        low, high = env._feedforward.low, env._feedforward.high
        target = np.clip(track.joint_coords[k] + env.action_scale_rad * action, low, high)
        v_ref = _reference_actuator_velocity(m, track.qvel[k])
        mujoco.mj_forward(m, d)  # the servo force at the state the step ended in, with the step's targets
        kp, kd, force = _servo_terms(env)
        expected = np.clip(kp * (target - d.actuator_length) + kd * (v_ref - d.actuator_velocity),
                           m.actuator_forcerange[:, 0], m.actuator_forcerange[:, 1])
        np.testing.assert_allclose(force, expected, rtol=1e-9, atol=1e-7)
        assert np.all(np.isfinite(m.actuator_forcerange))  # the whole torque is bounded, damping included


def test_target_clamped_before_the_velocity_shift() -> None:
    env = gym.make("sportsim/Imitation-v6", task="run").unwrapped
    env.reset(seed=0)
    env.step(np.ones(env.model.nu))  # every target pushed +0.5 rad: some beyond their range
    ff, k = env._feedforward, env.step_index
    pose_target = env.data.ctrl - ff.shifts[env._clip][k]
    assert np.all(pose_target <= ff.high + 1e-12)
    clamped = np.flatnonzero(env._track.joint_coords[k] + env.action_scale_rad > ff.high)
    assert clamped.size > 0
    np.testing.assert_allclose(pose_target[clamped], ff.high[clamped], atol=1e-12)
    assert not env.model.actuator_ctrllimited.any()  # MuJoCo's clamp would cut the shift: the env clamps


def test_state_on_the_reference_has_no_damping_torque() -> None:
    """At reset the body is on the reference (pose and velocity): v6's servo force is Kp x the pose error
    alone; v5's carries -Kd qdot on top."""
    for env_id, damped in (("sportsim/Imitation-v6", False), ("sportsim/Imitation-v5", True)):
        env = gym.make(env_id, task="run").unwrapped
        env.reset(seed=1)
        kp, kd, force = _servo_terms(env)
        m, d = env.model, env.data
        undamped = np.clip(kp * (np.clip(d.ctrl if damped else d.ctrl - env._feedforward.shifts[0][env.step_index],
                                         m.actuator_ctrlrange[:, 0] if damped else -np.inf,
                                         m.actuator_ctrlrange[:, 1] if damped else np.inf) - d.actuator_length),
                           m.actuator_forcerange[:, 0], m.actuator_forcerange[:, 1])
        moving = np.abs(d.actuator_velocity) > 1.0
        assert moving.sum() >= 5
        if damped:
            assert not np.allclose(force[moving], undamped[moving])
        else:
            np.testing.assert_allclose(force, undamped, rtol=1e-9, atol=1e-7)


def test_run_reference_no_longer_saturates_the_servos() -> None:
    """The DeepMimic run's joint speeds (knee and hip ~10 rad/s): with a zero velocity target, Kd qdot
    alone (8.2 N m/kg at the knee) exceeds the strength, so at the reference's own states many servos sit
    at a limit before the policy acts; damping the velocity error frees that strength."""
    saturated = {}
    for env_id in ("sportsim/Imitation-v5", "sportsim/Imitation-v6"):
        env = gym.make(env_id, task="run", strength_profile="athlete").unwrapped
        m, d, count = env.model, env.data, 0
        for phase in np.linspace(0.0, 0.95, 20):
            env.reset(seed=0, options={"start_phase": float(phase)})
            f, (low, high) = d.actuator_force, m.actuator_forcerange.T
            count += int(np.sum((f >= 0.999 * high) | (f <= 0.999 * low)))
        saturated[env_id] = count / (20 * m.nu)
    assert saturated["sportsim/Imitation-v5"] > 0.05
    assert saturated["sportsim/Imitation-v6"] < 0.5 * saturated["sportsim/Imitation-v5"]


def test_earlier_versions_unchanged_and_bad_values_refused() -> None:
    v5 = gym.make("sportsim/Imitation-v5").unwrapped
    assert v5.servo_velocity == "zero" and v5._feedforward is None and v5.model.actuator_ctrllimited.all()
    assert gym.make("sportsim/Imitation-v6").unwrapped.servo_velocity == "reference"
    with pytest.raises(ConfigError, match="servo_velocity must be one of zero, reference"):
        gym.make("sportsim/Imitation-v6", servo_velocity="ahead")
    with pytest.raises(ConfigError, match="needs body='human'"):
        gym.make("sportsim/Imitation-v0", servo_velocity="reference")


def test_pybullet_engine_follows_the_feedforward() -> None:
    """The second engine reads the targets and the (now unlimited) ctrl flags from the model each step."""
    pytest.importorskip("pybullet", reason="the pybullet extra is not installed")
    env = gym.make("sportsim/Imitation-v6", engine="pybullet").unwrapped
    obs, _ = env.reset(seed=0)
    for _ in range(10):
        obs, reward, terminated, truncated, info = env.step(np.zeros(env.model.nu))
        assert np.all(np.isfinite(obs)) and np.isfinite(reward)
        if terminated or truncated:
            break


def test_integrator_choice() -> None:
    assert gym.make("sportsim/Imitation-v6").unwrapped.model.opt.integrator == mujoco.mjtIntegrator.mjINT_DISCRETE
    v5 = gym.make("sportsim/Imitation-v5").unwrapped
    assert v5.integrator == "implicitfast" and v5.model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    with pytest.raises(ConfigError, match="integrator must be one of implicitfast, discrete"):
        gym.make("sportsim/Imitation-v6", integrator="rk4")


def _standing_feet_drift_mm(integrator: str) -> np.ndarray:
    """The v1 zoo jump's policy holding the clip's first pose (``stand_before_s=2``): how far each foot's
    centre moves over 1.5 s of the stand (after 1/3 s of settling), mm."""
    policy = runs.open_policy(resolve.policy("zoo:imitation/v1/jump/ppo").location, "cpu", rsi=False,
                              stand_before_s=2.0, integrator=integrator)
    env = policy.env.unwrapped
    feet = [env.model.body(name).id for name in ("right_ankle", "left_ankle")]
    obs, _ = policy.env.reset(seed=0)
    for step in range(55):
        if step == 10:
            start = env.data.xpos[feet, :2].copy()
        obs, _, terminated, truncated, info = policy.env.step(policy.act(obs))
        assert not (terminated or truncated), info.get("fall")
    return 1000.0 * np.linalg.norm(env.data.xpos[feet, :2] - start, axis=1)


def test_discrete_integrator_keeps_a_standing_body_on_its_soles() -> None:
    """At 1/120 s with ``implicitfast`` the servos' damping, integrated after the contact solve, lets the whole
    body glide on its soles while it stands still (52 mm in 1.5 s; 26 at 1/240 s, 0.4 at 1/480 s - the step
    had not converged); ``discrete`` solves the contacts in the metric that includes that damping."""
    glide = _standing_feet_drift_mm("implicitfast")
    planted = _standing_feet_drift_mm("discrete")
    assert np.all(glide > 30.0), glide
    assert np.all(planted < 2.0), planted
