"""Imitation-v5's foot contact term: the reference track's stance flags, the term's error and its place in
the reward (sportsim.envs.rewards.ImitationRewardWeights, ImitationEnv._foot_errors)."""
from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import sportsim.envs  # noqa: F401  (registers the envs)
from sportsim.envs.rewards import ImitationRewardWeights, imitation_reward

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # gymnasium: "v4 is out of date"


@pytest.fixture(scope="module")
def walk():
    env = gym.make("sportsim/Imitation-v5").unwrapped
    yield env
    env.close()


def test_v5_adds_the_contact_term_and_stiffens_the_slip_scale(walk):
    weights = walk.weights
    assert weights.foot_contact == 0.1 and weights.foot_contact_scale == 2.0
    assert weights.foot_slip == 0.1 and weights.foot_slip_scale == 400.0
    assert weights.normalised[ImitationRewardWeights.TERMS.index("foot_contact")] == pytest.approx(0.1 / 1.2)
    _, info = walk.reset(seed=3)
    for _ in range(5):
        _, reward, _, _, info = walk.step(walk.action_space.sample())
        terms = [info[f"reward_{t}"] for t in ImitationRewardWeights.TERMS]
        assert sum(terms) == pytest.approx(reward, abs=1e-12)
        assert info["similarity_foot_contact"] == pytest.approx(math.exp(-2.0 * info["error_foot_contact"]))
        assert info["error_foot_contact"] in (0.0, 0.5, 1.0)


def test_v4_keeps_its_terms():
    env = gym.make("sportsim/Imitation-v4").unwrapped
    _, info = env.reset(seed=0)
    info = env.step(np.zeros(28, dtype=np.float32))[4]
    assert "reward_foot_slip" in info and not any(k.endswith("foot_contact") for k in info)
    assert env.weights.foot_contact == 0.0 and env.weights.foot_slip_scale == 100.0
    env.close()


def test_the_walk_track_carries_the_reference_stance_flags(walk):
    """Per control step, (right, left); cyclic with the track; walking's stance is ~60 % of the cycle with
    two double supports (Perry & Burnfield 2010: stance 60 %, double support 2 x 10 %)."""
    track = walk.tracks[0]
    flags = track.foot_contacts
    assert flags.dtype == bool and flags.shape == (len(track.qpos), 2) and not flags.flags.writeable
    p = track.period
    assert np.array_equal(flags[p:2 * p], flags[:p])
    stance = flags[:p].mean(axis=0)
    assert np.all((stance > 0.5) & (stance < 0.75)), stance
    double = (flags[:p, 0] & flags[:p, 1]).mean()
    assert 0.1 < double < 0.4, double
    assert not np.any(~flags[:p, 0] & ~flags[:p, 1])  # a walk has no flight


def test_stands_hold_the_first_and_last_contacts():
    env = gym.make("sportsim/Imitation-v5", task="jump").unwrapped
    track = env.tracks[0]
    assert not track.cyclic
    before = int(round(env.control_hz * 0.5))
    assert np.all(track.foot_contacts[:before + 1])  # the jump starts standing on both feet
    assert np.all(track.foot_contacts[-5:])  # and ends so
    assert (~track.foot_contacts.any(axis=1)).sum() >= 5  # the flight: neither foot down for >= 1/6 s
    env.close()


def test_the_error_counts_the_feet_off_their_reference_contact(walk):
    walk.reset(seed=0, options={"start_phase": 0.15})  # double support: both reference feet down
    k = walk.step_index
    assert walk.tracks[0].foot_contacts[k].all()
    qpos, qvel = walk.reference_state()
    _, info = walk.evaluate_state(qpos, qvel)
    assert info["error_foot_contact"] == 0.0  # the reference's own pose stands on both feet
    qpos[2] += 0.1  # lifted off the floor: both feet miss their contact
    _, info = walk.evaluate_state(qpos, qvel)
    assert info["error_foot_contact"] == 1.0 and info["similarity_foot_contact"] == pytest.approx(math.exp(-2.0))


def test_the_term_weighs_a_mismatch():
    weights = ImitationRewardWeights(foot_slip=0.1, foot_contact=0.1)
    errors = (0.1, 2.0, 0.01, 0.05, 0.3)
    right, _ = imitation_reward(*errors, weights, foot_slip_err=0.0, foot_contact_err=0.0)
    one_off, terms = imitation_reward(*errors, weights, foot_slip_err=0.0, foot_contact_err=0.5)
    assert right - one_off == pytest.approx(0.1 / 1.2 * (1.0 - math.exp(-1.0)))
    assert terms["foot_contact"] == pytest.approx(0.1 / 1.2 * math.exp(-1.0))


def test_a_stand_rests_on_the_feet_its_held_pose_touches_the_floor_with():
    """The spinkick's last frame is mid-landing (the left sole 37 mm up, the right 1.6 mm, still moving, so
    the source flags neither); its 1 s stand holds that pose on the right foot alone."""
    from sportsim.envs.imitation_params import STAND_CONTACT_M
    from sportsim.mocap.retarget import foot_lowest_m

    env = gym.make("sportsim/Imitation-v5", task="kick").unwrapped
    track = env.tracks[0]
    after = int(round(env.control_hz * 1.0))
    heights = foot_lowest_m(env.model, track.qpos[-1:])[0]
    assert heights[0] < STAND_CONTACT_M < heights[1]
    assert np.array_equal(track.foot_contacts[-after:], np.tile([True, False], (after, 1)))
    env.close()
