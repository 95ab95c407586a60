"""Environment steps per second of HalfPipe-v2 (and v1, v0, HighBar-v1/v0) next to Gymnasium's
MountainCarContinuous-v0 and Acrobot-v1, measured side by side in one process and reported as ratios
(issue 16's target: HalfPipe >= 1.0x Acrobot-v1; v2 integrates its two-coordinate dynamics itself).

Each env is created with ``gymnasium.make`` (so every env pays the same wrapper overhead) and stepped
with actions drawn in advance; the envs take turns in several short rounds so that load changes on a
shared machine hit all of them alike; the median round is reported.

    python scripts/bench_env_speed.py [--steps 20000] [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import gymnasium as gym
import mujoco
import numpy as np

import sportsim  # noqa: F401  (registers the sportsim envs)

ENVS = ("sportsim/HalfPipe-v2", "sportsim/HalfPipe-v1", "sportsim/HalfPipe-v0", "sportsim/HighBar-v1", "sportsim/HighBar-v0",
        "MountainCarContinuous-v0", "Acrobot-v1")
REFERENCE = "Acrobot-v1"


def steps_per_second(env_id: str, steps: int, seed: int) -> float:
    env = gym.make(env_id)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20000, help="env steps per env and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    rates: dict[str, list[float]] = {env_id: [] for env_id in ENVS}
    for r in range(args.rounds):
        for env_id in ENVS:
            rates[env_id].append(steps_per_second(env_id, args.steps, seed=r))
    median = {env_id: statistics.median(v) for env_id, v in rates.items()}

    print(f"{'env':28s} {'steps/s (median)':>16s} {'min':>10s} {'max':>10s} {'ratio to ' + REFERENCE:>18s}")
    for env_id in ENVS:
        v = rates[env_id]
        print(f"{env_id:28s} {median[env_id]:16.0f} {min(v):10.0f} {max(v):10.0f} {median[env_id] / median[REFERENCE]:18.2f}")
    halfpipe = gym.make("sportsim/HalfPipe-v1").unwrapped
    print(f"HalfPipe-v1 step = {halfpipe.n_substeps} MuJoCo steps of {halfpipe.model.opt.timestep * 1e3:.1f} ms "
          f"(control {1 / halfpipe.control_dt_s:.0f} Hz); MuJoCo {mujoco.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}")
    v2 = gym.make("sportsim/HalfPipe-v2").unwrapped
    print(f"HalfPipe-v2 step = RK4 in two coordinates, steps of at most {v2.dynamics.dt_s * 1e3:.0f} ms (cut at the "
          f"profile's curvature breaks; sportsim.envs.halfpipe_board)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"steps_per_round": args.steps, "rounds": rates, "median": median,
                       "ratio_to_" + REFERENCE: {k: v / median[REFERENCE] for k, v in median.items()}}, f, indent=2)


if __name__ == "__main__":
    main()
