"""Pure reward functions: state summaries in, ``(total, {term: value})`` out.

Every env logs each term as ``info["reward_<term>"]``; the terms always sum to the reward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class HalfPipeRewardWeights:
    """Weights of the half-pipe reward terms (0 switches a term off)."""

    progress: float = 10.0  # per coping height of energy gained
    effort: float = 0.005  # per step, times the squared normalised action
    success: float = 10.0  # once, when the board reaches the coping
    fall: float = 10.0  # once, when the rider falls


def halfpipe_reward(
    energy_height_before_m: float,
    energy_height_after_m: float,
    coping_height_m: float,
    action: float,
    reached_coping: bool,
    fell: bool,
    weights: HalfPipeRewardWeights,
) -> tuple[float, dict[str, float]]:
    """Reward of one half-pipe step.

    ``energy_height`` is the centre of mass's mechanical energy per unit weight, z + v^2 / (2 g), in
    metres: the height it could reach. Its change per step, in coping heights, is a potential-based
    progress term (sums to the net gain over an episode, so it cannot be farmed by oscillating).
    ``action`` is the normalised leg command in [-1, 1].
    """
    terms = {
        "progress": weights.progress * (energy_height_after_m - energy_height_before_m) / coping_height_m,
        "effort": -weights.effort * action * action,
        "success": weights.success if reached_coping else 0.0,
        "fall": -weights.fall if fell else 0.0,
    }
    return sum(terms.values()), terms


LEG_POWER_REFERENCE_W_PER_KG = 30.0  # HalfPipe-v1 effort scale: the legs' maximal power (halfpipe_params)


def halfpipe_v1_reward(energy_height_before_m: float, energy_height_after_m: float, coping_height_m: float,
                       leg_power_w_per_kg: float, reached_coping: bool, fell: bool,
                       weights: HalfPipeRewardWeights) -> tuple[float, dict[str, float]]:
    """Reward of one HalfPipe-v1 step: as :func:`halfpipe_reward`, with the effort measured as the legs'
    positive mechanical power per kg of body mass (mean over the step), ``effort = -w (P / 30 W/kg)^2``."""
    p = max(0.0, leg_power_w_per_kg) / LEG_POWER_REFERENCE_W_PER_KG
    terms = {
        "progress": weights.progress * (energy_height_after_m - energy_height_before_m) / coping_height_m,
        "effort": -weights.effort * p * p,
        "success": weights.success if reached_coping else 0.0,
        "fall": -weights.fall if fell else 0.0,
    }
    return sum(terms.values()), terms


@dataclass(frozen=True)
class HighBarRewardWeights:
    """Weights of the high-bar reward terms (0 switches a term off). Each task uses its own terms:
    handstand - upright, hold, effort, success, fall; giant - progress, circle, effort, success, fall."""

    upright: float = 0.1  # handstand: per step, times (1 - cos bar angle) / 2 (0 hanging, 1 above the bar)
    hold: float = 0.1  # handstand: per step inside the handstand tolerance
    progress: float = 1.0  # giant: per full turn of the bar angle in the circling direction
    circle: float = 1.0  # giant: once per completed circle
    effort: float = 0.01  # per step, times the mean squared normalised joint torque
    success: float = 10.0  # once, at success
    fall: float = 10.0  # once, when the hands let go of the bar


def highbar_handstand_reward(
    bar_angle_rad: float,
    in_handstand: bool,
    effort: float,
    succeeded_now: bool,
    released: bool,
    weights: HighBarRewardWeights,
) -> tuple[float, dict[str, float]]:
    """Reward of one HighBar-v0 ``handstand`` step.

    ``bar_angle_rad`` is the angle of the bar -> centre-of-mass line from hanging straight down (pi =
    above the bar); ``effort`` the mean squared normalised joint torque, in [0, 1].
    """
    terms = {
        "upright": weights.upright * 0.5 * (1.0 - math.cos(bar_angle_rad)),
        "hold": weights.hold if in_handstand else 0.0,
        "effort": -weights.effort * effort,
        "success": weights.success if succeeded_now else 0.0,
        "fall": -weights.fall if released else 0.0,
    }
    return sum(terms.values()), terms


def highbar_giant_reward(
    angle_advance_rad: float,
    circle_completed: bool,
    effort: float,
    succeeded_now: bool,
    released: bool,
    weights: HighBarRewardWeights,
) -> tuple[float, dict[str, float]]:
    """Reward of one HighBar-v0 ``giant`` step.

    ``angle_advance_rad`` is this step's change of the unwrapped bar angle (positive in the circling
    direction): as a potential-based term it sums to the net turns made, so swinging back and forth
    earns nothing. ``effort`` is the mean squared normalised joint torque, in [0, 1].
    """
    terms = {
        "progress": weights.progress * angle_advance_rad / (2.0 * math.pi),
        "circle": weights.circle if circle_completed else 0.0,
        "effort": -weights.effort * effort,
        "success": weights.success if succeeded_now else 0.0,
        "fall": -weights.fall if released else 0.0,
    }
    return sum(terms.values()), terms


@dataclass(frozen=True)
class HighBarV1RewardWeights:
    """Weights of the HighBar-v1 reward terms (0 switches a term off). Handstand tasks: upright, hold,
    effort, success, fall; giant: progress, giant, top, force, effort, success, fall."""

    upright: float = 0.1  # handstand: per step, times (1 - cos bar angle) / 2
    hold: float = 0.1  # handstand: per step in the handstand (arrival: times the slowness, see below)
    progress: float = 0.2  # giant: per full turn of the bar angle (potential-based shaping)
    giant: float = 0.05  # giant: per step while circling in a streak of straight handstand passages
    top: float = 0.5  # giant: at each top passage, times its straightness (1 straight .. 0 at the tolerance)
    force: float = 0.05  # giant: per step, times (hand force above force_free_bw, in BW) squared
    force_free_bw: float = 4.5  # giant: hand force that costs nothing (ordinary giants 3.5-4.5 BW, REFERENCES E4)
    effort: float = 0.05  # per step, times the effort (mean squared normalised active + passive torque)
    success: float = 10.0  # once, at success
    fall: float = 10.0  # once, on release or a physics error


def highbar_v1_handstand_reward(bar_angle_rad: float, hold: float, effort: float, succeeded_now: bool,
                                fell: bool, weights: HighBarV1RewardWeights) -> tuple[float, dict[str, float]]:
    """Reward of one HighBar-v1 ``handstand`` / ``handstand_hold`` step. ``hold`` in [0, 1]: 0 outside the
    handstand; inside it 1 (hold variant) or the slowness ``1 - min(1, |bar angle rate| / 2 rad/s)``
    (arrival, which needs a rate below 1 rad/s)."""
    terms = {
        "upright": weights.upright * 0.5 * (1.0 - math.cos(bar_angle_rad)),
        "hold": weights.hold * hold,
        "effort": -weights.effort * effort,
        "success": weights.success if succeeded_now else 0.0,
        "fall": -weights.fall if fell else 0.0,
    }
    return sum(terms.values()), terms


def highbar_v1_giant_reward(angle_advance_rad: float, circling: bool, top_straightness: float, force_bw: float,
                            effort: float, succeeded_now: bool, fell: bool,
                            weights: HighBarV1RewardWeights) -> tuple[float, dict[str, float]]:
    """Reward of one HighBar-v1 ``giant`` step: technique, not speed. ``circling``: the streak of giants is
    alive (every top so far passed straight, the last one less than ``max_circle_period_s`` ago) - paid per
    step, so in a fixed-length episode faster circles earn no more; ``top_straightness`` in [0, 1] at a top
    passage (0 elsewhere); ``force_bw`` the hand force. ``progress`` is potential-based (sums to net turns)."""
    excess = max(0.0, force_bw - weights.force_free_bw)
    terms = {
        "progress": weights.progress * angle_advance_rad / (2.0 * math.pi),
        "giant": weights.giant if circling else 0.0,
        "top": weights.top * top_straightness,
        "force": -weights.force * excess * excess,
        "effort": -weights.effort * effort,
        "success": weights.success if succeeded_now else 0.0,
        "fall": -weights.fall if fell else 0.0,
    }
    return sum(terms.values()), terms


@dataclass(frozen=True)
class ImitationRewardWeights:
    """Weights and scales of DeepMimic's imitation reward terms (the published code's values [R28, R29];
    REFERENCES C1), plus sportsim's ``foot_slip`` term (off by default; Imitation-v2 turns it on): the
    squared horizontal speed of the stance feet on the floor, so that a planted reference foot is
    tracked by a foot that stays planted (DeepMimic's terms compare poses and velocities only, and a
    sliding stance foot costs them little), and the ``foot_contact`` term (Imitation-v5): the fraction of
    the feet whose floor contact differs from the reference's stance flag, so that a foot lands and lifts
    when the reference's does (DeepMimic's terms pay nothing for keeping a foot down until the reference's
    toe-off, and a policy that lifts it early skips the push-off). The weights are normalised to sum 1; a
    weight of 0 switches a term off."""

    TERMS = ("pose", "velocity", "end_effector", "root", "com", "foot_slip", "foot_contact")

    pose: float = 0.5
    velocity: float = 0.05
    end_effector: float = 0.15
    root: float = 0.2
    com: float = 0.1
    foot_slip: float = 0.0
    foot_contact: float = 0.0
    pose_scale: float = 2.0  # per rad^2 (weighted joint rotation errors)
    velocity_scale: float = 0.1  # per (rad/s)^2
    end_effector_scale: float = 40.0  # per m^2
    root_scale: float = 5.0  # per root error (m^2 + 0.1 rad^2 + ...)
    com_scale: float = 10.0  # per 0.1 (m/s)^2
    foot_slip_scale: float = 100.0  # per (m/s)^2: a stance foot sliding at 0.1 m/s keeps exp(-1) of the term
    foot_contact_scale: float = 2.0  # per fraction of feet: one foot of two off its reference's contact keeps exp(-1)

    def __post_init__(self) -> None:
        values = {name: getattr(self, name) for name in (*self.TERMS, *(f"{t}_scale" for t in self.TERMS))}
        bad = [f"{name}={value!r}" for name, value in values.items() if isinstance(value, bool)
               or not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0)]
        if bad:
            raise ValueError(f"weights and scales must be finite numbers >= 0, got {', '.join(bad)}")
        if sum(getattr(self, t) for t in self.TERMS) <= 0:
            raise ValueError("at least one reward weight must be > 0")

    @cached_property
    def normalised(self) -> tuple[float, ...]:
        """The weights divided by their sum, in :attr:`TERMS` order."""
        total = sum(getattr(self, t) for t in self.TERMS)
        return tuple(getattr(self, t) / total for t in self.TERMS)

    @cached_property
    def scales(self) -> tuple[float, ...]:
        """The scales in :attr:`TERMS` order."""
        return tuple(getattr(self, f"{t}_scale") for t in self.TERMS)


def _imitation_similarity_tuple(errors: tuple[float, ...], weights: ImitationRewardWeights) -> tuple[float, ...]:
    """``exp(-scale * err)`` per term in :attr:`ImitationRewardWeights.TERMS` order; missing (foot) errors are 0."""
    if len(errors) < len(ImitationRewardWeights.TERMS):
        errors = (*errors, *(0.0,) * (len(ImitationRewardWeights.TERMS) - len(errors)))
    return tuple([math.exp(-scale * err) for scale, err in zip(weights.scales, errors)])


def imitation_similarities(
    pose_err: float,
    velocity_err: float,
    end_effector_err: float,
    root_err: float,
    com_err: float,
    weights: ImitationRewardWeights,
    foot_slip_err: float = 0.0,
    foot_contact_err: float = 0.0,
) -> dict[str, float]:
    """``exp(-scale * err)`` per term: 1 for perfect tracking, towards 0 as the error grows."""
    errors = (pose_err, velocity_err, end_effector_err, root_err, com_err, foot_slip_err, foot_contact_err)
    return dict(zip(ImitationRewardWeights.TERMS, _imitation_similarity_tuple(errors, weights)))


def imitation_reward(
    pose_err: float,
    velocity_err: float,
    end_effector_err: float,
    root_err: float,
    com_err: float,
    weights: ImitationRewardWeights,
    foot_slip_err: float = 0.0,
    foot_contact_err: float = 0.0,
) -> tuple[float, dict[str, float]]:
    """Reward of one Imitation step: sum over terms of (w / sum w) exp(-scale err), in [0, 1].

    The errors are DeepMimic's [R28, R29] (definitions in the ImitationEnv docstring): weighted squared
    joint rotation errors (rad^2), weighted squared joint velocity errors ((rad/s)^2), mean squared
    end-effector distance (m^2), the root error (position, rotation, velocity, angular velocity) and
    0.1 x the squared centre-of-mass velocity error; and sportsim's foot slip: the mean over the feet
    on the floor of their squared horizontal speed where they touch it ((m/s)^2), and the foot contact's:
    the fraction of the two feet whose floor contact differs from the reference's stance flag (0, 0.5, 1).
    Returns the reward and each term's share of it by name (:func:`imitation_reward_terms` as a dict).
    """
    errors = (pose_err, velocity_err, end_effector_err, root_err, com_err, foot_slip_err, foot_contact_err)
    reward, terms, _ = imitation_reward_terms(errors, weights)
    return reward, dict(zip(ImitationRewardWeights.TERMS, terms))


def imitation_reward_terms(errors: tuple[float, ...], weights: ImitationRewardWeights
                           ) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    """:func:`imitation_reward` as tuples in :attr:`ImitationRewardWeights.TERMS` order (the env's step: no
    dicts): ``errors`` are DeepMimic's five and optionally the foot slip and contact errors (missing ones are
    0); returns (reward, terms, similarities)."""
    similarities = _imitation_similarity_tuple(errors, weights)
    terms = tuple([w * s for w, s in zip(weights.normalised, similarities)])
    return sum(terms), terms, similarities
