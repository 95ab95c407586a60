"""Timesteps and wall time to reach 90 % success: PPO on HalfPipe-v0 (the project's committed config)
next to SAC on MountainCarContinuous-v0 (rl-baselines3-zoo's tuned hyperparameters), one process.

Every ``--eval-every`` training steps the current policy runs ``--episodes`` deterministic evaluation
episodes on fresh seeds; a run stops the first time the success rate reaches ``--target``.
Success: HalfPipe-v0 ``info["is_success"]`` (board at the coping); MountainCarContinuous-v0 reaching
the goal (the only way its episode terminates).

    python scripts/bench_sample_efficiency.py [--seeds 0 1 2] [--max-steps 300000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Callable

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

import sportsim  # noqa: F401
from sportsim.builders import build_algorithm, make_vec_envs
from sportsim.config import compose_train_config


class SuccessTimer(BaseCallback):
    """Evaluates every ``every`` steps; stops training at the target success rate."""

    def __init__(self, env_id: str, episodes: int, every: int, target: float,
                 succeeded: Callable[[bool, dict], bool], normalize: VecNormalize | None = None) -> None:
        super().__init__()
        self.env = gym.make(env_id)
        self.episodes, self.every, self.target = episodes, every, target
        self.succeeded, self.normalize = succeeded, normalize
        self.history: list[tuple[int, float, float]] = []
        self.reached: tuple[int, float] | None = None
        self._start = time.perf_counter()
        self._eval_s = 0.0  # evaluation time, kept out of the training wall time
        self._next = every

    def _success_rate(self) -> float:
        wins = 0
        for i in range(self.episodes):
            obs, _ = self.env.reset(seed=1_000_000 + i)
            while True:
                x = self.normalize.normalize_obs(obs) if self.normalize is not None else obs
                action, _ = self.model.predict(x, deterministic=True)
                obs, _, terminated, truncated, info = self.env.step(action)
                if terminated or truncated:
                    wins += self.succeeded(terminated, info)
                    break
        return wins / self.episodes

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.every
        wall = time.perf_counter() - self._start - self._eval_s
        started = time.perf_counter()
        rate = self._success_rate()
        self._eval_s += time.perf_counter() - started
        self.history.append((self.num_timesteps, rate, wall))
        print(f"  {self.num_timesteps:8d} steps  success {rate:4.0%}  train wall {wall:6.0f} s", flush=True)
        if rate >= self.target:
            self.reached = (self.num_timesteps, wall)
            return False
        return True


def halfpipe_ppo(seed: int, args) -> SuccessTimer:
    cfg = compose_train_config(["env=halfpipe", "algo=ppo", f"seed={seed}"])
    venv: VecEnv = make_vec_envs(cfg, n_envs=cfg.n_envs, seed=seed, training=True)
    model = build_algorithm(cfg, venv, seed=seed)
    timer = SuccessTimer(cfg.env.id, args.episodes, args.eval_every, args.target,
                         lambda terminated, info: bool(info["is_success"]),
                         normalize=venv if isinstance(venv, VecNormalize) else None)
    model.learn(args.max_steps, callback=timer)
    return timer


def mountaincar_sac(seed: int, args) -> SuccessTimer:
    # rl-baselines3-zoo hyperparams/sac.yml, MountainCarContinuous-v0 (n_timesteps 50000)
    venv = make_vec_env("MountainCarContinuous-v0", n_envs=1, seed=seed)
    model = SAC("MlpPolicy", venv, seed=seed, device="cpu", learning_rate=3e-4, buffer_size=50000,
                batch_size=512, ent_coef=0.1, train_freq=32, gradient_steps=32, gamma=0.9999, tau=0.01,
                learning_starts=0, use_sde=True, policy_kwargs=dict(log_std_init=-3.67, net_arch=[64, 64]))
    timer = SuccessTimer("MountainCarContinuous-v0", args.episodes, args.eval_every, args.target,
                         lambda terminated, info: bool(terminated))
    model.learn(args.max_steps, callback=timer)
    return timer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-steps", type=int, default=300_000)
    parser.add_argument("--eval-every", type=int, default=5000)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(1)

    results = {}
    for name, run in (("PPO on HalfPipe-v0", halfpipe_ppo), ("SAC on MountainCarContinuous-v0", mountaincar_sac)):
        runs = []
        for seed in args.seeds:
            print(f"{name}, seed {seed}", flush=True)
            timer = run(seed, args)
            runs.append({"seed": seed, "reached": timer.reached, "history": timer.history})
        results[name] = runs

    print(f"\n{'run':34s} {'seeds reaching':>15s} {'median steps':>13s} {'median wall s':>14s}")
    medians = {}
    for name, runs in results.items():
        hit = [r["reached"] for r in runs if r["reached"] is not None]
        steps = statistics.median(h[0] for h in hit) if hit else float("nan")
        wall = statistics.median(h[1] for h in hit) if hit else float("nan")
        medians[name] = steps
        print(f"{name:34s} {len(hit):>8d}/{len(runs):<6d} {steps:13.0f} {wall:14.0f}")
    a, b = medians.values()
    print(f"ratio of timesteps (PPO HalfPipe / SAC MountainCar): {a / b:.2f}" if np.isfinite(a / b) else "")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
