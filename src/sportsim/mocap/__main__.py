"""Convert motion-capture files into humanoid reference motions, and inspect them.

    python -m sportsim.mocap convert <in> <out.npz> [--fps 30] [--height 1.75] [--mass 70] [--mapping my.yaml]
                                     [--start-frame N] [--end-frame M] [--overwrite] [--force]
    python -m sportsim.mocap info <in> [--mapping my.yaml]

``<in>`` is any file :func:`sportsim.mocap.load_clip` reads (.bvh, .mvnx, DeepMimic .txt/.json, clip
.npz); ``info`` also reads a reference motion .npz written by ``convert``. ``convert`` retargets onto
the sportsim humanoid (:mod:`sportsim.mocap.retarget`), prints the validation table
(:mod:`sportsim.mocap.validate`) and writes the reference motion; it refuses to replace an existing
file without ``--overwrite`` and to write a motion with validation errors without ``--force``.
``--height`` (m) sizes the humanoid (default: the performer's stature estimated from the legs),
``--fps`` resamples, ``--start-frame``/``--end-frame`` (end exclusive) cut the source first, e.g. to
drop a calibration frame the velocity-spike check points at. ``--mapping`` adds a skeleton map (the
schema of ``sportsim/mocap/skeletons.yaml``) for a skeleton sportsim does not know.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sportsim.cli import run_cli
from sportsim.errors import ConfigError, MocapError
from sportsim.mocap import Clip, find_capture, load_clip
from sportsim.mocap.retarget import ReferenceMotion, is_reference_motion, retarget
from sportsim.mocap.skeletons import SkeletonMap, canonical_indices, load_mapping
from sportsim.mocap.validate import validate


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors become one-line ConfigErrors (exit 2 through run_cli)."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split()).removeprefix("usage: ")
        raise ConfigError(f"{message}; usage: {usage}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sportsim.mocap", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="retarget a capture file and write the reference motion .npz")
    convert.add_argument("input", type=Path)
    convert.add_argument("output", type=Path)
    convert.add_argument("--fps", type=float, help="resample to this rate (Hz)")
    convert.add_argument("--height", type=float, help="humanoid stature in m (default: estimated from the legs)")
    convert.add_argument("--mass", type=float, help="humanoid mass in kg (default: reference body-mass index)")
    convert.add_argument("--start-frame", type=int, default=0, help="first source frame to keep")
    convert.add_argument("--end-frame", type=int, help="source frame to stop before (default: the end)")
    convert.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    convert.add_argument("--force", action="store_true", help="write even when validation reports errors")
    info = commands.add_parser("info", help="print a file summary and the validation table")
    info.add_argument("input", type=Path)
    for sub in (convert, info):
        sub.add_argument("--mapping", type=Path, help="skeleton mapping YAML for an unknown skeleton")
    return parser


def read_clip(path: Path, mapping: SkeletonMap | None) -> Clip:
    """Load ``path``, handing a user skeleton map to the BVH reader (the others detect their own)."""
    path = find_capture(path)  # as given, or a shipped clip (mocap/<clip>) from any working directory
    if mapping is not None and path.suffix.lower() == ".bvh":
        return load_clip(path, skeletons=[mapping])
    return load_clip(path)


def trim(clip: Clip, start: int, end: int | None) -> Clip:
    """Frames ``start`` to ``end`` (exclusive) of ``clip``."""
    end = clip.n_frames if end is None else end
    if not 0 <= start < end <= clip.n_frames:
        raise ConfigError(f"--start-frame {start} / --end-frame {end}: need 0 <= start < end <= {clip.n_frames}")
    return clip.frames(start, end)


def _summary(clip: Clip, mapping: SkeletonMap | None) -> list[str]:
    extra = [mapping] if mapping is not None else []
    mapped = len(canonical_indices(clip.joint_names, extra, clip.source))
    rows = [("file", clip.source), ("format", clip.meta.get("format", "?")),
            ("skeleton", f"{clip.skeleton} (layout {clip.meta.get('skeleton_layout', clip.skeleton)})"),
            ("joints", f"{clip.n_joints} ({mapped} canonical joints mapped), {len(clip.end_site_parents)} end sites"),
            ("frames", f"{clip.n_frames} at {clip.fps:g} Hz ({clip.duration_s:.2f} s)"),
            ("units", clip.meta.get("unit", "m"))]
    if clip.contacts is not None:
        rows.append(("contacts", ", ".join(clip.contact_names)))
    video = clip.meta.get("video_report", "").splitlines()  # a clip from video (sportsim.pose): how it was measured
    return [f"{key:<10}{value}" for key, value in rows] + video


def _motion_summary(motion: ReferenceMotion) -> list[str]:
    rows = [("humanoid", f"{motion.height_m:.3f} m, {motion.mass_kg:.1f} kg ({motion.sex}; height "
                         f"{motion.meta.get('height', 'given')}), scale {motion.scale:.3f}"),
            ("motion", f"{motion.n_frames} frames at {motion.fps:g} Hz ({motion.duration_s:.2f} s)"),
            ("stance", motion.meta.get("stance_from", "?"))]
    return [f"{key:<10}{value}" for key, value in rows]


def info(path: Path, mapping: SkeletonMap | None) -> str:
    """The text ``info`` prints."""
    if path.suffix.lower() == ".npz" and is_reference_motion(path):
        motion = ReferenceMotion.load_npz(path)
        lines = [f"{'file':<10}{path}", f"{'format':<10}sportsim reference motion (source {motion.source})",
                 *_motion_summary(motion)]
        report = validate(motion)
    else:
        clip = read_clip(path, mapping)
        lines = _summary(clip, mapping)
        try:
            motion = retarget(clip, skeletons=[mapping] if mapping else [])
            lines += _motion_summary(motion)
        except MocapError:
            motion = None  # validate() reports the retargeting error as a row
        report = validate(clip, motion=motion, skeletons=[mapping] if mapping else [])
    return "\n".join([*lines, "", report.table(), "", f"validation: {report.summary()}"])


def convert(args: argparse.Namespace, mapping: SkeletonMap | None) -> str:
    """Retarget, validate and write; returns the text to print."""
    if args.output.suffix.lower() != ".npz":
        raise ConfigError(f"{args.output}: the output must be a .npz file")
    if args.output.exists() and not args.overwrite:
        raise ConfigError(f"{args.output}: file exists; pass --overwrite to replace it")
    clip = trim(read_clip(args.input, mapping), args.start_frame, args.end_frame)
    motion = retarget(clip, height_m=args.height, mass_kg=args.mass, fps=args.fps,
                      skeletons=[mapping] if mapping else [])
    report = validate(clip, motion=motion)
    lines = [*_summary(clip, mapping), *_motion_summary(motion)]
    text = "\n".join([*lines, "", report.table(), "", f"validation: {report.summary()}"])
    if report.errors and not args.force:
        failed = "; ".join(f"{row.check}: {row.value}" for row in report.errors)
        raise MocapError(f"{args.input}: validation failed ({failed}); nothing written (--force writes anyway)")
    written = motion.save_npz(args.output, overwrite=args.overwrite)
    return f"{text}\nsportsim: wrote {written} ({motion.n_frames} frames at {motion.fps:g} Hz)"


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    mapping = load_mapping(args.mapping) if args.mapping is not None else None
    print(info(args.input, mapping) if args.command == "info" else convert(args, mapping))
    return 0


if __name__ == "__main__":
    run_cli(main)
