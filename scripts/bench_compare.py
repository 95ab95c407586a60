"""Benchmark ``python -m sportsim.compare``: the wall time of a 20 s comparison.

Compares two captures of repeated two-footed jumps by different performers and skeletons - CMU subject
01 "forward jumps" (A; also shipped in mocap/) and SFU subject 0005 "2FeetJump001" (B), from shared/mocap -
over 20 s at 30 fps (~600 frames, 1080 x 1350 px, DTW alignment), in this process, once per view given
(default: ``all``, the ghost overlay from the side, the front and above - three cameras per frame - and
``side``, the previous layout, for the ratio). Reports each run's total wall time and its parts
(reading + retargeting, alignment, the video, the summary sheet) from the phases' own clocks, the
video frames written per second, the CPU time it took (this process and the video encoder, a child
process) and the machine's load average before and after - on the shared development machine other
jobs stretch the wall time, not the CPU time.

Usage: python scripts/bench_compare.py [--mocap-dir DIR] [--seconds 20] [--align dtw] [--width 1080]
                                      [--views all side]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

DEFAULT_MOCAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "mocap"
A_FILE = "cmu_01_01_forward_jumps.bvh"
B_FILE = "sfu_0005_2FeetJump001.bvh"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap-dir", type=Path, default=DEFAULT_MOCAP_DIR)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--align", default="dtw")
    parser.add_argument("--width", type=int, default=1080)
    parser.add_argument("--views", nargs="+", default=["all", "side"])
    args = parser.parse_args()

    start = time.perf_counter()
    from sportsim import compare as cmp  # the import (matplotlib, MuJoCo) counts: a user waits for it too

    import_s = time.perf_counter() - start
    import_cpu_s = _cpu_s()
    phases: dict[str, float] = {}

    def timed(name: str, fn):  # wrap a module function to add its wall time to `phases`
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    cmp.load_movement = timed("read + retarget", cmp.load_movement)
    cmp.align_movements = timed("align", cmp.align_movements)
    cmp.render_video = timed("video", cmp.render_video)
    cmp.write_sheet = timed("summary sheet", cmp.write_sheet)
    totals = {}
    for view in args.views:
        phases.clear()
        load_before = os.getloadavg()[0]
        cpu0 = _cpu_s()
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            result = cmp.compare(args.mocap_dir / A_FILE, args.mocap_dir / B_FILE, out=Path(tmp) / "bench",
                                 seconds=args.seconds, align=args.align, width=args.width, view=view)
        total_s = time.perf_counter() - t0 + import_s
        cpu_s = _cpu_s() - cpu0 + (import_cpu_s if view == args.views[0] else 0.0)
        totals[view] = total_s
        video = result.video
        print(f"view={view}: compare {A_FILE} vs {B_FILE}: {video.frames} frames ({video.frames / video.fps:.1f} s) "
              f"at {video.fps:g} fps, {video.width_px}x{video.height_px} px; {result.alignment.description}")
        for name, seconds in phases.items():
            print(f"  {name:18s} {seconds:6.1f} s")
        print(f"  total wall time    {total_s:6.1f} s (import {import_s:.1f} s included), "
              f"{video.frames / phases['video']:.1f} video frames per second")
        print(f"  CPU time           {cpu_s:6.1f} s (this process and the encoder); load average "
              f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    if len(totals) > 1:
        first, *others = totals
        for view in others:
            print(f"view={first} takes {totals[first] / totals[view]:.2f}x the time of view={view}")


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its finished children (the ffmpeg encoder)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
