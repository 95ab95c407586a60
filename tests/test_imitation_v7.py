"""Imitation-v7: v6 with each servo's damping capped at 2 x I / h (``servo_damping_limit``,
:func:`sportsim.envs.imitation_model.limit_servo_damping`).

A servo clamped at its strength bound is a constant torque over the physics step (MuJoCo leaves a clamped
actuator out of the implicit damping), so when h Kd / I is large a full-strength step jumps over the
velocity window in which the servo is unclamped and the servo flips bound step after step; v6's swing
ankle (h Kd / I = 13) did, in 14 % of the walk's swing physics steps."""

from __future__ import annotations

import itertools

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from sportsim import humanoid
from sportsim.errors import ConfigError


def _free_inertia(m: mujoco.MjModel) -> np.ndarray:
    """Each servo's dof's effective inertia 1 / (M^-1)_ii, floating body at rest, computed here."""
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    full = np.zeros((m.nv, m.nv))
    mujoco.mj_fullM(m, d, full)
    return 1.0 / np.diag(np.linalg.inv(full))[humanoid.actuator_dofs(m)]


def test_damping_is_capped_at_the_bound_and_nowhere_else() -> None:
    v6 = gym.make("sportsim/Imitation-v6").unwrapped.model
    v7 = gym.make("sportsim/Imitation-v7").unwrapped.model
    np.testing.assert_array_equal(v7.actuator_gainprm[:, 0], v6.actuator_gainprm[:, 0])  # stiffness unchanged
    kd6, kd7 = -v6.actuator_biasprm[:, 2], -v7.actuator_biasprm[:, 2]
    np.testing.assert_allclose(kd6, 0.1 * v6.actuator_gainprm[:, 0])  # v6 keeps Kd = Kp / 10
    bound = 2.0 * _free_inertia(v6) / v6.opt.timestep
    np.testing.assert_allclose(kd7, np.minimum(kd6, bound), rtol=1e-12)
    names = {v7.actuator(i).name for i in np.flatnonzero(kd7 < kd6)}
    assert {"left_ankle_y", "right_ankle_y", "left_knee", "right_elbow"} <= names
    assert "left_hip_x" not in names and "neck_x" not in names  # heavy or soft servos keep their Kd
    ankle = v7.actuator("left_ankle_y").id
    assert 3.0 < kd7[ankle] < 4.5 < kd6[ankle] / 5  # 25.6 -> 3.8 N m s/rad: near the foot's critical damping


def _ankle_clamped_steps(env_id: str, target_step_rad: float, velocity_rad_s: float) -> tuple[int, int]:
    """Gravity off, the body floating at rest but the left foot turning at ``velocity_rad_s`` about the
    ankle's flexion axis, every servo holding its angle but that one, whose target moves ``target_step_rad``:
    (physics steps at which the servo flips from one strength bound to the other, steps at a bound) in 1 s."""
    env = gym.make(env_id).unwrapped
    m, d = env.model, env.data
    env.reset(seed=0)
    m.opt.gravity[:] = 0.0
    d.qvel[:] = 0.0
    d.qvel[m.jnt_dofadr[m.joint("left_ankle").id] + 1] = velocity_rad_s
    mujoco.mj_forward(m, d)
    a = m.actuator("left_ankle_y").id
    d.ctrl[:] = d.actuator_length
    d.ctrl[a] += target_step_rad
    side = []
    for _ in range(round(1.0 / m.opt.timestep)):
        mujoco.mj_step(m, d)
        low, high = m.actuator_forcerange[a]
        side.append(1 if d.actuator_force[a] >= high - 1e-9 else -1 if d.actuator_force[a] <= low + 1e-9 else 0)
    s = np.array(side)
    return int(np.sum(s[1:] * s[:-1] == -1)), int(np.count_nonzero(s))


def test_a_swinging_foot_no_longer_flips_between_its_strength_bounds() -> None:
    """16 swing states (the foot turning at -10 to 10 rad/s, the target 0.25-0.5 rad either way): v6's
    ankle servo jumps from one bound straight to the other in 6 of them (7 flips, 51 clamped steps); v7's
    in one (the foot dorsiflexing at 10 rad/s against a plantarflexion target: one overshoot against the
    149 N m plantarflexors, whose window-to-jump ratio (S+ + S-) / S+ = 1.1 is below the cap's 2)."""
    cases = list(itertools.product((-0.5, -0.25, 0.25, 0.5), (-10.0, -5.0, 5.0, 10.0)))
    v6 = np.array([_ankle_clamped_steps("sportsim/Imitation-v6", *c) for c in cases])
    v7 = np.array([_ankle_clamped_steps("sportsim/Imitation-v7", *c) for c in cases])
    assert np.count_nonzero(v6[:, 0]) >= 5
    assert np.count_nonzero(v7[:, 0]) <= 1 and v7[:, 0].max() <= 1
    assert v7[:, 1].sum() < 0.6 * v6[:, 1].sum()


def test_engines_and_feedforward_read_the_capped_damping() -> None:
    env = gym.make("sportsim/Imitation-v7", task="run").unwrapped
    m = env.model
    kd = -m.actuator_biasprm[:, 2]
    ratio = kd / m.actuator_gainprm[:, 0]
    dofs = humanoid.actuator_dofs(m)
    axis = dofs - m.jnt_dofadr[m.actuator_trnid[:, 0]]
    np.testing.assert_allclose(env._feedforward.shifts[0],
                               env._track.qvel[:, dofs] * ratio * m.actuator_gear[np.arange(m.nu), axis])
    pytest.importorskip("pybullet", reason="the pybullet extra is not installed")
    bullet = gym.make("sportsim/Imitation-v7", engine="pybullet").unwrapped
    bullet.reset(seed=0)
    bullet.step(np.zeros(m.nu))
    np.testing.assert_allclose(bullet.engine._dt_kv, -bullet.physics_dt_s * bullet.model.actuator_biasprm[:, 2])
    ankle = bullet.model.actuator("left_ankle_y").id
    assert -bullet.model.actuator_biasprm[ankle, 2] < 0.02 * bullet.model.actuator_gainprm[ankle, 0]  # capped


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), True, "2"])
def test_bad_limits_refused_in_one_line(value) -> None:
    with pytest.raises(ConfigError, match="servo_damping_limit must be a number > 0 or null"):
        gym.make("sportsim/Imitation-v6", servo_damping_limit=value)


def test_limit_needs_the_human_body_and_earlier_versions_are_uncapped() -> None:
    with pytest.raises(ConfigError, match="servo_damping_limit needs body='human'"):
        gym.make("sportsim/Imitation-v0", servo_damping_limit=2.0)
    for env_id in ("sportsim/Imitation-v5", "sportsim/Imitation-v6"):
        assert gym.make(env_id).unwrapped.servo_damping_limit is None
    assert gym.make("sportsim/Imitation-v7").unwrapped.servo_damping_limit == 2.0
