"""Benchmark the motion-capture readers.

1. BVH: load time of the 20 s CMU clip (2752 frames at 120 fps), median of N runs, side by side with
   bvhio's own loaders (``readAsBvh``: parse only; ``readAsHierarchy``: parse + joint hierarchy).
2. MVNX: a ~100 MB synthetic file made by repeating the real Xsens file's normal frames, parsed in a
   fresh child process that reports its time, peak RSS (VmHWM, :func:`peak_rss_mib`) before and after the
   parse, and the parse's Python heap peak (tracemalloc).
3. Garbage BVH (issue 14: a rejected 1 GB file must stay under 200 MB peak): 1 GB files - random bytes,
   one line without a newline, and a valid header followed by garbage rows - each read in a fresh child
   process that reports the error (first 80 characters), the time and the peak RSS.
4. MVNX hierarchy (issue 14: 20,000 segments in < 1 s): a synthetic chain of N segments, read whole,
   and the hierarchy build alone, side by side with N/10 segments (a linear build takes ~10x as long).

Usage: python scripts/bench_mocap.py [--mocap-dir DIR] [--repeats 5] [--mvnx-mb 100] [--skip-bvhio]
                                     [--garbage-mb 1024] [--segments 20000] [--only bvh,mvnx,garbage,segments]
"""

from __future__ import annotations

import argparse
import random
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


def peak_rss_mib() -> float:
    """This process's peak resident memory (MiB): Linux's VmHWM, which starts afresh at exec - getrusage's
    ru_maxrss carries the parent's RSS at fork across the exec (a child started late in this benchmark
    reported the parent's 152 MiB as its own); ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_time_s(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def bench_bvh(mocap_dir: Path, repeats: int, with_bvhio: bool) -> None:
    from sportsim.mocap import read_bvh

    path = mocap_dir / CMU_FILE
    clip = read_bvh(path)
    ours_s = median_time_s(lambda: read_bvh(path), repeats)
    cpu_s = median_time_s(lambda: read_bvh(path), repeats, time.process_time)
    print(f"BVH {path.name}: {clip.n_frames} frames, {clip.n_joints} joints (target: <= 200 ms)")
    print(f"  sportsim read_bvh          median of {repeats}: {ours_s * 1000:8.1f} ms wall, {cpu_s * 1000:.1f} ms CPU "
          "(CPU time: the wall time of a machine shared with other jobs overstates it)")
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

    before_mib = peak_rss_mib()
    start = time.perf_counter()
    clip = read_mvnx(path)
    elapsed_s = time.perf_counter() - start
    after_mib = peak_rss_mib()
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


def write_garbage(path: Path, kind: str, size_mb: float) -> None:
    """A ``size_mb`` file of one kind of garbage, written in 16 MiB blocks."""
    block = 16 << 20
    total = int(size_mb * 2**20)
    rng = random.Random(0)
    with path.open("wb") as out:
        if kind == "header+rows":
            out.write(b"HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n}\n"
                      b"MOTION\nFrames: 100000000\nFrame Time: 0.01\n")
            row = b"0.5 garbage 1.0\n" * (block // 16)
        elif kind == "one line":
            out.write(b"HIERARCHY ROOT Hips ")
            row = b"x" * block
        else:
            row = rng.randbytes(block)
        written = 0
        while written < total:
            out.write(row)
            written += len(row)


def garbage_child(path: Path) -> None:
    """Runs in a fresh process: read ``path`` as BVH and print the outcome, time and peak RSS (MiB)."""
    from sportsim.errors import MocapError
    from sportsim.mocap import read_bvh

    before_mib = peak_rss_mib()
    start = time.perf_counter()
    try:
        read_bvh(path)
        outcome = "read"
    except MocapError as exc:
        outcome = str(exc).replace(str(path), "<file>")[:80]
    elapsed_s = time.perf_counter() - start
    after_mib = peak_rss_mib()
    print(f"{elapsed_s:.2f}|{before_mib:.0f}|{after_mib:.0f}|{outcome}")


def bench_garbage(size_mb: float) -> None:
    print(f"Garbage BVH, {size_mb:.0f} MiB each (target: rejected with peak RSS < 200 MB)")
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("random bytes", "one line", "header+rows"):
            path = Path(folder) / "garbage.bvh"
            write_garbage(path, kind, size_mb)
            result = subprocess.run([sys.executable, __file__, "--garbage-child", str(path)], capture_output=True,
                                    text=True, check=True)
            elapsed, before, after, outcome = result.stdout.strip().split("|", 3)
            print(f"  {kind:13s} {elapsed:>6} s, peak RSS {after:>4} MiB (after imports {before} MiB): {outcome}")
            path.unlink()


def chain_mvnx(path: Path, n_segments: int) -> Path:
    """An MVNX file whose segments form one chain, 1 cm apart, with one normal frame."""
    segments = "".join(f'<segment label="s{i}"><points><point label="p"><pos_b>0 0 0</pos_b></point>'
                       f'<point label="q"><pos_b>0 0 0.01</pos_b></point></points></segment>'
                       for i in range(n_segments))
    joints = "".join(f'<joint label="j{i}"><connector1>s{i - 1}/q</connector1><connector2>s{i}/p</connector2></joint>'
                     for i in range(1, n_segments))
    frame = (f'<frame time="0" index="0" type="normal"><orientation>{" 1 0 0 0" * n_segments}</orientation>'
             f'<position>{"".join(f" 0 0 {0.01 * i:.2f}" for i in range(n_segments))}</position></frame>')
    path.write_text(f'<?xml version="1.0"?>\n<mvnx version="4"><subject label="s" frameRate="60"><segments>{segments}'
                    f"</segments><joints>{joints}</joints><frames>{frame}</frames></subject></mvnx>\n")
    return path


def bench_segments(n_segments: int, repeats: int) -> None:
    from sportsim.mocap import mvnx

    print(f"MVNX hierarchy (target: {n_segments} segments in < 1 s)")
    with tempfile.TemporaryDirectory() as folder:
        for n in (n_segments // 10, n_segments):
            path = chain_mvnx(Path(folder) / f"chain{n}.mvnx", n)
            read_s = median_time_s(lambda: mvnx.read_mvnx(path), repeats)
            built = []
            original = mvnx._hierarchy

            def timed(*args, **kwargs):
                start = time.perf_counter()
                result = original(*args, **kwargs)
                built.append(time.perf_counter() - start)
                return result

            mvnx._hierarchy = timed
            try:
                mvnx.read_mvnx(path)
            finally:
                mvnx._hierarchy = original
            print(f"  {n:6d} segments: read_mvnx median of {repeats} {read_s:.3f} s; hierarchy build {built[0]:.4f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mocap-dir", type=Path, default=DEFAULT_MOCAP_DIR)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mvnx-mb", type=float, default=100.0)
    parser.add_argument("--skip-bvhio", action="store_true", help="do not time bvhio's loaders")
    parser.add_argument("--garbage-mb", type=float, default=1024.0)
    parser.add_argument("--segments", type=int, default=20000)
    parser.add_argument("--only", default="bvh,mvnx,garbage,segments", help="comma-separated parts to run")
    parser.add_argument("--mvnx-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--garbage-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mvnx_child:
        mvnx_child(args.mvnx_child)
        return
    if args.garbage_child:
        garbage_child(args.garbage_child)
        return
    parts = set(args.only.split(","))
    if parts & {"bvh", "mvnx"} and not args.mocap_dir.is_dir():
        sys.exit(f"capture files not found in {args.mocap_dir} (use --mocap-dir)")
    if "bvh" in parts:
        bench_bvh(args.mocap_dir, args.repeats, not args.skip_bvhio)
    if "mvnx" in parts:
        bench_mvnx(args.mocap_dir, args.mvnx_mb)
    if "garbage" in parts:
        bench_garbage(args.garbage_mb)
    if "segments" in parts:
        bench_segments(args.segments, args.repeats)


if __name__ == "__main__":
    main()
