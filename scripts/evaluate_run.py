"""Evaluate a trained policy over many episodes and print the figures a zoo card records.

    python scripts/evaluate_run.py <run dir | model .zip> [--model final|best|latest] [--episodes 100]
                                   [--seed 2000000] [--json out.json]

Episodes start from seeds ``seed, seed+1, ...`` (none of them used in training, whose env copies start
at the run seed and evaluation at seed + 1e6). Actions are deterministic.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np

from sportsim import runs


def evaluate(location: runs.ModelLocation, episodes: int = 100, seed: int = 2_000_000) -> dict:
    """Deterministic roll-outs of the located policy from seeds ``seed .. seed+episodes-1``."""
    loaded = runs.open_policy(location)
    returns, successes, lengths, times_to_success, falls = [], [], [], [], 0
    try:
        for episode in range(episodes):
            obs, info = loaded.env.reset(seed=seed + episode)
            total, steps, success_time = 0.0, 0, None
            while True:
                obs, reward, terminated, truncated, info = loaded.env.step(loaded.act(obs))
                total += float(reward)
                steps += 1
                if success_time is None and info.get("is_success"):
                    success_time = info.get("time_s", steps)
                if terminated or truncated:
                    break
            returns.append(total)
            lengths.append(steps)
            successes.append(bool(info.get("is_success", False)))
            falls += info.get("fall") not in (None, False)
            if success_time is not None:
                times_to_success.append(success_time)
    finally:
        loaded.close()
    return {
        "path": str(location.model_file),
        "env": loaded.cfg.env.id,
        "algo": loaded.cfg.algo.name,
        "episodes": episodes,
        "first_seed": seed,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "success_rate": float(np.mean(successes)),
        "falls": int(falls),
        "mean_episode_steps": float(np.mean(lengths)),
        "median_time_to_success_s": statistics.median(times_to_success) if times_to_success else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--model", default="final", choices=runs.MODEL_CHOICES)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2_000_000)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures = evaluate(runs.locate_model(args.path, args.model), args.episodes, args.seed)
    for key, value in figures.items():
        print(f"{key:26s} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
