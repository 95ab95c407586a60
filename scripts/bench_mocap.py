"""Benchmark the motion-capture readers.

1. BVH: load time of the 20 s CMU clip (2752 frames at 120 fps), median of N runs, side by side with
   bvhio's own loaders (``readAsBvh``: parse only; ``readAsHierarchy``: parse + joint hierarchy).
2. MVNX: a ~100 MB synthetic file made by repeating the real Xsens file's normal frames, parsed in a
   fresh child process that reports its time, peak RSS (``resource.getrusage``) before and after the
   parse, and the parse's Python heap peak (tracemalloc).

Usage: python scripts/bench_mocap.py [--mocap-dir DIR] [--repeats 5] [--mvnx-mb 100] [--skip-bvhio]
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_MOCAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "mocap"
CMU_FILE = "cmu_01_01_forward_jumps.bvh"
MVNX_FILE = "xsens_upperbody_test_mocap.mvnx"


def median_time_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_bvh(mocap_dir: Path, repeats: int, with_bvhio: bool) -> None:
    from sportsim.mocap import read_bvh

    path = mocap_dir / CMU_FILE
    clip = read_bvh(path)
    ours_s = median_time_s(lambda: read_bvh(path), repeats)
    print(f"BVH {path.name}: {clip.n_frames} frames, {clip.n_joints} joints")
    print(f"  sportsim read_bvh          median of {repeats}: {ours_s * 1000:8.1f} ms")
    if not with_bvhio:
        return
    import bvhio

    parse_s = median_time_s(lambda: bvhio.readAsBvh(str(path)), repeats)
    hierarchy_s = median_time_s(lambda: bvhio.readAsHierarchy(str(path)), repeats)
    print(f"  bvhio.readAsBvh            median of {repeats}: {parse_s * 1000:8.1f} ms  "
          f"({parse_s / ours_s:.1f}x sportsim)")
    print(f"  bvhio.readAsHierarchy      median of {repeats}: {hierarchy_s * 1000:8.1f} ms  "
          f"({hierarchy_s / ours_s:.1f}x sportsim)")


def write_big_mvnx(source: Path, target: Path, size_mb: float) -> int:
    """Repeat the source's normal frames until the file reaches ``size_mb``; returns the frame count."""
    text = source.read_text()
    first = re.search(r"<frame [^>]*type=\"normal\"", text).start()
    head = text[:text.rfind("\n", 0, first) + 1]
    end = text.index("</frames>")
    body = text[len(head):text.rfind("\n", 0, end) + 1]
    tail = text[text.rfind("\n", 0, end) + 1:]
    frames_per_body = body.count("<frame ")
    target_bytes = size_mb * 1e6
    count = 0
    with target.open("w") as out:
        out.write(head)
        written = len(head)
        while written < target_bytes:
            out.write(body)
            written += len(body)
            count += frames_per_body
        out.write(tail)
    return count


def mvnx_child(path: Path) -> None:
    """Runs in a fresh process: parse ``path`` twice and print time, peak RSS (MiB) and the Python heap
    peak of the parse (tracemalloc, second run; it slows parsing so the first run is the timed one)."""
    import tracemalloc

    from sportsim.mocap import read_mvnx

    before_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    clip = read_mvnx(path)
    elapsed_s = time.perf_counter() - start
    after_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del clip
    tracemalloc.start()
    clip = read_mvnx(path)
    heap_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"frames={clip.n_frames} time_s={elapsed_s:.2f} rss_before_mib={before_mib:.0f} "
          f"rss_peak_mib={after_mib:.0f} heap_peak_mib={heap_mib:.1f}")


def bench_mvnx(mocap_dir: Path, size_mb: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.mvnx"
        frames = write_big_mvnx(mocap_dir / MVNX_FILE, path, size_mb)
        size = path.stat().st_size / 1e6
        result = subprocess.run([sys.executable, __file__, "--mvnx-child", str(path)], capture_output=True,
                                text=True, check=True)
        fields = dict(item.split("=") for item in result.stdout.split())
        print(f"MVNX synthetic: {size:.0f} MB, {frames} normal frames (from {MVNX_FILE})")
        print(f"  sportsim read_mvnx: {float(fields['time_s']):.2f} s, "
              f"{size / float(fields['time_s']):.0f} MB/s; peak RSS {fields['rss_peak_mib']} MiB "
              f"(after imports {fields['rss_before_mib']} MiB, "
              f"so parsing added {int(fields['rss_peak_mib']) - int(fields['rss_before_mib'])} MiB); "
              f"Python heap peak of the parse {fields['heap_peak_mib']} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mocap-dir", type=Path, default=DEFAULT_MOCAP_DIR)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mvnx-mb", type=float, default=100.0)
    parser.add_argument("--skip-bvhio", action="store_true", help="do not time bvhio's loaders")
    parser.add_argument("--mvnx-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mvnx_child:
        mvnx_child(args.mvnx_child)
        return
    if not args.mocap_dir.is_dir():
        sys.exit(f"capture files not found in {args.mocap_dir} (use --mocap-dir)")
    bench_bvh(args.mocap_dir, args.repeats, not args.skip_bvhio)
    bench_mvnx(args.mocap_dir, args.mvnx_mb)


if __name__ == "__main__":
    main()
