"""The floor's force on the hands (``hand_grf_bw``): a cartwheel's support. From the reference state of
DeepMimic's cartwheel at its hands-down frames, with its servos holding the reference pose, in both engines:
the hands carry the body (more than half a body weight together), hands and feet account for the whole floor
force on the body (MuJoCo's constraint force on the root), and a physics step's impulse of the floor on hands
and feet plus gravity's equals the body's change of linear momentum - no support goes missing. :func:`sportsim.kinetics.hand_figures` reports each hand's peak and
time in support, and nothing for a skill that never puts a hand down."""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from sportsim import kinetics as kin

DT = 1.0 / 120.0
IMPULSE_TOL_NS = 0.05  # per physics step (the same tolerance as the feet's, tests/test_kinetics_pybullet.py)
ENGINES = ("mujoco", pytest.param("pybullet", marks=pytest.mark.skipif(
    importlib.util.find_spec("pybullet") is None, reason="the pybullet extra is not installed")))


def _hands_down_frame(env) -> int:
    """The reference frame whose higher hand is lowest (both hands on the floor)."""
    m, track = env.model, env.tracks[0]
    d = mujoco.MjData(m)
    hands = [m.geom(n).id for n in kin.HAND_GEOMS]
    heights = []
    for q in track.qpos:
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        heights.append(max(d.geom_xpos[g][2] for g in hands))
    return int(np.argmin(heights))


def _hands_down(engine_name: str, moving: bool):
    """The cartwheel env with its humanoid in the reference's hands-down pose (its velocities, or at rest), the
    servos holding that pose, and a probe on its engine."""
    env = gym.make("sportsim/Imitation-v7", task="cartwheel", strength_profile="gymnast", engine=engine_name).unwrapped
    m, d, track = env.model, env.data, env.tracks[0]
    k = _hands_down_frame(env)
    env.reset(seed=0)
    d.qpos[:], d.qvel[:] = track.qpos[k], (track.qvel[k] if moving else 0.0)
    d.ctrl[:] = track.joint_coords[k]
    mujoco.mj_forward(m, d)
    env.engine.reset()
    return env, kin.KineticsProbe(m, float(m.body_subtreemass[1]), env.engine)


def test_hands_and_feet_are_every_floor_force_on_the_moving_cartwheel():
    """MuJoCo, the reference's velocities (turning at several rad/s): at every physics step the probe's hands +
    feet equal the constraint force on the root's translation (the whole floor's force on the body), and the
    hands carry it."""
    env, probe = _hands_down("mujoco", moving=True)
    m, d = env.model, env.data
    weight_n = float(m.body_subtreemass[1]) * float(np.linalg.norm(m.opt.gravity))
    hands = []
    try:
        for _ in range(8):
            probe.start(1)
            env.engine.step(1)
            probe.sample(d)
            out = probe.result()
            floor = (out["grf_bw"][0].sum(axis=0) + out["hand_grf_bw"][0].sum(axis=0)) * weight_n
            np.testing.assert_allclose(floor, d.qfrc_constraint[:3], atol=1e-6)
            hands.append(out["hand_grf_bw"][0, :, 2].sum())
    finally:
        env.close()
    assert np.mean(hands) > 0.5 and np.mean(out["grf_bw"][:, :, 2]) == 0.0  # on the hands alone


@pytest.mark.parametrize("engine_name", ENGINES)
def test_each_steps_hand_impulse_is_the_momentum_change(engine_name):
    """Both engines, released at rest in the hands-down pose: the floor's impulse on hands and feet plus
    gravity's equals the body's change of linear momentum in the first physics step (from rest there is no
    convective term h dJ/dt v in the discrete momentum change; later the body turns as it falls), and the hands
    carry it."""
    env, probe = _hands_down(engine_name, moving=False)
    m, d = env.model, env.data
    mass = float(m.body_subtreemass[1])
    weight_n = mass * float(np.linalg.norm(m.opt.gravity))
    try:
        q, v = d.qpos.copy(), d.qvel.copy()
        probe.start(1)
        env.engine.step(1)
        probe.sample(d)
        out = probe.result()
        floor = (out["grf_bw"][0].sum(axis=0) + out["hand_grf_bw"][0].sum(axis=0)) * weight_n
        impulse = floor * DT + mass * m.opt.gravity * DT
        assert np.abs(impulse - (kin.linear_momentum(m, q, d.qvel) - kin.linear_momentum(m, q, v))).max() < IMPULSE_TOL_NS
        assert out["hand_grf_bw"][0, :, 2].sum() > 0.5
    finally:
        env.close()


def test_hand_figures_per_hand_and_none_without_hands():
    rate = 120.0
    n = 240
    series = {"hand_grf_bw": np.zeros((n, 2, 3))}
    assert kin.hand_figures(series, rate) == {}
    t = np.arange(n) / rate
    right = np.where((t > 0.5) & (t < 1.0), 1.2 * np.sin(np.pi * (t - 0.5) / 0.5), 0.0)
    series["hand_grf_bw"][:, 0, 2] = np.clip(right, 0.0, None)
    fig = kin.hand_figures(series, rate)
    assert fig["right_hand_peak_grf_bw"] == pytest.approx(1.2, abs=0.05)
    assert fig["right_hand_support_s"] == pytest.approx(0.5, abs=0.05)
    assert fig["left_hand_peak_grf_bw"] == pytest.approx(0.0, abs=1e-6) and fig["left_hand_support_s"] == 0.0
    assert fig["hand_peak_grf_bw"] == fig["right_hand_peak_grf_bw"]
