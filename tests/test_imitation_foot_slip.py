"""Imitation-v2's foot slip reward term: what it measures (checked against MuJoCo's own body velocity),
that it is off and leaves v1's reward untouched, and that it is reported where it is on."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import sportsim  # noqa: F401  (registers the envs)
from sportsim import kinetics
from sportsim.envs.rewards import ImitationRewardWeights, imitation_reward


def _expected_slip(env) -> float:
    """The term's error recomputed with mj_objectVelocity at the middle of each foot's contacts."""
    m, d = env.model, env.data
    out, feet, v6 = 0.0, 0, np.zeros(6)
    for geom in kinetics.FOOT_GEOMS:
        g = m.geom(geom).id
        pts = [d.contact[i].pos for i in range(d.ncon) if g in (d.contact[i].geom1, d.contact[i].geom2)]
        if not pts:
            continue
        body = m.geom_bodyid[g]
        mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, body, v6, 0)
        vel = v6[3:] + np.cross(v6[:3], np.mean(pts, axis=0) - d.xpos[body])
        out += vel[0] ** 2 + vel[1] ** 2
        feet += 1
    return out / feet if feet else 0.0


def test_slip_error_is_the_squared_speed_of_the_feet_on_the_floor():
    env = gym.make("sportsim/Imitation-v2").unwrapped
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    seen = 0
    for _ in range(25):
        _, reward, terminated, truncated, info = env.step(rng.uniform(-0.3, 0.3, 28).astype(np.float32))
        assert info["error_foot_slip"] == pytest.approx(_expected_slip(env), rel=1e-9, abs=1e-12)
        assert info["similarity_foot_slip"] == pytest.approx(np.exp(-100.0 * info["error_foot_slip"]))
        assert sum(v for k, v in info.items() if k.startswith("reward_")) == pytest.approx(reward)
        seen += info["error_foot_slip"] > 0
        if terminated or truncated:
            env.reset(seed=2)
    assert seen >= 5  # the feet do move on the floor under random actions


def test_v1_has_no_slip_term_and_the_same_reward():
    """v1 (the zoo's v1 entries) keeps DeepMimic's five terms; adding a term of weight 0 changes no bit."""
    env = gym.make("sportsim/Imitation-v1").unwrapped
    env.reset(seed=0)
    info = env.step(np.zeros(28, dtype=np.float32))[4]
    assert not any(k.endswith("foot_slip") for k in info)
    errors = (0.3, 2.0, 0.01, 0.02, 0.5)
    five = ImitationRewardWeights()
    total, terms = imitation_reward(*errors, five)
    assert terms["foot_slip"] == 0.0
    assert total == sum(w * np.exp(-s * e) for w, s, e in zip(five.normalised[:5], five.scales[:5], errors))


def test_the_term_counts_a_tenth_of_the_reward_in_v2():
    env = gym.make("sportsim/Imitation-v2").unwrapped
    assert env.weights.normalised[ImitationRewardWeights.TERMS.index("foot_slip")] == pytest.approx(0.1 / 1.1)
    assert env.weights.foot_slip_scale == 100.0
    assert env.weights.foot_contact == 0.0  # the contact term arrives in v5
