"""Roll out a trained policy headless and write an MP4.

    python -m sportsim.record <run dir | model .zip> [episodes=1] [out=path.mp4] [deterministic=true]
                              [model=final|best|latest] [seed=0] [max_steps=10000] [device=cpu]

The env is made from the run's config.yaml with ``render_mode="rgb_array"``; observations pass through
the run's saved normalisation statistics with VecNormalize's own code, exactly as in training and
evaluation. The video plays at ``env.metadata["render_fps"]``. An existing file is never overwritten:
an explicit ``out`` that exists is an error; the default ``<run dir>/videos/<model>.mp4`` becomes
``<model>-1.mp4``, ``<model>-2.mp4``, ... instead.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np

from sportsim import runs
from sportsim.cli import run_cli
from sportsim.errors import ConfigError

USAGE = __doc__.split("\n\n")[1].strip("\n")


def parse_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got '{text}'")


def parse_positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"expected an integer >= 1, got {value}")
    return value


def parse_seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected an integer >= 0, got {value}")
    return value


# option -> (parser, default)
OPTIONS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "episodes": (parse_positive_int, 1),
    "out": (str, None),
    "deterministic": (parse_bool, True),
    "model": (str, "final"),
    "seed": (parse_seed, 0),
    "max_steps": (parse_positive_int, 10_000),
    "device": (str, "cpu"),
}


def parse_args(argv: Sequence[str]) -> tuple[Path, dict[str, Any]]:
    """``<path> key=value ...`` -> (path, options with defaults filled in)."""
    positional = [arg for arg in argv if "=" not in arg]
    if len(positional) != 1:
        raise ConfigError(f"expected one run directory or model .zip, got {positional or 'none'}; usage: {USAGE}")
    options = {key: default for key, (_, default) in OPTIONS.items()}
    for arg in argv:
        if "=" not in arg:
            continue
        key, _, text = arg.partition("=")
        if key not in OPTIONS:
            raise ConfigError(f"unknown option '{key}' (valid: {', '.join(OPTIONS)})")
        try:
            options[key] = OPTIONS[key][0](text)
        except ValueError as exc:
            raise ConfigError(f"option {key}: {exc}") from None
    return Path(positional[0]), options


def _default_output(location: runs.ModelLocation) -> Path:
    return location.run_dir / runs.VIDEOS_DIR / f"{location.label}.mp4"


def free_path(out: Path, explicit: bool) -> Path:
    """``out`` if it does not exist yet; else an error for an ``explicit`` choice, or the first free
    ``<stem>-<n>.mp4`` beside it."""
    if not out.exists():
        return out
    if explicit:
        raise ConfigError(f"out: {out} already exists; choose another file name")
    return next(c for n in itertools.count(1) if not (c := out.with_name(f"{out.stem}-{n}{out.suffix}")).exists())


def publish(tmp: Path, out: Path, explicit: bool) -> Path:
    """Hard-link the finished video to ``out`` (or the first free ``<stem>-<n>.mp4``); never overwrite."""
    numbered = (out.with_name(f"{out.stem}-{n}{out.suffix}") if n else out for n in itertools.count())
    candidates = [out] if explicit else numbered
    for candidate in candidates:
        try:
            os.link(tmp, candidate)  # atomic, and fails instead of replacing an existing file
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"out: {out} already exists; choose another file name")


@dataclass(frozen=True)
class Recording:
    path: Path
    frames: int
    width_px: int
    height_px: int
    fps: float


def record(path: Path, *, episodes: int = 1, out: Path | None = None, deterministic: bool = True,
           model: str = "final", seed: int = 0, max_steps: int = 10_000, device: str = "cpu") -> Recording:
    """Record ``episodes`` of the policy at ``path`` (a run directory or model .zip) to an MP4."""
    location = runs.locate_model(path, model)
    target = Path(out).expanduser() if out is not None else _default_output(location)
    if out is not None and target.exists():
        raise ConfigError(f"out: {target} already exists; choose another file name")
    if target.suffix.lower() != ".mp4":
        raise ConfigError(f"out: {target} must end in .mp4")
    loaded = runs.open_policy(location, device, render_mode="rgb_array")
    env = loaded.env
    try:
        fps = env.metadata.get("render_fps")
        if not fps:
            raise ConfigError(f"env '{loaded.cfg.env.id}' declares no metadata['render_fps'] to time the video")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".mp4", dir=target.parent)
        os.chmod(tmp_name, runs.default_file_mode())
        os.close(fd)
        tmp, frames = Path(tmp_name), 0
        try:
            with imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=2,
                                    ffmpeg_log_level="error") as writer:
                for episode in range(episodes):
                    obs, _ = env.reset(seed=seed + episode)
                    frame = np.asarray(env.render())
                    writer.append_data(frame)
                    frames += 1
                    for _ in range(max_steps):
                        obs, _, terminated, truncated, _ = env.step(loaded.act(obs, deterministic))
                        writer.append_data(np.asarray(env.render()))
                        frames += 1
                        if terminated or truncated:
                            break
                    else:
                        print(f"sportsim: episode {episode} cut at max_steps={max_steps}")
            video = publish(tmp, target, explicit=out is not None)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        loaded.close()
    return Recording(video, frames, width_px=frame.shape[1], height_px=frame.shape[0], fps=float(fps))


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    path, options = parse_args(argv)
    video = record(path, **options)
    size = f"{video.width_px}x{video.height_px} px"
    print(f"sportsim: wrote {video.path} ({video.frames} frames, {size}, {video.fps:g} fps)")
    return 0


if __name__ == "__main__":
    run_cli(main)
