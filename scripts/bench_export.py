"""Benchmark ``python -m sportsim.export``: the wall time of the whole command (Python's start, imports,
loading the policy, the 10 s rollout, every writer) exporting the zoo walk to all five formats, this
checkout side by side with an earlier commit.

The earlier commit's ``src/`` is unpacked with ``git archive`` into a temporary folder (the data folders
- envs, configs, zoo, mocap - linked from this checkout, so both export the same zoo entry) and run with
it first on ``PYTHONPATH``. The two commands take turns, ``--repeats`` times each, every run in a fresh
empty folder; reported: each run's wall time, the medians, their ratio, the load average before and after
(on the shared development machine other jobs stretch wall times), and how far the two versions' CSV
columns lie apart (the same rollout up to float32 rounding of the policy's actions).

Usage: python scripts/bench_export.py [--before ac9b4b3] [--repeats 5] [--source zoo:imitation/walk/ppo]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_FOLDERS = ("envs", "configs", "zoo", "mocap")
OUTPUTS = ("walk.bvh", "walk.trc", "walk.mot", "walk.csv", "walk.onnx")
BEFORE = "ac9b4b3"  # main before the export's fast path (issue 17's second session)


def unpack(rev: str, folder: Path) -> Path:
    """``src/`` of commit ``rev`` in ``folder``, with this checkout's data folders linked beside it."""
    folder.mkdir(parents=True)
    archive = folder / "src.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], stdout=f, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    for name in DATA_FOLDERS:
        (folder / name).symlink_to(ROOT / name)
    return folder / "src"


def run(source: str, pythonpath: Path | None, folder: Path) -> float:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sportsim.export", source, *OUTPUTS], cwd=folder, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def csv_difference(a: Path, b: Path) -> tuple[str, float]:
    """The CSV column whose values differ most between two exports, and by how much."""
    with a.open() as fa, b.open() as fb:
        ra, rb = list(csv.DictReader(fa)), list(csv.DictReader(fb))
    if len(ra) != len(rb) or list(ra[0]) != list(rb[0]):
        return "frames or columns differ", float("inf")
    worst = max(((c, max(abs(float(x[c]) - float(y[c])) for x, y in zip(ra, rb))) for c in ra[0]),
                key=lambda t: t[1])
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="the earlier commit (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--source", default="zoo:imitation/walk/ppo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sportsim_bench_export_") as tmp:
        tmp_path = Path(tmp)
        before_src = unpack(args.before, tmp_path / "before")
        versions = {f"before ({args.before})": before_src, "this checkout": None}
        times: dict[str, list[float]] = {name: [] for name in versions}
        last: dict[str, Path] = {}
        load_before = os.getloadavg()
        for k in range(args.repeats):
            for name, path in versions.items():
                folder = tmp_path / f"run_{k}_{len(last)}_{name.split()[0]}"
                folder.mkdir()
                times[name].append(run(args.source, path, folder))
                last[name] = folder
        load_after = os.getloadavg()
        print(f"python -m sportsim.export {args.source} {' '.join(OUTPUTS)}: wall time of the whole command, "
              f"{args.repeats} runs each, alternating")
        for name, values in times.items():
            print(f"  {name:22s} median {statistics.median(values):6.2f} s   runs: "
                  + " ".join(f"{v:.2f}" for v in values))
        old, new = (statistics.median(v) for v in times.values())
        print(f"  ratio before / now: {old / new:.2f}x")
        print(f"  load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
              f"after: {' '.join(f'{x:.2f}' for x in load_after)}; {os.cpu_count()} CPUs")
        a, b = (last[name] / "walk.csv" for name in versions)
        column, diff = csv_difference(a, b)
        print(f"  largest CSV difference between the versions: {diff:.3g} ({column})")


if __name__ == "__main__":
    main()
