"""How does a HighBar-v0 handstand policy "hold" the handstand: balance over the bar, or slow passes?

    python scripts/highbar_handstand_holds.py <run dir | model .zip> [--which best] [--episodes 100] [--seed 2000000]

Runs the deterministic policy for ``--episodes`` episodes (seeds ``--seed, --seed+1, ...``; the env and
its start state as the run was trained to be evaluated) and records every stretch of time the gymnast
spends in the handstand window (``info["in_handstand"]``): how long it lasted, the lean of the bar ->
centre-of-mass line from vertical and the bar angle rate when it began, and why it ended - the lean
left the window (``lean``) or a joint left its tolerance (``joints``) - and on which side of vertical.
A balanced handstand enters the window slowly and stays; a pass enters at the window's edge moving
towards vertical and leaves it on the other side, and rocking leaves it on the entry side.

Prints the success rate, counts, medians and the longest stretches; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from sportsim import runs

MIN_STRETCH_S = 0.3  # shorter stretches are brushes past the window's edge; not counted


def lean_deg(bar_angle_rad: float) -> float:
    """Lean of the bar -> CoM line from vertical above the bar (bar angle pi), degrees in [-180, 180)."""
    return math.degrees(bar_angle_rad % (2.0 * math.pi) - math.pi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="run directory or model .zip")
    parser.add_argument("--which", default="best", choices=runs.MODEL_CHOICES)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2_000_000)
    args = parser.parse_args()
    policy = runs.open_policy(runs.locate_model(args.model, args.which))
    if policy.cfg.env.kwargs.get("task") != "handstand":
        raise SystemExit(f"{args.model}: not a HighBar-v0 handstand run")
    window = math.degrees(policy.env.unwrapped.handstand_tolerance_rad)
    stretches = []  # (duration s, entry lean deg, entry rate rad/s, end reason, exit lean deg)
    successes = 0
    try:
        for episode in range(args.episodes):
            obs, info = policy.env.reset(seed=args.seed + episode)
            inside, entry, held = False, (0.0, 0.0), 0.0
            done = False
            while not done:
                obs, _, terminated, truncated, info = policy.env.step(policy.act(obs))
                done = terminated or truncated
                lean = lean_deg(info["bar_angle_rad"])
                if info["in_handstand"] and not inside:
                    entry = (lean, float(obs[2]))
                if inside and (not info["in_handstand"] or done) and held >= MIN_STRETCH_S:
                    reason = "episode end" if info["in_handstand"] else ("lean" if abs(lean) > window else "joints")
                    stretches.append((held, *entry, reason, lean))
                inside, held = bool(info["in_handstand"]), float(info["hold_time_s"])
            successes += bool(info["max_hold_s"] >= policy.env.unwrapped.success_hold_s)
    finally:
        policy.close()

    long = [s for s in stretches if s[0] >= 1.0]
    towards = [s for s in long if s[1] * s[2] < 0]  # moving towards vertical when entering
    crossed = [s for s in long if s[3] == "lean" and s[4] * s[1] < 0]
    rocked = [s for s in long if s[3] == "lean" and s[4] * s[1] > 0]
    result = {
        "model": str(args.model), "episodes": args.episodes, "success_rate": successes / args.episodes,
        f"stretches_ge_{MIN_STRETCH_S:g}s": len(stretches), "stretches_ge_1s": len(long),
        "ended_by": {r: sum(s[3] == r for s in long) for r in ("lean", "joints", "episode end")},
        "median_entry_lean_deg": float(np.median([abs(s[1]) for s in long])) if long else None,
        "median_entry_rate_radps": float(np.median([abs(s[2]) for s in long])) if long else None,
        "entered_moving_towards_vertical": len(towards), "left_on_the_other_side": len(crossed),
        "fell_back_on_the_entry_side": len(rocked),
        "longest_s": sorted((round(s[0], 2) for s in stretches), reverse=True)[:5],
    }
    print(f"{args.episodes} episodes, success (hold >= {policy.env.unwrapped.success_hold_s:g} s) "
          f"{100 * result['success_rate']:.0f} %")
    print(f"stretches in the handstand window: {len(stretches)} of >= {MIN_STRETCH_S:g} s, {len(long)} of >= 1 s")
    if long:
        print(f"  of those >= 1 s: entered at a median lean of {result['median_entry_lean_deg']:.1f} deg moving at "
              f"{result['median_entry_rate_radps']:.2f} rad/s, {len(towards)} moving towards vertical; ended by "
              f"{result['ended_by']}; {len(crossed)} left over the other side, {len(rocked)} fell back")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
