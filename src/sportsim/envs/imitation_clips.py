"""Several clips, one policy (``sportsim/Imitation-v1``'s ``motion=[...]`` or ``task=walk_run``): which clip
an episode tracks.

Every reset draws one clip - uniformly by default, or by ``clip_weights`` - and the episode then tracks
that clip alone (its own random start phase, its own end). :func:`clip_probabilities` turns the
``clip_weights`` argument into the probabilities :func:`draw_clip` uses:

* ``None`` or ``"uniform"``: each clip equally often (the default; the draw is ``rng.integers(n)``, the
  random stream Imitation has always used);
* ``"length"``: in proportion to the reference steps one episode of the clip can cover from frame 0 -
  ``min(clip length, episode length)`` for a clip played once, the episode length for a looping clip - so
  that every reference step is about equally likely to be trained on: a 4 s jump is drawn twice as often
  as a 2 s kick, two looping gaits (the walk and the run) equally often;
* a list of numbers >= 0, one per clip, not all zero (normalised): a curriculum, e.g. ``[1, 3]`` to spend
  three quarters of the episodes on a clip the policy has not learned yet;
* ``"adaptive"`` (:class:`ClipCurriculum`): each env copy draws a clip in proportion to how much of it
  its recent episodes failed to complete, plus a floor - the clip the policy is losing gets the episodes,
  a mastered one keeps being rehearsed. Why: fixed weights do not hold as learning moves. The walk+run
  policy warm-started from the run with ``[3, 1]`` took the walk from 13 % to 96 % of its episodes
  completed in 0.59M samples while the run fell from 68 % to 27 % (training metrics,
  ``metrics_per_clip/*/clip_fraction_completed``, training/imitation_v7_walk_run_ppo).

The observation does not say which clip is tracked (no clip index or one-hot): it already holds where the
reference goes next - its joint coordinates, root position and orientation at the end of the next control
step - which is what a tracking action depends on, and it keeps the observation the same for one clip or
for any number of them. A single-clip policy (the walk) is then a valid starting point for a multi-clip
one (``init=``), and a policy can be run on clips it was not trained with. Between the walk and the run the
reference alone tells them apart: the next step's root displacement is 35-49 mm for the walk and 93-134 mm
for the run (tests/test_imitation_clips.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sportsim.envs.imitation_params import ReferenceTrack
from sportsim.errors import ConfigError

CLIP_WEIGHTINGS = ("uniform", "length", "adaptive")
ADAPTIVE_FLOOR = 0.1  # "adaptive": every clip keeps this much weight next to its failure rate (0..1)
ADAPTIVE_RATE = 0.05  # "adaptive": the failure rate is a moving average over ~1/rate finished episodes of a clip
PHASE_WEIGHTINGS = ("uniform", "adaptive")
PHASE_BINS = 20  # phase_weights="adaptive": a clip's start steps in this many equal bins (fewer for a shorter clip)
PHASE_RATE = 0.01  # ... each bin's reward deficit a moving average over ~1/rate training steps in it
PHASE_FLOOR = 0.25  # ... every bin keeps this fraction of the bins' mean deficit as weight (rehearsal)


class ClipCurriculum:
    """``clip_weights="adaptive"``: per clip, an exponential moving average (rate :data:`ADAPTIVE_RATE` per
    finished episode of that clip) of the fraction of the episode's stretch that was completed; clip ``i`` is
    drawn with probability proportional to ``1 - completed[i] + ADAPTIVE_FLOOR``. It starts with nothing
    completed (a uniform draw) and lives in one env copy: with ``n_envs`` copies each keeps its own average,
    so a seeded run draws the same clips every time. Training episodes only - evaluation from frame 0 takes
    the clips in turn and a ``clip`` reset option names one."""

    def __init__(self, n_clips: int) -> None:
        self.completed = np.zeros(n_clips)

    def probabilities(self) -> np.ndarray:
        weights = 1.0 - self.completed + ADAPTIVE_FLOOR
        return weights / weights.sum()

    def record(self, clip: int, fraction: float) -> None:
        """An episode of ``clip`` ended having completed ``fraction`` (0..1) of its stretch."""
        self.completed[clip] += ADAPTIVE_RATE * (min(max(float(fraction), 0.0), 1.0) - self.completed[clip])


class PhaseCurriculum:
    """``phase_weights="adaptive"``: where in a clip random starts (``rsi``) begin - in proportion to how badly
    training episodes track each part of it, instead of uniformly.

    Per clip, its start steps (``track.starts``) fall into up to :data:`PHASE_BINS` equal bins; each bin keeps a
    moving average (rate :data:`PHASE_RATE` per step) of the reward deficit ``1 - reward`` of the training
    steps whose reference step lies in it (the reward's weights sum to 1, so the deficit is 0..1; a fall
    records a deficit of 1 in its bin; steps past the last start step, a clip's stand after it, count for the
    last bin). A start draws a bin with probability proportional to its deficit plus :data:`PHASE_FLOOR` x the
    bins' mean deficit, then a step in it uniformly. Every bin starts at a deficit of 1 (unknown counts as
    hard), so the first draws are uniform. Why: a skill played once spends its samples where episodes
    happen to run, not where it is lost - the zoo cartwheel at 11.9M tracks its first third to 32 mm and its
    last two to 88-114 mm (global MPJPE, 30 random-phase episodes), and every episode, wherever it starts,
    then holds the last pose for a second: 45 % of the steps. Measured (100 random-phase episodes): the zoo
    cartwheel's 11.93M weights continued for 3.4M samples from the same seed complete 99 % at 66.5 mm with this
    curriculum, 97 % at 73.2 mm without (training/imitation_v7_cartwheel_phases_ppo, ..._uniform_ppo); at 8.0M
    100 %, 62.2 mm. It made the spinkick worse (2.75M from the zoo kick: 111.0 mm, the zoo kick 95.2): the kick's
    last pose cannot be held (the centre of mass 0.31 m beside the one supporting foot), its deficit never falls,
    and the starts pile up there - a clip whose stand a body cannot hold needs a holdable end before this helps.
    One curriculum per env copy, drawn from the env's random stream: a seeded run is reproducible. Training only - a frame-0 start or a ``start_phase``
    reset option does not draw, and evaluation (``rsi=False``) starts at frame 0."""

    def __init__(self, tracks: Sequence[ReferenceTrack]) -> None:
        self._starts = [int(t.starts) for t in tracks]
        self._period = [int(t.period) for t in tracks]
        self._cyclic = [bool(t.cyclic) for t in tracks]
        #: per clip, the bins' first start steps and the end (``len = bins + 1``)
        self.edges = tuple(np.unique(np.linspace(0, s, min(PHASE_BINS, s) + 1).round().astype(int))
                           for s in self._starts)
        #: per clip, each bin's moving-average reward deficit
        self.deficit = tuple(np.ones(len(e) - 1) for e in self.edges)

    def bin_of(self, clip: int, k: int) -> int:
        """The bin of reference step ``k`` of ``clip`` (a looping clip's step wraps round its cycle)."""
        k = k % self._period[clip] if self._cyclic[clip] else min(k, self._starts[clip] - 1)
        return int(np.searchsorted(self.edges[clip], k, side="right")) - 1

    def probabilities(self, clip: int) -> np.ndarray:
        d = self.deficit[clip]
        weights = d + PHASE_FLOOR * max(float(d.mean()), 1e-6)
        return weights / weights.sum()

    def record(self, clip: int, k: int, deficit: float) -> None:
        """A training step at reference step ``k`` of ``clip`` fell short of the full reward by ``deficit``."""
        b = self.bin_of(clip, k)
        d = self.deficit[clip]
        d[b] += PHASE_RATE * (min(max(float(deficit), 0.0), 1.0) - d[b])

    def draw(self, rng: np.random.Generator, clip: int) -> int:
        """A start step of ``clip``: a bin by :meth:`probabilities`, then a step in it uniformly."""
        edges = self.edges[clip]
        b = int(rng.choice(len(edges) - 1, p=self.probabilities(clip)))
        return int(rng.integers(edges[b], edges[b + 1]))


def phase_curriculum(phase_weights: str | None, tracks: Sequence[ReferenceTrack]) -> PhaseCurriculum | None:
    """The start-phase curriculum ``phase_weights`` asks for (None for uniform starts); a bad value is a
    one-line ConfigError."""
    if phase_weights is None or phase_weights == "uniform":
        return None
    if phase_weights == "adaptive":
        return PhaseCurriculum(tracks)
    raise ConfigError(f"phase_weights must be one of {', '.join(PHASE_WEIGHTINGS)} (or null), got {phase_weights!r}")


def clip_probabilities(clip_weights: str | Sequence[float] | None, tracks: Sequence[ReferenceTrack],
                       episode_steps: int) -> np.ndarray | None:
    """The probability of drawing each clip (module docstring), or None for a uniform draw; a bad value is a
    one-line ConfigError."""
    n = len(tracks)
    if clip_weights is None or (isinstance(clip_weights, str) and clip_weights == "uniform"):
        return None
    if isinstance(clip_weights, str) and clip_weights == "adaptive":
        return None  # a uniform start; the env's ClipCurriculum draws from its episodes on
    if isinstance(clip_weights, str):
        if clip_weights != "length":
            raise ConfigError(f"clip_weights must be 'uniform', 'length', 'adaptive' or a list of {n} numbers, "
                              f"got {clip_weights!r}")
        weights = [float(episode_steps if t.cyclic else min(t.period, episode_steps)) for t in tracks]
    else:
        try:
            weights = [float(w) for w in clip_weights if not isinstance(w, bool)]
        except (TypeError, ValueError):
            weights = []
        if len(weights) != n or len(list(clip_weights)) != n:
            raise ConfigError(f"clip_weights must be 'uniform', 'length', 'adaptive' or a list of {n} numbers "
                              f"(one per clip), got {clip_weights!r}")
        if not all(math.isfinite(w) and w >= 0.0 for w in weights) or sum(weights) <= 0.0:
            raise ConfigError(f"clip_weights {list(clip_weights)}: each must be a finite number >= 0, "
                              "and at least one > 0")
    p = np.asarray(weights, dtype=float)
    return p / p.sum()


def draw_clip(rng: np.random.Generator, n_clips: int, probabilities: np.ndarray | None) -> int:
    """The clip an episode tracks: 0 for one clip (no random number drawn), else drawn from ``rng``."""
    if n_clips == 1:
        return 0
    if probabilities is None:
        return int(rng.integers(n_clips))
    return int(rng.choice(n_clips, p=probabilities))
