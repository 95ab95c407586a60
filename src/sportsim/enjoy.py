"""Watch and measure a trained policy: the best zoo entry for an env, or any run directory / model.

    python -m sportsim.enjoy env=<name> [algo=ppo|sac|a2c] [task=<task>] [episodes=10] [seed=2000000]
                             [deterministic=true] [video=false] [out=path.mp4] [device=cpu]
    python -m sportsim.enjoy model=<run dir | model .zip> [which=final|best|latest] [...]
    python -m sportsim.enjoy model=<foreign SB3 .zip> env=<name> algo=<algo> trust=true [...]

Runs ``episodes`` headless episodes (seeds ``seed, seed+1, ...``), prints a table of the figures and,
as its last line, one JSON object with ``env``, ``task``, ``algo``, ``episodes``, ``mean_return``,
``std_return``, ``success_rate`` and more. ``video=true`` also records the first episode to an MP4
(default ``videos/<env>[_<task>]_<algo>.mp4`` under the current directory, never overwritten).

Zoo entries are checked against the SHA-256 in ``zoo/manifest.json`` before use, and every sportsim
model is loaded as weights only. An SB3 ``.zip`` from elsewhere (no sportsim config beside it) can only
be read by unpickling it, which runs whatever code it carries: it is refused unless ``trust=true``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sportsim import builders, config, record, runs, zoo
from sportsim.cli import parse_options, run_cli
from sportsim.errors import ConfigError, ModelFileError
from sportsim.evaluation import EVALUATION_SEED, evaluate_policy

USAGE = __doc__.split("\n\n")[1].strip("\n")

# option -> (parser, default)
OPTIONS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "env": (str, None),
    "algo": (str, None),
    "task": (str, None),
    "model": (str, None),
    "which": (str, "final"),
    "episodes": (record.parse_positive_int, 10),
    "seed": (record.parse_seed, EVALUATION_SEED),
    "deterministic": (record.parse_bool, True),
    "video": (record.parse_bool, False),
    "out": (str, None),
    "trust": (record.parse_bool, False),
    "device": (str, "cpu"),
}


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    _, options = parse_options(argv, OPTIONS, USAGE)
    if options["model"] is None and options["env"] is None:
        raise ConfigError(f"give env=<name> (the best zoo policy) or model=<run dir | .zip>; usage: {USAGE}")
    return options


def _foreign_zip(path: Path) -> bool:
    return path.suffix == ".zip" and not any((p / runs.CONFIG_FILE).is_file() for p in path.parents[:3])


def _open_untrusted(path: Path, options: dict[str, Any]) -> runs.LoadedPolicy:
    """An SB3 .zip made elsewhere: unpickled with SB3's own ``load`` - only with trust=true."""
    if not options["trust"]:
        raise ModelFileError(
            f"{path} has no sportsim config.yaml beside it, so it can only be loaded by unpickling, which runs "
            f"any code the file carries; pass trust=true (with env= and algo=) only if you trust its source")
    if options["env"] is None or options["algo"] is None:
        raise ConfigError(f"trust=true for {path} needs env=<name> and algo=<algo> to rebuild its env")
    overrides = [f"env={options['env']}", f"algo={options['algo']}"]
    if options["task"]:
        overrides.append(f"task={options['task']}")
    cfg = config.compose_train_config(overrides)
    algorithm = builders.ALGORITHMS[cfg.algo.name]
    env = builders.make_env(cfg.env)
    try:
        model = algorithm.load(path, device=options["device"])  # unpickles: the user said trust=true
    except Exception as exc:  # noqa: BLE001 - any failure of a foreign file is reported as one line
        env.close()
        raise ModelFileError(f"{path}: SB3 could not load it as {cfg.algo.name} ({exc})") from exc
    return runs.LoadedPolicy(runs.ModelLocation(path.parent, path, path.stem), cfg, env, model, None)


def resolve(options: dict[str, Any]) -> tuple[runs.ModelLocation | None, Path | None, str]:
    """(location of a sportsim model, or the path of a foreign .zip) and a label for the output."""
    if options["model"] is not None:
        path = Path(options["model"]).expanduser()
        if _foreign_zip(path.resolve()):
            if not path.is_file():
                raise ModelFileError(f"model file {path} does not exist")
            return None, path, path.stem
        location = runs.locate_model(path, options["which"])
        return location, None, location.run_dir.name
    entry = zoo.select(options["env"], options["algo"], options["task"])
    print(f"sportsim: zoo entry {entry.name} ({entry.model} weights, {entry.timesteps} training steps)")
    return zoo.locate(entry), None, entry.name.replace("/", "_")


def _table(figures: dict[str, Any]) -> str:
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.4g}"
        return "-" if value is None else str(value)
    width = max(len(k) for k in figures)
    return "\n".join(f"{key:<{width}}  {fmt(value)}" for key, value in figures.items())


def main(argv: Sequence[str]) -> int:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    options = parse_args(argv)
    location, foreign, label = resolve(options)
    loaded = (runs.open_policy(location, options["device"]) if location is not None
              else _open_untrusted(foreign, options))
    try:
        figures = evaluate_policy(loaded, options["episodes"], options["seed"], options["deterministic"])
    finally:
        loaded.close()
    if options["video"]:
        if location is None:
            raise ConfigError("video=true needs a sportsim model (run directory or zoo entry), not a foreign .zip")
        out = record.free_path(Path(options["out"]) if options["out"] else Path("videos") / f"{label}.mp4",
                               explicit=options["out"] is not None)
        video = record.record(location.model_file, out=out, deterministic=options["deterministic"],
                              seed=options["seed"], device=options["device"])
        figures["video"] = str(video.path)
    print(_table(figures))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    run_cli(main)
