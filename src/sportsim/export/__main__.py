"""``python -m sportsim.export <source> <out> [<out> ...] [key=value ...]`` (see :mod:`sportsim.export`).

Options: ``overwrite=false``, ``which=`` (final | best | latest weights of a run; default: the run's
final, a zoo entry's own), ``episode_time_s=`` (rollout length; default: the env's), ``engine=`` (mujoco |
pybullet: the engine the policy is rolled out in), ``seed=0``, ``mapping=`` (a skeleton-mapping YAML for a
capture whose skeleton sportsim cannot place, as ``--mapping`` of ``python -m sportsim.mocap``).
"""

from __future__ import annotations

import time

from sportsim.cli import parse_options, run_cli
from sportsim.errors import ConfigError

USAGE = ("python -m sportsim.export <capture | reference .npz | run dir | model .zip | zoo entry> "
         "<out.bvh|.trc|.mot|.csv|.onnx> [...] [overwrite=true] [which=best] [episode_time_s=10] "
         "[engine=mujoco|pybullet] [seed=0] [mapping=my_skeleton.yaml]")


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _which(text: str) -> str:
    if text not in ("final", "best", "latest"):
        raise ValueError(f"expected final, best or latest, got {text!r}")
    return text


def _engine(text: str) -> str:
    from sportsim.sim import ENGINES  # noqa: PLC0415

    if text not in ENGINES:
        raise ValueError(f"expected one of {', '.join(ENGINES)}, got {text!r}")
    return text


OPTIONS = {"overwrite": (_bool, False), "which": (_which, None), "episode_time_s": (float, None),
           "engine": (_engine, None), "seed": (int, 0), "mapping": (str, None)}


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip().split("\n\n")[0])
        print(f"usage: {USAGE}")
        return 0
    positional, options = parse_options(argv, OPTIONS, USAGE, positional=True)
    if len(positional) < 2:
        raise ConfigError(f"expected a source and at least one output; usage: {USAGE}")
    from sportsim.export import export  # noqa: PLC0415

    start = time.perf_counter()
    done = export(positional[0], positional[1:], **options)
    for note in done.notes:
        print(note)
    for path in done.files:
        print(f"wrote {path}")
    print(f"{done.n_frames} frames at {done.fps:g} Hz in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
