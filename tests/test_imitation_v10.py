"""Imitation-v10: v9 whose servos act through a 20 ms first-order activation lag - a dynamics change only.

With a zero-order-hold action through a stiff PD servo the torque jumps at every 30 Hz control step (the v9
walk's knee alternates -1.3 / -0.1 N m/kg in swing); a muscle cannot. MuJoCo's own activation state carries
the lag (``dyntype`` filterexact): the gain multiplies the filtered target ``act`` instead of ``ctrl``."""

from __future__ import annotations

import math

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from sportsim.envs import ENV_SPECS
from sportsim.envs.imitation_model import build_model
from sportsim.envs.rewards import ImitationRewardWeights
from sportsim.errors import ConfigError

from helpers import paired_steps


def test_v10_is_v9_with_an_activation_lag() -> None:
    v9, v10 = ENV_SPECS["sportsim/Imitation-v9"][2], ENV_SPECS["sportsim/Imitation-v10"][2]
    assert {k: v for k, v in v10.items() if v9.get(k) != v} == {"activation_time_s": 0.02}
    assert set(v10) - set(v9) == {"activation_time_s"}


def test_the_servo_target_reaches_the_torque_through_a_first_order_lag() -> None:
    """After a step change of every target the activation follows 1 - exp(-t / tau) exactly (MuJoCo's
    filterexact), whatever the body does meanwhile; the servo torque is built on it, not on ctrl."""
    tau, dt = 0.02, 1.0 / 120.0
    lagged = build_model(1.75, 70.0, "male", dt, activation_time_s=tau)
    plain = build_model(1.75, 70.0, "male", dt)
    assert plain.na == 0 and lagged.na == lagged.nu
    assert np.all(lagged.actuator_dyntype == mujoco.mjtDyn.mjDYN_FILTEREXACT)
    assert np.allclose(lagged.actuator_dynprm[:, 0], tau)
    d = mujoco.MjData(lagged)
    d.ctrl[:] = 0.3
    for n in range(1, 5):
        mujoco.mj_step(lagged, d)
        assert np.allclose(d.act, 0.3 * (1.0 - math.exp(-n * dt / tau)))
    # the torque: Kp (act - q) - Kd qdot, bounded by forcerange - the lagged target, not ctrl
    mujoco.mj_forward(lagged, d)
    q = d.qpos[lagged.jnt_qposadr[lagged.actuator_trnid[:, 0]]]  # hinge dofs only are compared below
    hinge = lagged.jnt_type[lagged.actuator_trnid[:, 0]] == mujoco.mjtJoint.mjJNT_HINGE
    kp, kd = lagged.actuator_gainprm[:, 0], -lagged.actuator_biasprm[:, 2]
    qdot = d.qvel[lagged.jnt_dofadr[lagged.actuator_trnid[:, 0]]]
    expected = np.clip(kp * (d.act - q) - kd * qdot, lagged.actuator_forcerange[:, 0], lagged.actuator_forcerange[:, 1])
    assert np.allclose(d.actuator_force[hinge], expected[hinge])


def test_v10_starts_activated_and_keeps_v9s_observation_and_reward() -> None:
    env9, env10 = gym.make("sportsim/Imitation-v9"), gym.make("sportsim/Imitation-v10")
    o9, _ = env9.reset(seed=4)
    o10, _ = env10.reset(seed=4)
    assert np.array_equal(o9, o10)
    u10 = env10.unwrapped
    assert u10.model.na == u10.model.nu and np.array_equal(u10.data.act, u10.data.ctrl)  # no start transient
    differs = False
    for (o9, *_), (o10, r10, _, _, i10) in paired_steps(env9, env10, seed=4, steps=20):
        assert np.all(np.isfinite(o10)) and o10.shape == o9.shape
        assert r10 == pytest.approx(sum(i10[f"reward_{t}"] for t in ImitationRewardWeights.TERMS))
        differs |= not np.array_equal(o9, o10)
    assert differs  # the dynamics differ
    env9.close()
    env10.close()


def test_bad_activation_settings_are_refused_in_one_line() -> None:
    for bad in (-0.01, float("nan"), float("inf"), True, "0.02"):
        with pytest.raises(ConfigError, match="activation_time_s"):
            gym.make("sportsim/Imitation-v9", activation_time_s=bad)
    with pytest.raises(ConfigError, match="body='human'"):
        gym.make("sportsim/Imitation-v0", activation_time_s=0.02)
    with pytest.raises(ConfigError, match="engine='mujoco'"):
        gym.make("sportsim/Imitation-v10", engine="pybullet")


def test_the_config_picks_the_versions_lag() -> None:
    """``configs/env/imitation.yaml`` leaves ``activation_time_s`` null: ``env.id=sportsim/Imitation-v10`` trains
    with v10's 20 ms, the default env (v7) without a lag."""
    from sportsim import builders, config

    for env_id, expected in (("sportsim/Imitation-v10", 0.02), (None, 0.0)):
        overrides = ["env=imitation", "algo=ppo"] + ([f"env.id={env_id}"] if env_id else [])
        env = builders.make_env(config.compose_train_config(overrides).env).unwrapped
        try:
            assert env.activation_time_s == expected and env.model.na == (env.model.nu if expected else 0)
        finally:
            env.close()
