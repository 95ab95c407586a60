"""Retrain a zoo entry from its recorded config: one command per entry.

    python scripts/zoo_retrain.py                      # list the entries and their commands
    python scripts/zoo_retrain.py halfpipe/ppo [--runs-root runs] [--seed N]   # retrain one

Each entry is retrained with ``python -m sportsim.train config_from=zoo/<entry>``: exactly the saved
``config.yaml`` (env, task, algorithm, hyperparameters, steps, seed), in a new run directory under
``--runs-root``. Compare the new run with the entry using ``python -m sportsim.enjoy model=<new run>
episodes=100`` against the entry's ``evaluation.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from sportsim import zoo


def command(entry: zoo.ZooEntry, runs_root: str, seed: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "sportsim.train", f"config_from={entry.path}", f"runs_root={runs_root}"]
    return cmd + ([f"seed={seed}"] if seed is not None else [])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entry", nargs="?", help="zoo entry, e.g. halfpipe/ppo or highbar/giant/sac")
    parser.add_argument("--runs-root", default="runs")
    parser.add_argument("--seed", type=int, default=None, help="another seed (default: the entry's)")
    args = parser.parse_args()
    entries = {e.name: e for e in zoo.load_manifest()}
    if args.entry is None:
        for entry in entries.values():
            cost = f"{entry.timesteps} steps, {entry.train_wall_s or 0:.0f} s on the machine that trained it"
            print(f"{entry.name:22s} {' '.join(command(entry, args.runs_root, args.seed)[1:])}   # {cost}")
        return 0
    if args.entry not in entries:
        sys.exit(f"sportsim: no zoo entry {args.entry!r} (entries: {', '.join(entries)})")
    return subprocess.call(command(entries[args.entry], args.runs_root, args.seed))


if __name__ == "__main__":
    sys.exit(main())
