"""Cross-engine evaluation: an Imitation policy trained in one engine, evaluated in MuJoCo and in PyBullet.

    python scripts/cross_engine_imitation.py [zoo:imitation/walk/ppo] [--episodes 100] [--seed 3000000]
                                             [--which best] [--json out.json]

For each engine (``engine=mujoco`` and ``engine=pybullet`` of Imitation: the same MuJoCo model, stepped
by MuJoCo or by PyBullet through :mod:`sportsim.sim`), the deterministic policy runs once from frame 0
and ``--episodes`` times from random phases of its reference (seeds ``--seed, --seed+1, ...``), through
:func:`sportsim.evaluation.evaluate_policy` as ``enjoy`` runs it. Prints one row per engine and start -
episodes without a fall, mean episode length, global and root-relative joint position error (mm),
joint angle error - and, last, the same as one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import time

from sportsim import resolve, runs
from sportsim.evaluation import evaluate_policy

METRICS = ("mpjpe_mm", "mpjpe_root_relative_mm", "joint_angle_error_deg")
ENGINES = ("mujoco", "pybullet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("policy", nargs="?", default="zoo:imitation/walk/ppo", help="zoo entry, run dir or model .zip")
    parser.add_argument("--which", default=None, choices=runs.MODEL_CHOICES)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3_000_000)
    parser.add_argument("--json", help="also write the result to this JSON file")
    args = parser.parse_args()
    ref = resolve.policy(args.policy, args.which)
    result: dict = {"policy": ref.describe()}
    print(f"{'engine':9s} {'start':>13s} {'episodes':>8s} {'no fall':>8s} {'steps':>7s} {'MPJPE mm':>9s} "
          f"{'root-rel mm':>11s} {'angle deg':>9s} {'wall s':>7s}")
    for engine in ENGINES:
        for start, rsi, episodes in (("frame0", False, 1), ("random_phase", True, args.episodes)):
            began = time.perf_counter()
            policy = runs.open_policy(ref.location, rsi=rsi, engine=engine)
            try:
                figures = evaluate_policy(policy, episodes, args.seed)
            finally:
                policy.close()
            row = {"episodes": episodes, "success_rate": figures["success_rate"], "falls": figures["falls"],
                   "mean_episode_steps": figures["mean_episode_steps"],
                   **{m: figures[f"{m}_mean"] for m in METRICS}, "wall_s": time.perf_counter() - began}
            result.setdefault(engine, {})[start] = row
            print(f"{engine:9s} {start:>13s} {episodes:8d} {100 * row['success_rate']:7.0f}% "
                  f"{row['mean_episode_steps']:7.1f} {row['mpjpe_mm']:9.1f} {row['mpjpe_root_relative_mm']:11.1f} "
                  f"{row['joint_angle_error_deg']:9.2f} {row['wall_s']:7.1f}", flush=True)
    print(json.dumps(result))
    if args.json:  # atomically: a temporary sibling, then os.replace
        text = json.dumps(result, indent=2).encode()
        runs.atomic_write(Path(args.json), lambda f: f.write(text))


if __name__ == "__main__":
    main()
