"""Environment steps per second of Imitation-v0 (shipped CMU walk) - on MuJoCo and on PyBullet
(``engine="pybullet"``) - next to PyBullet's DeepMimic walk env and Gymnasium's Humanoid-v5, measured side
by side in one process and reported as ratios.

All of them step a humanoid at a 30 Hz (DeepMimic, Imitation-v0) or 67 Hz (Humanoid-v5) policy rate
with random actions drawn in advance - uniform in each env's normalised action range: [-1, 1] for
Imitation-v0, [-1, 1] *before* the DeepMimic env's own rescaling (``rescale_actions=True`` maps it to
mean +- std of its action ranges), ``action_space.sample()`` for Humanoid-v5 - and are reset whenever an
episode ends, so resets count too (mean episode lengths are printed). The envs take turns, each for
the same wall time per round, so that load changes on a shared machine hit all of them alike; the
table gives the median steps/s over the rounds and the median of the per-round ratios.

PyBullet's env (``pybullet_envs.deep_mimic.gym_env.HumanoidDeepMimicWalkBulletEnv``, pybullet 3.2.7)
needs the old ``gym`` package and three import shims on Python 3.11 / NumPy 2 (REFERENCES.md section
D), applied here and nowhere else: a stub ``pybullet_envs`` package (its ``__init__`` registers envs
through an API gym 0.26 no longer has), a stub ``pkg_resources`` (only ``parse_version``) and a stub
``mpi4py`` (rank 0 of 1) where they are missing. Keep gym out of the training environment - with gym
importable, stable-baselines3 prints gym's deprecation banner on every import - and point the script
at a folder holding it instead::

    pip install --target /tmp/gym026 --no-deps gym==0.26.2 gym_notices
    python scripts/bench_imitation_speed.py --gym-path /tmp/gym026 [--seconds 2] [--rounds 10] [--json out.json]
    python scripts/bench_imitation_speed.py --gym-path /tmp/gym026 --imitation sportsim/Imitation-v1  # the human body

Without gym or pybullet that column is skipped with a message (and without pybullet the
Imitation-v0-on-PyBullet column too). The last column gives each env's rate as a multiple of the
DeepMimic env's (the median of the per-round ratios): Imitation-v0 on PyBullet against PyBullet's own
DeepMimic env is the engine-for-engine comparison (same physics engine, same humanoid tree, same 30 Hz
control; Imitation steps Bullet at 120 Hz with the MuJoCo model's servos, DeepMimic at 240 Hz with
Bullet's stable PD).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import platform
import statistics
import sys
import time
import types
from collections.abc import Callable

import gymnasium as gym
import mujoco
import numpy as np

import sportsim  # noqa: F401  (registers sportsim/Imitation-v0)
from sportsim.envs import ENV_SPECS
from sportsim.errors import SportsimError

IMITATION = "sportsim/Imitation-v0"
IMITATION_PYBULLET = "Imitation-v0 on PyBullet"
DEEPMIMIC = "PyBullet DeepMimic walk"
HUMANOID = "Humanoid-v5"


def _install_deepmimic_shims() -> None:
    """The import workarounds of REFERENCES.md D (this process only)."""
    if "pybullet_envs" not in sys.modules:
        spec = importlib.util.find_spec("pybullet_envs")
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError("pybullet is not installed (pip install pybullet)")
        package = types.ModuleType("pybullet_envs")  # skip its __init__ (old gym registry API)
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["pybullet_envs"] = package
    if importlib.util.find_spec("pkg_resources") is None:
        from packaging.version import parse

        stub = types.ModuleType("pkg_resources")
        stub.parse_version = parse  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = stub
    if importlib.util.find_spec("mpi4py") is None:
        class _World:
            def Get_rank(self) -> int:  # noqa: N802 (mpi4py's names)
                return 0

            def Get_size(self) -> int:  # noqa: N802
                return 1

        mpi = types.ModuleType("mpi4py.MPI")
        mpi.COMM_WORLD = _World()  # type: ignore[attr-defined]
        root = types.ModuleType("mpi4py")
        root.MPI = mpi  # type: ignore[attr-defined]
        sys.modules.update({"mpi4py": root, "mpi4py.MPI": mpi})


def _deepmimic_env():
    """PyBullet's DeepMimic walk env (old gym API), or raise ImportError saying what is missing."""
    if importlib.util.find_spec("gym") is None:
        raise ImportError("the old 'gym' package is not importable (pip install --target DIR --no-deps "
                          "gym==0.26.2 gym_notices, then --gym-path DIR)")
    _install_deepmimic_shims()
    with contextlib.redirect_stdout(io.StringIO()):  # its logger prints banners
        from pybullet_envs.deep_mimic.gym_env.deep_mimic_env import HumanoidDeepMimicWalkBulletEnv

        return HumanoidDeepMimicWalkBulletEnv()


class _Runner:
    """One env and its pre-drawn actions (used in a cycle), stepped in rounds of fixed wall time."""

    def __init__(self, name: str, make: Callable[[], object], old_api: bool, n_actions: int, seed: int) -> None:
        self.name, self.old_api = name, old_api
        self.env = make()
        rng = np.random.default_rng(seed)
        if old_api:  # normalised actions, rescaled by the env itself
            self.actions = rng.uniform(-1.0, 1.0, size=(n_actions, self.env.action_space.shape[0]))
        else:
            self.env.action_space.seed(seed)
            self.actions = [self.env.action_space.sample() for _ in range(n_actions)]
        self._reset(seed)
        self.rates: list[float] = []
        self.episodes = 0
        self.steps = 0

    def _reset(self, seed: int | None = None) -> None:
        if self.old_api:
            self.env.reset()
        else:
            self.env.reset(seed=seed)

    def round(self, seconds: float) -> None:
        step, episodes, steps = self.env.step, 0, 0
        start = time.perf_counter()
        end = start + seconds
        while True:
            for _ in range(50):  # the clock is read every 50 steps
                out = step(self.actions[steps % len(self.actions)])
                steps += 1
                if out[2] if self.old_api else (out[2] or out[3]):
                    self._reset()
                    episodes += 1
            now = time.perf_counter()
            if now >= end:
                break
        self.rates.append(steps / (now - start))
        self.episodes += episodes
        self.steps += steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall time per env and round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--gym-path", help="a folder holding the old gym package (pip install --target)")
    parser.add_argument("--imitation", default=IMITATION, choices=sorted(e for e in ENV_SPECS if e.startswith("sportsim/Imitation-")),
                        help="the imitation env version measured (both columns); default %(default)s")
    args = parser.parse_args()
    imitation = args.imitation
    imitation_pybullet = IMITATION_PYBULLET.replace(IMITATION.split("/")[1], imitation.split("/")[1])
    if args.gym_path:
        sys.path.append(args.gym_path)

    n_actions = 10_000
    runners = [_Runner(imitation, lambda: gym.make(imitation), False, n_actions, 0)]
    try:
        runners.append(_Runner(imitation_pybullet, lambda: gym.make(imitation, engine="pybullet"), False,
                               n_actions, 0))
    except SportsimError as exc:
        print(f"skipping {imitation_pybullet}: {exc}")
    try:
        runners.append(_Runner(DEEPMIMIC, _deepmimic_env, True, n_actions, 0))
    except ImportError as exc:
        print(f"skipping {DEEPMIMIC}: {exc}")
    try:
        runners.append(_Runner(HUMANOID, lambda: gym.make(HUMANOID), False, n_actions, 0))
    except (gym.error.Error, ImportError) as exc:
        print(f"skipping {HUMANOID}: {exc}")
    for _ in range(args.rounds):
        for runner in runners:
            runner.round(args.seconds)

    median = {r.name: statistics.median(r.rates) for r in runners}
    by_name = {r.name: r for r in runners}
    base = by_name.get(DEEPMIMIC)
    ratio = {r.name: statistics.median(a / b for a, b in zip(r.rates, base.rates)) for r in runners} if base else {}
    print(f"{'env':26s} {'steps/s (median)':>16s} {'min':>8s} {'max':>8s} {'mean episode':>13s} "
          f"{'x DeepMimic env':>16s}")
    for r in runners:
        length = r.steps / max(r.episodes, 1)
        shown = f"{ratio[r.name]:.2f} x" if r.name in ratio else "-"
        print(f"{r.name:26s} {median[r.name]:16.0f} {min(r.rates):8.0f} {max(r.rates):8.0f} "
              f"{length:10.1f} st {shown:>16s}")
    env = runners[0].env.unwrapped
    print(f"{imitation.split('/')[1]} step = {env.n_substeps} physics steps of {env.physics_dt_s * 1e3:.2f} ms "
          f"(control {env.control_hz:g} Hz); MuJoCo {mujoco.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"seconds_per_round": args.seconds, "rounds": {r.name: r.rates for r in runners},
                       "median": median, "ratio_to_deepmimic_median_of_rounds": ratio,
                       "mean_episode_steps": {r.name: r.steps / max(r.episodes, 1) for r in runners}}, f, indent=2)


if __name__ == "__main__":
    main()
