"""Roll out a trained policy headless and write an MP4.

    python -m sportsim.record <run dir | model .zip> [episodes=1] [out=path.mp4] [deterministic=true]
                              [model=final|best|latest] [seed=0] [max_steps=10000] [device=cpu]
                              [panel=true|false]

The env is made from the run's config.yaml with ``render_mode="rgb_array"``; observations pass through
the run's saved normalisation statistics with VecNormalize's own code, exactly as in training and
evaluation. The video plays at ``env.metadata["render_fps"]``. The env's sport panel goes under every
frame, unless ``panel=false`` (envs that describe one in ``metadata["sport_panel"]``, see
:func:`sportsim.video.sport_panel_spec`): curves of the whole episode (HalfPipe-v0: centre-of-mass
height and mechanical energy with each pump shaded; HighBar-v0: bar angle, shoulder and hip angles,
hand force) with a cursor at the frame's time; it is drawn once the episode is over, so the episode's
frames wait in memory, compressed. An existing file is never overwritten:
an explicit ``out`` that exists is an error; the default ``<run dir>/videos/<model>.mp4`` becomes
``<model>-1.mp4``, ``<model>-2.mp4``, ... instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sportsim import runs
from sportsim.cli import parse_options, run_cli
from sportsim.errors import ConfigError
from sportsim.video import FrameStore, Mp4Writer, Recording, free_path, publish, sport_panel, sport_panel_spec

# Recording, free_path and publish live in sportsim.video (shared with replay and compare); they stay
# importable from here for existing callers (enjoy uses record.free_path).
__all__ = ["OPTIONS", "Recording", "free_path", "main", "parse_args", "parse_bool", "parse_positive_int", "parse_seed",
           "publish", "record"]

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
    "panel": (parse_bool, None),  # None: on when the env describes a sport panel
}


def parse_args(argv: Sequence[str]) -> tuple[Path, dict[str, Any]]:
    """``<path> key=value ...`` -> (path, options with defaults filled in)."""
    positional, options = parse_options(argv, OPTIONS, USAGE, positional=True)
    if len(positional) != 1:
        raise ConfigError(f"expected one run directory or model .zip, got {positional or 'none'}; usage: {USAGE}")
    return Path(positional[0]), options


def _default_output(location: runs.ModelLocation) -> Path:
    return location.run_dir / runs.VIDEOS_DIR / f"{location.label}.mp4"


def record(path: Path, *, episodes: int = 1, out: Path | None = None, deterministic: bool = True,
           model: str = "final", seed: int = 0, max_steps: int = 10_000, device: str = "cpu",
           panel: bool | None = None) -> Recording:
    """Record ``episodes`` of the policy at ``path`` (a run directory or model .zip) to an MP4; ``panel``:
    the env's sport panel under the frames (None: when the env has one)."""
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
        spec = sport_panel_spec(env) if panel is not False else None
        if panel is True and spec is None:
            raise ConfigError(f"panel=true: env '{loaded.cfg.env.id}' describes no sport panel")
        if spec is not None and spec.get("env_kwargs"):  # the panel needs the env built so (Imitation: kinetics)
            loaded.close()
            loaded = runs.open_policy(location, device, render_mode="rgb_array", **spec["env_kwargs"])
            env = loaded.env
        with Mp4Writer(target, fps, explicit=out is not None) as video:
            for episode in range(episodes):
                frames = _Episode(video, spec, float(fps))
                obs, info = env.reset(seed=seed + episode)
                frames.add(env.render(), obs, info)
                for _ in range(max_steps):
                    obs, _, terminated, truncated, info = env.step(loaded.act(obs, deterministic))
                    frames.add(env.render(), obs, info)
                    if terminated or truncated:
                        break
                else:
                    print(f"sportsim: episode {episode} cut at max_steps={max_steps}")
                frames.finish()
    finally:
        loaded.close()
    assert video.path is not None and video.size is not None
    return Recording(video.path, video.frames, width_px=video.size[0], height_px=video.size[1], fps=float(fps))


class _Episode:
    """One episode's frames: straight into the video, or - with a sport panel - kept (compressed) with
    the panel's samples until :meth:`finish` draws the panel and writes frame + panel."""

    def __init__(self, video: Mp4Writer, spec: Mapping[str, Any] | None, fps: float) -> None:
        self.video, self.spec, self.fps = video, spec, fps
        self.frames = FrameStore()
        self.samples: list[dict[str, float]] = []

    def add(self, frame: Any, obs: Any, info: dict[str, Any]) -> None:
        if self.spec is None:
            self.video.append(np.asarray(frame))
            return
        self.frames.append(np.asarray(frame))
        self.samples.append({k: float(v) for k, v in self.spec["values"](np.asarray(obs), info).items()})

    def finish(self) -> None:
        if self.spec is None:
            return
        width = next(iter(self.frames)).shape[1]
        panel = sport_panel(self.spec, self.samples, self.fps, width)
        for k, frame in enumerate(self.frames):
            self.video.append(np.vstack([frame, panel.render(k / self.fps)]))


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
