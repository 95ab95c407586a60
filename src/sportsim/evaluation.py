"""Deterministic evaluation of a trained policy over many episodes: the figures zoo cards, ``enjoy`` and
``python -m sportsim.enjoy`` and ``scripts/zoo_add.py`` report.

Episodes start from seeds ``seed, seed+1, ...``; the default 2,000,000 is used by no training run (env
copies start at the run seed, periodic evaluation at seed + 1,000,000).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import numpy as np

from sportsim import runs

EVALUATION_SEED = 2_000_000
# per-episode figures some envs report in their last ``info``: summarised as mean / median / min / max; an env's
# ``metadata["tb_metrics"]`` (sportsim.callbacks.env_metrics) adds its own, averaged over the episode's
# steps where it says "mean"
EPISODE_FIGURES = ("max_hold_s", "circles", "max_hand_force_bw")


def evaluate_policy(loaded: runs.LoadedPolicy, episodes: int = 100, seed: int = EVALUATION_SEED,
                    deterministic: bool = True,
                    on_step: Callable[[int, dict[str, Any]], None] | None = None,
                    reset_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Roll out ``loaded`` for ``episodes`` episodes; ``on_step(episode, info)`` sees every step;
    ``reset_options`` go to every ``env.reset`` (e.g. Imitation's ``{"clip": i}``). Episodes of an env
    whose ``info["clip"]`` takes several values are also summarised per clip (``per_clip``)."""
    returns, successes, lengths, times_to_success, falls, clips = [], [], [], [], 0, []
    metrics = {name: "last" for name in EPISODE_FIGURES}
    metrics.update((loaded.env.metadata or {}).get("tb_metrics") or {})
    figures: dict[str, list[float]] = {name: [] for name in metrics}
    for episode in range(episodes):
        obs, info = loaded.env.reset(seed=seed + episode, options=reset_options)
        total, steps, success_time = 0.0, 0, None
        sums: dict[str, float] = dict.fromkeys(metrics, 0.0)
        while True:
            obs, reward, terminated, truncated, info = loaded.env.step(loaded.act(obs, deterministic))
            total += float(reward)
            steps += 1
            for name, how in metrics.items():
                if how == "mean" and isinstance(info.get(name), (int, float)):
                    sums[name] += float(info[name])
            if on_step is not None:
                on_step(episode, info)
            if success_time is None and info.get("is_success"):
                success_time = info.get("time_s", steps)
            if terminated or truncated:
                break
        returns.append(total)
        lengths.append(steps)
        successes.append(bool(info.get("is_success", False)))
        clips.append(info.get("clip"))
        falls += info.get("fall") not in (None, False)
        if success_time is not None:
            times_to_success.append(success_time)
        for name, how in metrics.items():
            if how == "mean" and name in info:
                figures[name].append(sums[name] / steps)
            elif isinstance(info.get(name), (int, float)):
                figures[name].append(float(info[name]))
    result: dict[str, Any] = {
        "path": str(loaded.location.model_file),
        "env": loaded.cfg.env.id,
        "task": loaded.cfg.get("task"),
        "algo": loaded.cfg.algo.name,
        "episodes": episodes,
        "first_seed": seed,
        "deterministic": deterministic,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "success_rate": float(np.mean(successes)),
        "falls": int(falls),
        "mean_episode_steps": float(np.mean(lengths)),
        "median_time_to_success_s": statistics.median(times_to_success) if times_to_success else None,
    }
    for name, values in figures.items():
        if len(values) == episodes:
            result[f"{name}_mean"] = float(np.mean(values))
            result[f"{name}_median"] = statistics.median(values)
            result[f"{name}_min"] = min(values)
            result[f"{name}_max"] = max(values)
    if len(set(clips)) > 1:  # a multi-clip env (Imitation's info["clip"]): the same figures per clip
        result["per_clip"] = {}
        names = getattr(loaded.env.unwrapped, "clip_names", None) or ()  # Imitation: info["clip"] -> file name
        for clip in sorted(set(clips), key=str):
            rows = [i for i, c in enumerate(clips) if c == clip]
            entry = {"episodes": len(rows), "success_rate": float(np.mean([successes[i] for i in rows])),
                     "mean_return": float(np.mean([returns[i] for i in rows]))}
            if isinstance(clip, int) and 0 <= clip < len(names):
                entry["name"] = names[clip]
            entry.update({f"{name}_mean": float(np.mean([values[i] for i in rows]))
                          for name, values in figures.items() if len(values) == episodes})
            result["per_clip"][str(clip)] = entry
    return result


def evaluate(location: runs.ModelLocation, episodes: int = 100, seed: int = EVALUATION_SEED,
             deterministic: bool = True, device: str = "cpu") -> dict[str, Any]:
    """Deterministic roll-outs of the located policy from seeds ``seed .. seed+episodes-1``."""
    loaded = runs.open_policy(location, device)
    try:
        return evaluate_policy(loaded, episodes, seed, deterministic)
    finally:
        loaded.close()
