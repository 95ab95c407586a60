"""Pure reward functions: state summaries in, ``(total, {term: value})`` out.

Every env logs each term as ``info["reward_<term>"]``; the terms always sum to the reward.
"""

from __future__ import annotations

from dataclasses import dataclass


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
