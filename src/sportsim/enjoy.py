"""Watch and measure a trained policy: the best zoo entry for an env, or any zoo entry, run directory
or model.

    python -m sportsim.enjoy env=<name> [algo=ppo|sac|a2c] [task=<task>] [episodes=10] [seed=2000000]
                             [deterministic=true] [video=false] [out=path.mp4] [device=cpu]
    python -m sportsim.enjoy model=<zoo:entry | entry | run dir | model .zip> [which=final|best|latest] [...]
    python -m sportsim.enjoy model=<...> env.kwargs.<argument>=value env.motion=<clip>   # another env setting
    python -m sportsim.enjoy model=<foreign SB3 .zip> env=<name> algo=<algo> trust=true [...]
    python -m sportsim.enjoy env=imitation engine=pybullet                # another physics engine

The options are ``key=value`` overrides of ``configs/enjoy.yaml`` in Hydra's grammar, as for ``train``;
names of policies follow :mod:`sportsim.resolve`. ``env.kwargs.<argument>=value`` and
``env.motion=<clip>`` change the policy's env: a zoo policy on another ramp, rider or clip.
Runs ``episodes`` headless episodes (seeds ``seed, seed+1, ...``), prints a table of the figures and,
as its last line, one JSON object with ``env``, ``task``, ``algo``, ``episodes``, ``mean_return``,
``std_return``, ``success_rate`` and more. ``video=true`` also records the first episode to an MP4
(default ``videos/<policy>.mp4`` under the current directory, never overwritten), with progress.

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

from sportsim import builders, config, record, resolve, runs, zoo
from sportsim.cli import run_cli
from sportsim.config import command_options
from sportsim.errors import ConfigError, ModelFileError
from sportsim.evaluation import EVALUATION_SEED, evaluate_policy

USAGE = __doc__.split("\n\n")[1].strip("\n")

# option -> (parser, default)
OPTIONS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "env": (str, None),
    "algo": (str, None),
    "task": (str, None),
    "model": (str, None),
    "which": (str, None),
    "episodes": (record.parse_positive_int, 10),
    "seed": (record.parse_seed, EVALUATION_SEED),
    "deterministic": (record.parse_bool, True),
    "video": (record.parse_bool, False),
    "out": (str, None),
    "trust": (record.parse_bool, False),
    "device": (str, "cpu"),
    "engine": (str, None),
}


def parse_args(argv: Sequence[str]) -> dict[str, Any]:
    _, options, env_overrides = command_options("enjoy", argv, OPTIONS, USAGE)
    if options["model"] is None and options["env"] is None:
        raise ConfigError(f"give env=<name> (the best zoo policy) or model=<zoo:entry | run dir | .zip>; usage: {USAGE}")
    options["env_overrides"] = env_overrides
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


def resolve_policy(options: dict[str, Any]) -> tuple[resolve.PolicyRef | None, Path | None, str]:
    """(the sportsim policy, or the path of a foreign .zip) and a label for the output."""
    if options["model"] is not None:
        path = Path(options["model"]).expanduser()
        if path.suffix == ".zip" and path.is_file() and _foreign_zip(path.resolve()):
            return None, path, path.stem
        ref = resolve.policy(options["model"], options["which"])
        if ref.is_zoo:
            print(f"sportsim: {ref.describe()}")
        return ref, None, ref.label
    entry = zoo.select(options["env"], options["algo"], options["task"])
    ref = resolve.policy(f"{resolve.ZOO_PREFIX}{entry.name}")
    print(f"sportsim: {ref.describe()}")
    return ref, None, ref.label


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
    ref, foreign, label = resolve_policy(options)
    if foreign is not None and options["env_overrides"]:
        raise ConfigError("env.* overrides need a sportsim policy (zoo entry, run directory), not a foreign .zip")
    engine = {"engine": options["engine"]} if options["engine"] else {}  # envs that offer several: imitation
    if engine and ref is None:
        raise ConfigError("engine= needs a sportsim policy (zoo entry, run directory), not a foreign .zip")
    loaded = (runs.open_policy(ref.location, options["device"], options["env_overrides"], **engine)
              if ref is not None else _open_untrusted(foreign, options))
    used = getattr(getattr(loaded.env.unwrapped, "engine", None), "name", "mujoco")
    try:
        figures = evaluate_policy(loaded, options["episodes"], options["seed"], options["deterministic"])
    finally:
        loaded.close()
    figures["engine"] = used
    if options["env_overrides"]:
        figures["env_overrides"] = [o.input_line for o in options["env_overrides"]]
    if options["video"]:
        if ref is None:
            raise ConfigError("video=true needs a sportsim model (run directory or zoo entry), not a foreign .zip")
        out = Path(options["out"]) if options["out"] else Path("videos") / f"{label}.mp4"
        video = record.record(str(ref.location.model_file), out=out if options["out"] else record.free_path(out, False),
                              deterministic=options["deterministic"], seed=options["seed"], device=options["device"],
                              env_overrides=options["env_overrides"], quiet=False)
        figures["video"] = str(video.path)
    print(_table(figures))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    run_cli(main)
