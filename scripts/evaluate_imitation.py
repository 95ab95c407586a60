"""Evaluate an Imitation-v0 policy the way issue 5 states its target: from frame 0 and from random phases.

    python scripts/evaluate_imitation.py <run dir | model .zip> [--which best] [--episodes 100] [--seed 3000000]

Runs the deterministic policy once from frame 0 (the episode is the same every time: no random start)
and ``--episodes`` times from a random phase of the reference (reference state initialisation, seeds
``--seed, --seed+1, ...``), each at most the env's episode length (10 s for the looping walk), through
``sportsim.evaluation.evaluate_policy`` (what ``enjoy`` uses). Prints, per start, the fraction of
episodes that complete without a fall, the mean episode length and the tracking metrics averaged over
each episode's steps and then over episodes: joint position error in mm (global and root-relative) and
joint angle error in degrees; the last line is the same as one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sportsim import runs
from sportsim.evaluation import evaluate_policy

METRICS = ("mpjpe_mm", "mpjpe_root_relative_mm", "joint_angle_error_deg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="run directory or model .zip")
    parser.add_argument("--which", default="best", choices=runs.MODEL_CHOICES)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3_000_000)
    args = parser.parse_args()
    location = runs.locate_model(args.model, args.which)
    result = {"model": str(location.model_file)}
    for start, rsi, episodes in (("frame0", False, 1), ("random_phase", True, args.episodes)):
        policy = runs.open_policy(location, rsi=rsi)
        try:
            figures = evaluate_policy(policy, episodes, args.seed)
        finally:
            policy.close()
        r = result[start] = {"episodes": episodes, "success_rate": figures["success_rate"],
                             "falls": figures["falls"], "mean_episode_steps": figures["mean_episode_steps"],
                             **{m: figures[f"{m}_mean"] for m in METRICS}}
        print(f"{start:>13}: {episodes} episode(s), {100 * r['success_rate']:.0f} % complete without a fall "
              f"({r['falls']} falls), {r['mean_episode_steps']:.1f} steps, MPJPE {r['mpjpe_mm']:.1f} mm "
              f"(root-relative {r['mpjpe_root_relative_mm']:.1f} mm), joint angles {r['joint_angle_error_deg']:.2f} deg")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
