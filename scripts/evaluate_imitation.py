"""Evaluate an Imitation policy the way issues 5 and 20 state their targets: from frame 0 and from random
phases, per clip.

    python scripts/evaluate_imitation.py <run dir | model .zip | zoo entry> [--which best] [--episodes 100]
                                         [--seed 3000000] [--json out.json] [env.kwargs.<arg>=<value> ...]

For every clip the policy was trained on (one, or each of a multi-clip policy's list), runs the
deterministic policy once from frame 0 (the episode is the same every time: no random start) and
``--episodes`` times from a random phase of that clip (reference state initialisation, seeds ``--seed,
--seed+1, ...``), each at most the env's episode length (10 s for the looping walk; a clip played once
ends at its end), through ``sportsim.evaluation.evaluate_policy`` (what ``enjoy`` uses). Prints, per clip
and start, the fraction of episodes that complete without a fall, the mean episode length and the
tracking metrics averaged over each episode's steps and then over episodes: joint position error in mm
(global and root-relative) and joint angle error in degrees; the last line is the same as one JSON object
(``clips``: one entry per clip; a single-clip policy also keeps the top-level ``frame0`` / ``random_phase``
of earlier versions).

``env.*`` settings (as ``enjoy`` takes them) change the policy's env first - e.g. ``env.kwargs.task=walk_run``
evaluates a walk policy on each clip of the walk and the run (how far a warm start begins from), or
``env.motion=[a.bvh,b.bvh]`` on clips it was not trained with: the observation is the same for any clips.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from sportsim import resolve, runs
from sportsim.cli import run_cli
from sportsim.config import parse_env_overrides
from sportsim.evaluation import evaluate_policy
from sportsim.errors import ConfigError

METRICS = ("mpjpe_mm", "mpjpe_root_relative_mm", "joint_angle_error_deg")
STARTS = (("frame0", False), ("random_phase", True))


def evaluate_clips(location: runs.ModelLocation, episodes: int, seed: int, env_overrides: Sequence[str] = ()) -> dict:
    """Per clip of the policy's env (changed by ``env_overrides``, ``env.*=value`` lines): the figures of one
    frame-0 episode and ``episodes`` random-phase ones."""
    clips: list[dict] = []
    parsed = parse_env_overrides(env_overrides)
    for start, rsi in STARTS:
        policy = runs.open_policy(location, env_overrides=parsed, rsi=rsi)
        try:
            tracks = policy.env.unwrapped.tracks
            while len(clips) < len(tracks):
                track = tracks[len(clips)]
                clips.append({"clip": len(clips), "name": track.name, "cyclic": bool(track.cyclic),
                              "notes": track.notes})
            for i, entry in enumerate(clips):
                n = 1 if start == "frame0" else episodes
                figures = evaluate_policy(policy, n, seed, reset_options={"clip": i})
                entry[start] = {"episodes": n, "success_rate": figures["success_rate"], "falls": figures["falls"],
                                "mean_episode_steps": figures["mean_episode_steps"],
                                **{m: figures[f"{m}_mean"] for m in METRICS}}
        finally:
            policy.close()
    result = {"model": str(location.model_file), "clips": clips}
    if env_overrides:
        result["env_overrides"] = list(env_overrides)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="run directory, model .zip or zoo entry (zoo:imitation/walk/ppo)")
    parser.add_argument("--which", default="best", choices=runs.MODEL_CHOICES)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3_000_000)
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON here (not overwritten)")
    parser.add_argument("env_overrides", nargs="*", metavar="env.KEY=VALUE",
                        help="change the policy's env first, e.g. env.kwargs.task=walk_run")
    args = parser.parse_intermixed_args(argv)  # env.* settings before or after the options
    if args.json is not None and args.json.exists():
        raise ConfigError(f"--json {args.json}: the file exists (not overwritten); choose another name")
    parse_env_overrides(args.env_overrides)  # bad settings fail before the policy is looked for
    result = evaluate_clips(resolve.policy(args.model, args.which).location, args.episodes, args.seed,
                            args.env_overrides)
    for entry in result["clips"]:
        for start, _ in STARTS:
            r = entry[start]
            print(f"{entry['name']} {start:>13}: {r['episodes']} episode(s), {100 * r['success_rate']:.0f} % complete "
                  f"without a fall ({r['falls']} falls), {r['mean_episode_steps']:.1f} steps, MPJPE "
                  f"{r['mpjpe_mm']:.1f} mm (root-relative {r['mpjpe_root_relative_mm']:.1f} mm), joint angles "
                  f"{r['joint_angle_error_deg']:.2f} deg")
    if len(result["clips"]) == 1:
        result.update({start: result["clips"][0][start] for start, _ in STARTS})
    text = json.dumps(result)
    if args.json is not None:
        runs.atomic_write(args.json, lambda f: f.write((text + "\n").encode()))
    print(text)
    return 0


if __name__ == "__main__":
    run_cli(main)
