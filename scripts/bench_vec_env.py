"""Rollout throughput of ``vec_env=dummy`` (all env copies in the training process) against
``vec_env=subproc`` (one process per copy), side by side, as the training command builds them.

    python scripts/bench_vec_env.py [env=imitation] [--n-envs 8] [--seconds 10] [--rounds 3] [--json out.json]

For each setting, builds the training vector env exactly as ``python -m sportsim.train env=<env>
n_envs=N vec_env=...`` does (:func:`sportsim.builders.make_vec_envs`, observation normalisation on)
and a PPO policy with the env's tuned network (``configs/hparams``), then collects steps the way
PPO's rollout does: policy forward pass on the batch of observations, ``step`` of every copy. The PPO
update is left out (it costs the same either way). The two settings take turns, each for
``--seconds`` per round, so load changes on a shared machine hit both alike; the table gives the
median env steps/s (summed over copies) and the median per-round ratio subproc / dummy.

What to expect: subproc pays an inter-process round trip per step and copy; it wins once the machine
has cores to spare for the copies, and loses on a machine with fewer cores than copies.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch

from sportsim import builders
from sportsim.config import load_train_config


def collect(venv, model, seconds: float) -> float:
    """Env steps per second (all copies) over ``seconds`` of PPO-style collection."""
    obs = venv.reset()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        actions, _ = model.predict(obs, deterministic=False)  # (predict runs without gradients)
        obs, _, _, _ = venv.step(actions)
        steps += venv.num_envs
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", default=["env=imitation"], help="train-config overrides")
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the training command does (torch_threads: 1)
    cfg = load_train_config([*args.overrides, f"n_envs={args.n_envs}", "algo=ppo"])
    results: dict[str, list[float]] = {"dummy": [], "subproc": []}
    setups = {}
    for mode in results:
        venv = builders.make_vec_envs(cfg, n_envs=args.n_envs, seed=0, training=True, subproc=mode == "subproc")
        setups[mode] = (venv, builders.build_algorithm(cfg, venv))
    try:
        for _ in range(args.rounds):
            for mode, (venv, model) in setups.items():
                results[mode].append(collect(venv, model, args.seconds))
    finally:
        for venv, _ in setups.values():
            venv.close()
    ratios = [s / d for s, d in zip(results["subproc"], results["dummy"])]
    summary = {"env": cfg.env.id, "n_envs": args.n_envs, "cpu_count": os.cpu_count(), "machine": platform.processor()
               or platform.machine(), "seconds_per_round": args.seconds, "rounds": args.rounds,
               "dummy_steps_per_s": statistics.median(results["dummy"]),
               "subproc_steps_per_s": statistics.median(results["subproc"]),
               "subproc_over_dummy": statistics.median(ratios)}
    print(f"{cfg.env.id}, {args.n_envs} env copies, {os.cpu_count()} CPU cores, {args.rounds} rounds of {args.seconds:g} s")
    print(f"  vec_env=dummy   {summary['dummy_steps_per_s']:9.0f} env steps/s")
    print(f"  vec_env=subproc {summary['subproc_steps_per_s']:9.0f} env steps/s   ({summary['subproc_over_dummy']:.2f} x dummy)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in summary.items()}))


if __name__ == "__main__":
    main()
