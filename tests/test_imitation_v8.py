"""Imitation-v8: v7 with the foot contact reward term weighted 0.3 instead of 0.1 - a reward change only.

The v7 walk lifts each foot two to three control steps before its reference's toe-off and lands it up to two
steps after the reference's heel strike; v8 pays three times as much for a foot whose floor contact differs
from the reference's stance flag (its share of the normalised reward 0.083 -> 0.214)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from sportsim.envs import ENV_SPECS
from sportsim.envs.rewards import ImitationRewardWeights


def test_v8_is_v7_with_a_heavier_foot_contact_term() -> None:
    v7, v8 = ENV_SPECS["sportsim/Imitation-v7"][2], ENV_SPECS["sportsim/Imitation-v8"][2]
    assert {k: v for k, v in v8.items() if v7.get(k) != v} == {"foot_contact_weight": 0.3}
    assert set(v8) == set(v7) and v7["foot_contact_weight"] == 0.1
    w7, w8 = gym.make("sportsim/Imitation-v7").unwrapped.weights, gym.make("sportsim/Imitation-v8").unwrapped.weights
    contact = ImitationRewardWeights.TERMS.index("foot_contact")
    assert w7.normalised[contact] == pytest.approx(0.1 / 1.2) and w8.normalised[contact] == pytest.approx(0.3 / 1.4)
    for i, term in enumerate(ImitationRewardWeights.TERMS):  # every other term keeps its relative weight
        if i != contact:
            assert w8.normalised[i] == pytest.approx(w7.normalised[i] * 1.2 / 1.4)


def test_v8_has_v7s_dynamics_and_observations_and_a_reward_of_its_terms() -> None:
    env7, env8 = gym.make("sportsim/Imitation-v7"), gym.make("sportsim/Imitation-v8")
    o7, _ = env7.reset(seed=4)
    o8, _ = env8.reset(seed=4)
    assert np.array_equal(o7, o8)
    rng = np.random.default_rng(4)
    for _ in range(25):
        action = rng.uniform(-0.3, 0.3, env7.action_space.shape).astype(np.float32)
        o7, r7, t7, _, i7 = env7.step(action)
        o8, r8, t8, _, i8 = env8.step(action)
        assert np.array_equal(o7, o8) and t7 == t8
        assert i7["error_foot_contact"] == i8["error_foot_contact"]
        terms = [i8[f"reward_{t}"] for t in ImitationRewardWeights.TERMS]
        assert r8 == pytest.approx(sum(terms))
        assert i8["reward_foot_contact"] == pytest.approx(
            0.3 / 1.4 * np.exp(-2.0 * i8["error_foot_contact"]))
        if t7:
            break
