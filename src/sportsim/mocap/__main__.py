"""Convert motion-capture files into humanoid reference motions, and inspect them.

    python -m sportsim.mocap convert <in> <out.npz> [--fps 30] [--height 1.75] [--mass 70] [--mapping my.yaml]
                                     [--start-frame N] [--end-frame M] [--up +Z] [--allow-lying] [--mirror]
                                     [--overwrite] [--force]
    python -m sportsim.mocap info <in> [--mapping my.yaml] [--up +Z] [--allow-lying] [--mirror]
    python -m sportsim.mocap map <in> [out.yaml] [--overwrite]

Every option can also be written ``key=value`` (``mapping=my.yaml fps=30 overwrite=true``), the
grammar of the other sportsim commands.

``<in>`` is any file :func:`sportsim.mocap.load_clip` reads (.bvh, .mvnx, DeepMimic .txt/.json, clip
.npz); ``info`` also reads a reference motion .npz written by ``convert``. ``convert`` retargets onto
the sportsim humanoid (:mod:`sportsim.mocap.retarget`), prints the validation table
(:mod:`sportsim.mocap.validate`) and writes the reference motion; it refuses to replace an existing
file without ``--overwrite`` and to write a motion with validation errors without ``--force``.
``--height`` (m) sizes the humanoid (default: the performer's stature estimated from the legs),
``--fps`` resamples, ``--start-frame``/``--end-frame`` (end exclusive) cut the source first, e.g. to
drop a calibration frame the velocity-spike check points at. ``--mapping`` adds a skeleton map (the
schema of ``sportsim/mocap/skeletons.yaml``) for a skeleton sportsim neither knows nor recognises by
structure; ``map`` writes a filled-in template of one (to stdout without ``out.yaml``). ``--up``
overrides the detected up axis of a BVH file; ``--allow-lying`` accepts a clip that starts lying down;
``--mirror`` un-mirrors a recording whose left joints sit on the body's right (a camera's mirror mode).
``info`` prints the skeleton found, the up axis and the units, and how each was decided.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sportsim.cli import EXIT_USAGE, run_cli
from sportsim.errors import ConfigError, MocapError
from sportsim.mocap import Clip, find_capture, load_clip
from sportsim.mocap.axes import AXES
from sportsim.mocap.reference_motion import ReferenceMotion, is_reference_motion
from sportsim.mocap.retarget import retarget
from sportsim.mocap.skeletons import SkeletonMap, clip_canonical_indices, load_mapping, mapping_template, \
    match_skeleton
from sportsim.mocap.validate import validate

MAX_FPS = 1000.0  # --fps above this is not a reference-motion rate (and would blow up the frame count)


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
    convert.add_argument("--person", type=_person, metavar="X,Y",
                         help="video: the athlete at this spot (fractions of the frame width and height)")
    info = commands.add_parser("info", help="print a file summary and the validation table")
    info.add_argument("input", type=Path)
    mapper = commands.add_parser("map", help="write a skeleton mapping template for --mapping")
    mapper.add_argument("input", type=Path)
    mapper.add_argument("output", type=Path, nargs="?", help="the YAML to write (default: print it)")
    mapper.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    for sub in (convert, info, mapper):
        sub.add_argument("--mapping", type=Path, help="skeleton mapping YAML for an unknown skeleton")
        sub.add_argument("--up", choices=sorted(AXES), help="the BVH file's up axis (default: detected)")
    for sub in (convert, info):
        sub.add_argument("--allow-lying", action="store_true", help="the clip starts lying down on purpose")
        sub.add_argument("--mirror", action="store_true",
                         help="un-mirror a mirrored recording (its 'Left' joints on the body's right)")
    return parser


def key_value_args(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """``key=value`` words (the grammar of the other sportsim commands) as ``--key value`` for argparse;
    ``flag=true`` is ``--flag``, ``flag=false`` nothing. Words whose key is no option stay as they are."""
    words = list(argv)
    if not words or words[0].startswith("-"):
        return words
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    command = sub.choices.get(words[0]) if sub is not None else None
    if command is None:
        return words
    options = {a.dest: a for a in command._actions if a.option_strings}
    out = [words[0]]
    for word in words[1:]:
        key, sep, value = word.partition("=")
        action = options.get(key.replace("-", "_")) if sep and not word.startswith("-") else None
        if action is None:
            out.append(word)
        elif isinstance(action, argparse._StoreTrueAction):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ConfigError(f"{word}: {key} takes true or false")
            out += [action.option_strings[-1]] if value.lower() in ("true", "1", "yes") else []
        else:
            out += [action.option_strings[-1], value]
    return out


def _person(text: str) -> tuple[float, float]:
    x, _, y = text.partition(",")
    return float(x), float(y)


def read_clip(path: Path, mapping: SkeletonMap | None, up: str | None = None,
              person: tuple[float, float] | None = None, mirror: bool = False) -> Clip:
    """Load ``path`` (a user skeleton map applies to every format; ``up`` to BVH files; ``person`` to videos;
    ``mirror`` un-mirrors, :func:`sportsim.mocap.mirror_clip`)."""
    path = find_capture(path)  # as given, or a shipped clip (mocap/<clip>) from any working directory
    kwargs = {"up": up} if up and path.suffix.lower() == ".bvh" else {}
    if person is not None:
        from sportsim.pose.reader import is_video_path  # noqa: PLC0415 - light: no video extra needed here

        if not is_video_path(path):
            raise ConfigError(f"--person: {path} is not a video; the option picks the athlete in a video")
        kwargs["person"] = person
    return load_clip(path, mapping=mapping, mirror=mirror, **kwargs)


def trim(clip: Clip, start: int, end: int | None) -> Clip:
    """Frames ``start`` to ``end`` (exclusive) of ``clip``."""
    end = clip.n_frames if end is None else end
    if not 0 <= start < end <= clip.n_frames:
        raise ConfigError(f"--start-frame {start} / --end-frame {end}: need 0 <= start < end <= {clip.n_frames}")
    return clip.frames(start, end)


def _summary(clip: Clip, mapping: SkeletonMap | None) -> list[str]:
    try:
        mapped = f"{len(clip_canonical_indices(clip, [mapping] if mapping else []))} canonical joints mapped"
    except MocapError:
        mapped = "no humanoid map"
    layout = clip.meta.get("skeleton_layout", clip.skeleton)
    skeleton = clip.skeleton if layout in (clip.skeleton, "structural") else f"{clip.skeleton} (layout {layout})"
    if layout == "structural":
        skeleton += " - recognised by structure"
    if clip.meta.get("skeleton_problem"):
        skeleton += f" - {clip.meta['skeleton_problem']}"
    elif clip.meta.get("skeleton_unrecognised"):
        skeleton += f" - not recognised by structure: {clip.meta['skeleton_unrecognised']} (`map` writes a template)"
    rows = [("file", clip.source), ("format", clip.meta.get("format", "?")),
            ("skeleton", skeleton),
            ("joints", f"{clip.n_joints} ({mapped}), {len(clip.end_site_parents)} end sites"),
            ("frames", f"{clip.n_frames} at {clip.fps:g} Hz ({clip.duration_s:.2f} s)"),
            ("units", clip.meta.get("unit", "m")),
            ("up axis", clip.meta.get("up_axis", "+Z (the format's convention)"))]
    if clip.meta.get("mirrored"):
        rows.append(("sides", clip.meta["mirrored"]))
    if clip.meta.get("text_encoding"):
        rows.append(("text", clip.meta["text_encoding"]))
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


def info(path: Path, mapping: SkeletonMap | None, up: str | None = None, allow_lying: bool = False,
         mirror: bool = False) -> str:
    """The text ``info`` prints."""
    if path.suffix.lower() == ".npz" and is_reference_motion(path):
        motion = ReferenceMotion.load_npz(path)
        lines = [f"{'file':<10}{path}", f"{'format':<10}sportsim reference motion (source {motion.source})",
                 *_motion_summary(motion)]
        report = validate(motion, allow_lying=allow_lying)
    else:
        clip = read_clip(path, mapping, up, mirror=mirror)
        lines = _summary(clip, mapping)
        try:
            motion = retarget(clip, plant_feet=True, anatomical_ranges=True)  # Imitation-v1's reference
            lines += _motion_summary(motion)
        except MocapError:
            motion = None  # validate() reports the retargeting error as a row
        report = validate(clip, motion=motion, allow_lying=allow_lying)
    return "\n".join([*lines, "", report.table(), "", f"validation: {report.summary()}"])


def mapping_for(path: Path, mapping: SkeletonMap | None, up: str | None = None) -> str:
    """The ``map`` command's YAML: the file's joints with sportsim's best guess for each canonical joint."""
    clip = read_clip(path, mapping, up)
    layout = match_skeleton(clip.joint_names, [mapping] if mapping else [])
    try:
        found = clip_canonical_indices(clip, [mapping] if mapping else [])
        guesses = {c: clip.joint_names[i] for c, i in found.items()}
    except MocapError:
        guesses = {}
    unit = layout.bvh_unit if layout is not None else None  # only a unit that is known, never a guess
    header = [f"# found: {clip.skeleton}" + (f" ({clip.meta['skeleton_problem']})" if clip.meta.get("skeleton_problem")
                                               else "")]
    if guesses and not clip.meta.get("skeleton_problem"):
        header.append("# every required joint is placed: sportsim needs no mapping for this file; edit to correct it")
    return "\n".join([*header, mapping_template(clip.joint_names, guesses, unit, str(path))]) + "\n"


def write_text(path: Path, text: str, overwrite: bool) -> Path:
    """Write ``text`` to ``path`` atomically (temporary sibling, then rename); never replace a file
    unless ``overwrite``."""
    if path.exists() and not overwrite:
        raise ConfigError(f"{path}: file exists; pass --overwrite to replace it")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def convert(args: argparse.Namespace, mapping: SkeletonMap | None) -> str:
    """Retarget, validate and write; returns the text to print."""
    if args.output.suffix.lower() != ".npz":
        raise ConfigError(f"{args.output}: the output must be a .npz file")
    if args.output.exists() and not args.overwrite:
        raise ConfigError(f"{args.output}: file exists; pass --overwrite to replace it")
    if args.fps is not None and not 0 < args.fps <= MAX_FPS:
        raise ConfigError(f"--fps {args.fps:g}: must lie in (0, {MAX_FPS:g}] Hz")
    clip = trim(read_clip(args.input, mapping, args.up, args.person, args.mirror), args.start_frame, args.end_frame)
    motion = retarget(clip, height_m=args.height, mass_kg=args.mass, fps=args.fps, plant_feet=True,
                      anatomical_ranges=True)  # what Imitation-v1 trains on
    report = validate(clip, motion=motion, allow_lying=args.allow_lying)
    lines = [*_summary(clip, mapping), *_motion_summary(motion)]
    text = "\n".join([*lines, "", report.table(), "", f"validation: {report.summary()}"])
    if report.errors and not args.force:
        failed = "; ".join(f"{row.check}: {row.value}" for row in report.errors)
        raise MocapError(f"{args.input}: validation failed ({failed}); nothing written (--force writes anyway)")
    written = motion.save_npz(args.output, overwrite=args.overwrite)
    return f"{text}\nsportsim: wrote {written} ({motion.n_frames} frames at {motion.fps:g} Hz)"


def main(argv: Sequence[str]) -> int:
    parser = _parser()
    args = parser.parse_args(key_value_args(argv, parser))
    try:
        mapping = load_mapping(args.mapping) if args.mapping is not None else None
        if args.command == "map":
            text = mapping_for(args.input, mapping, args.up)
            if args.output is None:
                print(text, end="")
            else:
                print(f"sportsim: wrote {write_text(args.output, text, args.overwrite)} (use it with --mapping "
                      f"{args.output})")
            return 0
        print(info(args.input, mapping, args.up, args.allow_lying, args.mirror) if args.command == "info"
              else convert(args, mapping))
    except MocapError as exc:
        first, _, rest = str(exc).partition("\n")
        if not rest:
            raise
        # a message with a YAML block (the unknown-skeleton template): print it as written, pasteable
        print(f"sportsim: {first}\n{rest}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    run_cli(main)
