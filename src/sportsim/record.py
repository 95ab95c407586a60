"""Roll out a trained policy headless and write an MP4.

    python -m sportsim.record <policy> [episodes=1] [out=path.mp4] [deterministic=true]
                              [model=final|best|latest] [seed=0] [max_steps=10000] [device=cpu]
                              [panel=true|false] [env.kwargs.<argument>=value] [env.motion=<clip>]

``<policy>`` is ``zoo:<entry>`` (or the bare ``<entry>``, ``zoo/<entry>``), a run directory or a model
``.zip`` (:mod:`sportsim.resolve`); the options are ``key=value`` overrides of ``configs/record.yaml``
in Hydra's grammar, as for ``train``. ``env.kwargs.<argument>=value`` and ``env.motion=<clip>`` change
the policy's env (another ramp, rider or clip). A policy with several clips (Imitation's ``task=walk_run``)
plays clip ``k mod n`` in episode ``k``: ``episodes=2`` records the walk, then the run. The env is made from
the run's config.yaml with
``render_mode="rgb_array"``; observations pass through the run's saved normalisation statistics with
VecNormalize's own code, exactly as in training and evaluation. The video plays at
``env.metadata["render_fps"]``. The env's sport panel goes under every frame, unless ``panel=false``
(envs that describe one in ``metadata["sport_panel"]``, see :func:`sportsim.video.sport_panel_spec`):
curves of the whole episode (HalfPipe: centre-of-mass height and mechanical energy with each pump
shaded; HighBar: bar angle, shoulder and hip angles, hand force) with a cursor at the frame's time; it
is drawn once the episode is over, so the episode's frames wait in memory, compressed. Progress is
printed while it renders. An existing file is never overwritten: an explicit ``out`` that exists is an
error; the default ``<run dir>/videos/<model>.mp4`` (``./videos/<entry>.mp4`` for a zoo entry:
never into the zoo or an installed package) becomes ``-1.mp4``, ``-2.mp4``, ... instead. The file is
published only once the encoder has finished it (a full disk is an error, not a broken video).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import load_env_creator
from tqdm import tqdm

from sportsim import resolve, runs
from sportsim.cli import run_cli
from sportsim.config import command_options
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
    "model": (str, None),
    "seed": (parse_seed, 0),
    "max_steps": (parse_positive_int, 10_000),
    "device": (str, "cpu"),
    "panel": (parse_bool, None),  # None: on when the env describes a sport panel
}


def parse_args(argv: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """``<policy> key=value ...`` -> (policy name, options with defaults filled in and ``env_overrides``)."""
    positional, options, env_overrides = command_options("record", argv, {"policy": (str, None), **OPTIONS}, USAGE,
                                                         positional=True)
    policy = options.pop("policy")
    names = [*positional, *([policy] if policy is not None else [])]
    if len(names) != 1:
        raise ConfigError(f"expected one policy (zoo:<entry>, run directory or model .zip), got {names or 'none'}; "
                          f"usage: {USAGE}")
    options["env_overrides"] = env_overrides
    return names[0], options


def record(path: Path | str, *, episodes: int = 1, out: Path | None = None, deterministic: bool = True,
           model: str | None = None, seed: int = 0, max_steps: int = 10_000, device: str = "cpu",
           panel: bool | None = None, env_overrides: Sequence[Any] = (), quiet: bool = True) -> Recording:
    """Record ``episodes`` of the policy ``path`` (zoo entry, run directory or model .zip) to an MP4;
    ``panel``: the env's sport panel under the frames (None: when the env has one); ``quiet=False``
    prints the rendering's progress."""
    ref = resolve.policy(path, model)
    location = ref.location
    name = ref.label if ref.is_zoo else location.label  # a run's own videos/ folder: final.mp4, best.mp4
    target = Path(out).expanduser() if out is not None else resolve.default_output_dir(ref) / f"{name}.mp4"
    if out is not None and target.exists():
        raise ConfigError(f"out: {target} already exists; choose another file name")
    if target.suffix.lower() != ".mp4":
        raise ConfigError(f"out: {target} must end in .mp4")
    # the panel is read from the env's class, so the env is built once and with what the panel's values
    # need (its env_kwargs: Imitation's kinetics=True); an entry point that is no class: from the env built
    env_class = _registered_class(runs.load_config(location.run_dir).env.id) if panel is not False else None
    spec = sport_panel_spec(env_class) if env_class is not None else None
    loaded = runs.open_policy(location, device, env_overrides, render_mode="rgb_array", **_panel_kwargs(spec))
    if panel is not False and env_class is None:
        spec = sport_panel_spec(loaded.env)
        if _panel_kwargs(spec):
            loaded.close()
            loaded = runs.open_policy(location, device, env_overrides, render_mode="rgb_array", **_panel_kwargs(spec))
    env = loaded.env
    try:
        fps = env.metadata.get("render_fps")
        if not fps:
            raise ConfigError(f"env '{loaded.cfg.env.id}' declares no metadata['render_fps'] to time the video")
        if panel is True and spec is None:
            raise ConfigError(f"panel=true: env '{loaded.cfg.env.id}' describes no sport panel")
        with Mp4Writer(target, fps, explicit=out is not None) as video, \
                tqdm(unit="frame", desc=f"rendering {target.name}", disable=quiet, file=sys.stderr,
                     leave=False, mininterval=1.0) as progress:
            clips = len(getattr(env.unwrapped, "tracks", ()))  # Imitation with several clips: one each, in turn
            for episode in range(episodes):
                frames = _Episode(video, spec, float(fps), progress)
                obs, info = env.reset(seed=seed + episode, options={"clip": episode % clips} if clips > 1 else None)
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


def _registered_class(env_id: str) -> type | None:
    """The class gymnasium's registry builds ``env_id`` with (its entry point, imported as ``gym.make``
    would), or None where the id is not registered under that name or its entry point is no class."""
    try:
        entry_point = gym.spec(env_id).entry_point
        creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    except (gym.error.Error, ImportError, AttributeError, ValueError):
        return None  # building the env reports what is wrong with the id
    return creator if isinstance(creator, type) else None


def _panel_kwargs(spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """The arguments the env needs for the panel's values (``spec["env_kwargs"]``), {} without a panel."""
    return dict(spec.get("env_kwargs") or {}) if spec is not None else {}


class _Episode:
    """One episode's frames: straight into the video, or - with a sport panel - kept (compressed) with
    the panel's samples until :meth:`finish` draws the panel and writes frame + panel."""

    def __init__(self, video: Mp4Writer, spec: Mapping[str, Any] | None, fps: float, progress: tqdm) -> None:
        self.video, self.spec, self.fps, self.progress = video, spec, fps, progress
        self.frames = FrameStore()
        self.samples: list[dict[str, float]] = []

    def add(self, frame: Any, obs: Any, info: dict[str, Any]) -> None:
        self.progress.update()
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
    video = record(path, **options, quiet=False)
    size = f"{video.width_px}x{video.height_px} px"
    print(f"sportsim: wrote {video.path} ({video.frames} frames, {size}, {video.fps:g} fps)")
    return 0


if __name__ == "__main__":
    run_cli(main)
