"""Ground reaction forces with ``engine="pybullet"``: the kinetics probe reads PyBullet's contact forces
(normal and friction forces of Bullet's last solve) where MuJoCo's are read otherwise. Checked against
physics in both engines: standing, the feet carry one body weight (2 %); pushed along the floor, every
physics step's foot impulse plus gravity's equals the whole body's change of linear momentum (at the
step's positions: both engines integrate velocities before positions) within 0.05 N s, friction
braking the push. Imitation-v0 with kinetics on PyBullet fills ``info["kinetics"]`` and its figures."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from sportsim import humanoid
from sportsim import kinetics as kin
from sportsim.envs.imitation import build_model
from sportsim.sim import make_engine

pytest.importorskip("pybullet", reason="the pybullet extra is not installed")

DT = 1.0 / 120.0
ENGINES = ("mujoco", "pybullet")
IMPULSE_TOL_NS = 0.05  # per physics step; the steps' impulses reach ~12 N s


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    """Imitation-v0's humanoid (DeepMimic's body), standing with zero targets in both engines."""
    return build_model(humanoid.REFERENCE_HEIGHT_M, humanoid.REFERENCE_MASS_KG, "male", DT, body="deepmimic")


def _start(model, engine_name: str, push_m_s: float = 0.0):
    d = mujoco.MjData(model)
    d.qvel[0] = push_m_s
    mujoco.mj_forward(model, d)
    engine = make_engine(engine_name, model, d)
    engine.reset()
    return d, engine, kin.KineticsProbe(model, float(model.body_subtreemass[1]), engine)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_standing_feet_carry_the_body_weight(model, engine_name):
    d, engine, probe = _start(model, engine_name)
    try:
        n = round(2.0 / DT)
        probe.start(n)
        for _ in range(n):
            engine.step(1)
            probe.sample(d)
        out = probe.result()
    finally:
        engine.close()
    last_second = slice(n - round(1.0 / DT), n)
    vertical = out["grf_bw"][last_second, :, 2].sum(axis=1)
    assert vertical.mean() == pytest.approx(1.0, abs=0.02)
    assert out["foot_contact"][last_second].all()
    # each foot's centre of pressure lies under that foot
    for side, name in enumerate(("right_foot", "left_foot")):
        mujoco.mj_kinematics(model, d)
        foot = d.geom_xpos[model.geom(name).id]
        assert np.linalg.norm(out["cop_m"][-1, side, :2] - foot[:2]) < 0.15


@pytest.mark.parametrize("engine_name", ENGINES)
def test_each_steps_impulse_is_the_momentum_change(model, engine_name):
    """Pushed at 0.2 m/s along x while standing: the floor's impulse on the feet plus gravity's is the
    change of linear momentum, step by step; friction brakes the push."""
    d, engine, probe = _start(model, engine_name, push_m_s=0.2)
    mass = float(model.body_subtreemass[1])
    weight_n = mass * float(np.linalg.norm(model.opt.gravity))
    feet = {model.geom_bodyid[model.geom(n).id] for n in kin.FOOT_GEOMS}
    errors, braking = [], 0.0
    try:
        for _ in range(round(1.0 / DT)):
            q, v = d.qpos.copy(), d.qvel.copy()
            probe.start(1)
            engine.step(1)
            probe.sample(d)
            assert {b for b, _, _ in engine.contact_forces()} <= feet
            impulse = probe.result()["grf_bw"][0].sum(axis=0) * weight_n * DT + mass * model.opt.gravity * DT
            errors.append(np.abs(impulse - (kin.linear_momentum(model, q, d.qvel) - kin.linear_momentum(model, q, v))).max())
            braking += impulse[0]
    finally:
        engine.close()
    assert max(errors) < IMPULSE_TOL_NS
    assert braking < -1.0  # friction against the push (its sign)


def test_imitation_kinetics_on_pybullet():
    env = gym.make("sportsim/Imitation-v0", engine="pybullet", kinetics=True)
    try:
        env.reset(seed=0, options={"start_phase": 0.0, "clip": 0})
        stance = []
        for _ in range(10):
            _, _, terminated, truncated, info = env.step(np.zeros(28, dtype=np.float32))
            sample = info["kinetics"]
            assert sample["grf_bw"].shape == (env.unwrapped.n_substeps, 2, 3)
            assert all(np.isfinite(v).all() for v in sample.values())
            stance.append(sample["grf_bw"][:, :, 2].sum(axis=1).mean())
            if terminated or truncated:
                break
        assert 0.5 < np.mean(stance) < 2.0  # the feet carry the body (falling and landing on them)
        assert info["kinetics_peak_grf_bw"] > 0.5 and np.isfinite(info["kinetics_positive_work_j_per_kg"])
        assert np.abs(sample["moment_nm_per_kg"]).max() > 0.0
    finally:
        env.close()
