"""Time alignment of two movements from their joint angles: a common timeline for a comparison.

Both movements are sampled at the same rate. Movement A always plays at its own speed; the alignment
says which (possibly fractional) frame of movement B goes with each frame of A:

* ``none``: frame k of A with frame k of B, as recorded (both excerpts start together).
* ``phase``: a constant time shift, the lag that maximises the mean correlation of the standardised
  joint angles (cross-correlation) over an overlap of at least half the shorter movement; for cyclic
  movements (gait, cycling) and for the same movement started at another moment.
* ``policy``: a policy against the clip it imitates (:func:`by_policy_phase`): each policy frame with
  the clip frame its env was tracking at that step - the same cycle of the clip, over whole cycles (a
  looped clip) or the whole clip (a clip played once). No estimate is involved; the policy plays at its
  own speed whichever side it is.
* ``dtw``: dynamic time warping of the standardised joint-angle vectors (Euclidean frame distance).
  Steps (1,1), (1,2) and (2,1) with weights so that every path's weight is its length in frames of A
  plus B: B may locally run between half and twice A's speed. Open begin and end: the path may start
  anywhere in the first ``relax`` fraction of either movement and end anywhere in the last, and the end
  with the lowest mean cost per unit of weight wins, so excerpts need not start and end together. The
  warp B(A) is the path interpolated linearly between its steps, smoothed (Gaussian, sigma
  ``smooth_s``) and kept non-decreasing; B is then shown at fractional frames (interpolated).

Features (:func:`standardise`): each angle minus its mean over that movement, divided by the standard
deviation of both movements' centred angles together (at least ``MIN_SCALE_DEG``), so a constant
posture offset between two athletes does not pull the timing and a nearly still joint does not add noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sportsim.errors import ConfigError

METHODS = ("dtw", "phase", "none")  # what align() estimates; "policy" pairing: by_policy_phase()
MIN_SCALE_DEG = 5.0  # floor of a feature's standard deviation (deg)
DTW_RELAX = 0.3  # open begin/end: fraction of each movement where the path may start or end
PHASE_MIN_OVERLAP = 0.5  # phase: the shortest overlap, as a fraction of the shorter movement
SMOOTH_S = 0.1  # Gaussian sigma of the DTW warp (s)
DESCRIPTIONS = {  # as the video states them
    "none": "not aligned: both as recorded from their start times",
    "phase": "phase-aligned: B shifted {shift_s:+.2f} s (angle cross-correlation)",
    "dtw": "time-warped to A by DTW on joint angles (B lasts {ratio:.2f}x A)",
    "policy": "paired by the policy's phase, frame by frame",
}


@dataclass(frozen=True)
class Alignment:
    """The common timeline: frame k shows A's frame ``a_frames[k]`` and B's ``b_frames[k]`` (fractional
    where they are not whole: interpolate). ``method`` is one of :data:`METHODS`; ``description`` states it for a video."""

    method: str
    a_frames: np.ndarray
    b_frames: np.ndarray
    description: str
    shift_frames: float = 0.0  # phase: B's frame minus A's frame

    @property
    def n_frames(self) -> int:
        return int(self.a_frames.shape[0])

    def time_ratio(self) -> float:
        """B's frames per frame of A over the timeline: 1 = same pace, 1.25 = B's movement takes 1.25
        times as long as A's (B is slower)."""
        if self.n_frames < 2:
            return 1.0
        return float((self.b_frames[-1] - self.b_frames[0]) / (self.a_frames[-1] - self.a_frames[0]))


def standardise(a_deg: np.ndarray, b_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centred angles of each movement divided by their pooled standard deviation (module docstring)."""
    a = np.asarray(a_deg, dtype=float) - np.mean(a_deg, axis=0)
    b = np.asarray(b_deg, dtype=float) - np.mean(b_deg, axis=0)
    scale = np.maximum(np.std(np.concatenate([a, b]), axis=0), MIN_SCALE_DEG)
    return a / scale, b / scale


def align(a_deg: np.ndarray, b_deg: np.ndarray, method: str = "dtw", fps: float = 30.0) -> Alignment:
    """Align two angle arrays ``(N, K)`` and ``(M, K)`` (same columns, same rate ``fps``) by ``method``."""
    if method not in METHODS:
        raise ConfigError(f"align: unknown method '{method}' (valid: {', '.join(METHODS)})")
    n, m = len(a_deg), len(b_deg)
    if min(n, m) < 2:
        raise ConfigError(f"align: need at least 2 frames of each movement, got {n} and {m}")
    if method == "none":
        k = np.arange(min(n, m))
        return Alignment("none", k, k.astype(float), DESCRIPTIONS["none"])
    fa, fb = standardise(a_deg, b_deg)
    if method == "phase":
        shift = phase_shift(fa, fb)
        frames = np.arange(max(0, -shift), min(n, m - shift))
        return Alignment("phase", frames, (frames + shift).astype(float),
                         DESCRIPTIONS["phase"].format(shift_s=shift / fps), shift_frames=float(shift))
    path = dtw_path(fa, fb)
    a_frames = np.arange(path[0, 0], path[-1, 0] + 1)
    warp = np.interp(a_frames, path[:, 0], path[:, 1])
    warp = np.maximum.accumulate(_gaussian(warp, SMOOTH_S * fps))
    warp = np.clip(warp, 0.0, m - 1)
    alignment = Alignment("dtw", a_frames, warp, "")
    return Alignment("dtw", a_frames, warp, DESCRIPTIONS["dtw"].format(ratio=alignment.time_ratio()))


def phase_shift(fa: np.ndarray, fb: np.ndarray) -> int:
    """The lag L (frames; B's frame = A's frame + L) with the highest mean product of the standardised
    features over an overlap of at least :data:`PHASE_MIN_OVERLAP` of the shorter movement."""
    n, m = len(fa), len(fb)
    min_overlap = max(2, int(math.ceil(PHASE_MIN_OVERLAP * min(n, m))))
    best, best_score = 0, -math.inf
    for lag in range(-(n - min_overlap), m - min_overlap + 1):
        start, stop = max(0, -lag), min(n, m - lag)
        score = float(np.mean(np.sum(fa[start:stop] * fb[start + lag:stop + lag], axis=1)))
        if score > best_score + 1e-12:
            best, best_score = lag, score
    return best


def dtw_path(fa: np.ndarray, fb: np.ndarray, relax: float = DTW_RELAX) -> np.ndarray:
    """Open-begin/end, slope-constrained DTW (module docstring) of feature arrays ``(N, K)``, ``(M, K)``:
    the path's steps as ``(P, 2)`` int rows ``(i, j)``, i strictly increasing. O(N M) time and memory."""
    n, m = len(fa), len(fb)
    cost = np.sqrt(np.maximum(np.sum(fa**2, 1)[:, None] + np.sum(fb**2, 1)[None] - 2.0 * fa @ fb.T, 0.0))
    relax_a, relax_b = max(1, int(relax * n)), max(1, int(relax * m))
    total = np.full((n, m), np.inf)
    start = np.zeros((n, m, 2), dtype=np.int64)
    step = np.zeros((n, m), dtype=np.int8)  # 0 start, 1 (1,1), 2 (1,2), 3 (2,1)
    total[0, :relax_b] = 2.0 * cost[0, :relax_b]
    start[0, :, 1] = np.arange(m)
    for i in range(1, n):
        row = np.full(m, np.inf)
        row_start = np.zeros((m, 2), dtype=np.int64)
        row_step = np.zeros(m, dtype=np.int8)
        if i < relax_a:
            row[0], row_start[0] = 2.0 * cost[i, 0], (i, 0)
        candidates = [
            (1, 1, total[i - 1, :-1] + 2.0 * cost[i, 1:], start[i - 1, :-1]),
            (2, 2, total[i - 1, :-2] + 2.0 * cost[i, 1:-1] + cost[i, 2:], start[i - 1, :-2]),
        ]
        if i >= 2:
            candidates.append((3, 1, total[i - 2, :-1] + 2.0 * cost[i - 1, 1:] + cost[i, 1:], start[i - 2, :-1]))
        for code, dj, value, origin in candidates:
            better = value < row[dj:]
            row[dj:] = np.where(better, value, row[dj:])
            row_start[dj:] = np.where(better[:, None], origin, row_start[dj:])
            row_step[dj:] = np.where(better, code, row_step[dj:])
        total[i], start[i], step[i] = row, row_start, row_step
    ends = [(n - 1, j) for j in range(m - relax_b, m)] + [(i, m - 1) for i in range(n - relax_a, n - 1)]
    scores = [total[i, j] / ((i - start[i, j, 0]) + (j - start[i, j, 1]) + 2.0) for i, j in ends]
    if not np.isfinite(np.min(scores)):
        raise ConfigError(f"align: no time warp with B between half and twice A's speed fits movements of "
                          f"{n} and {m} frames; choose excerpts of similar length (seconds=, start_a=, start_b=)")
    i, j = ends[int(np.argmin(scores))]
    path = [(i, j)]
    while step[i, j] != 0:
        di, dj = {1: (1, 1), 2: (1, 2), 3: (2, 1)}[int(step[i, j])]
        i, j = i - di, j - dj
        path.append((i, j))
    return np.array(path[::-1], dtype=np.int64)


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing, the ends extended point-symmetrically (a straight line stays straight); sigma
    in samples, below 0.5 ``x`` is returned as it is."""
    if sigma < 0.5 or len(x) < 3:
        return np.asarray(x, dtype=float)
    radius = int(min(3.0 * sigma, len(x) - 1))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    padded = np.pad(np.asarray(x, dtype=float), radius, mode="reflect", reflect_type="odd")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")


def by_policy_phase(clip_times_s: np.ndarray, clip_start_s: float, clip_frames: int, fps: float,
                    period_s: float | None, policy_is_a: bool, cycle_s: tuple[float, float] | None = None) -> Alignment:
    """The ``policy`` pairing: ``clip_times_s[k]`` is the time on the clip's clock that the policy's
    frame k imitated; the clip's excerpt starts at ``clip_start_s`` on that clock and holds
    ``clip_frames`` frames at ``fps``. With a looped clip (``period_s``: its cycle) the timeline keeps
    the policy's whole cycles (all of it if it did not complete one). A clip excerpt that lacks a frame
    the policy imitated is a ConfigError (pairing would have holes)."""
    n = len(clip_times_s)
    keep, whole = n, 0
    if period_s is not None:
        whole = int(math.floor(n / (period_s * fps) + 1e-6))
        keep = int(round(whole * period_s * fps)) if whole >= 1 else n
    policy_frames = np.arange(keep)
    clip = (np.asarray(clip_times_s[:keep], dtype=float) - clip_start_s) * fps
    clip = np.where(np.abs(clip - np.round(clip)) < 1e-6, np.round(clip), clip)
    if keep < 2 or clip.min() < 0 or clip.max() > clip_frames - 1:
        needed = f"{clip_start_s + clip.min() / fps:.2f}-{clip_start_s + clip.max() / fps:.2f} s"
        raise ConfigError(f"align=policy: the clip's excerpt ({clip_start_s:.2f}-"
                          f"{clip_start_s + (clip_frames - 1) / fps:.2f} s) lacks part of what the policy imitated "
                          f"({needed}); leave start_/seconds out for the clip, or use align=dtw")
    description = DESCRIPTIONS["policy"]
    if cycle_s is not None and period_s is not None:
        done = f"{whole} whole cycle{'s' if whole != 1 else ''}" if whole else "less than one cycle"
        description += f" (the clip's cycle {cycle_s[0]:.2f}-{cycle_s[1]:.2f} s, {done})"
    a, b = (policy_frames, clip) if policy_is_a else (clip, policy_frames)
    return Alignment("policy", a, b.astype(float), description)


@dataclass(frozen=True)
class Coverage:
    """What of one side's source a comparison shows: ``compared_s`` (first and last frame shown, on the
    source clock), ``span_s`` (what the source offered), ``repeats`` (how many times its frames run
    through: a clip's cycle paired with a policy's several cycles), ``step_s`` (one frame)."""

    side: str
    compared_s: tuple[float, float]
    span_s: tuple[float, float]
    repeats: int
    step_s: float

    @classmethod
    def of(cls, side: str, source_times_s: np.ndarray, span_s: tuple[float, float], fps: float) -> "Coverage":
        times = np.asarray(source_times_s, dtype=float)
        repeats = 1 + int(np.sum(np.diff(times) < -0.5 / fps))
        return cls(side, (float(times.min()), float(times.max())), span_s, repeats, 1.0 / fps)

    def left_out(self) -> list[tuple[float, float]]:
        """Source ranges not shown (more than half a frame long)."""
        out = []
        if self.compared_s[0] - self.span_s[0] > 0.5 * self.step_s:
            out.append((self.span_s[0], self.compared_s[0]))
        if self.span_s[1] - self.compared_s[1] > 0.5 * self.step_s:
            out.append((self.compared_s[1], self.span_s[1]))
        return out

    def text(self) -> str:
        """'A 0.61-2.64 s of 0.01-2.86 s (left out 0.01-0.61 s, 2.64-2.86 s)'; 'B ... of ..., 9 times'."""
        lo, hi = self.compared_s
        out = f"{self.side} {lo:.2f}-{hi:.2f} s"
        if self.repeats > 1:
            out += f" x{self.repeats}"
        out += f" of {self.span_s[0]:.2f}-{self.span_s[1]:.2f} s"
        gaps = self.left_out()
        out += f" (left out {', '.join(f'{a:.2f}-{b:.2f} s' for a, b in gaps)})" if gaps else " (all of it)"
        return out
