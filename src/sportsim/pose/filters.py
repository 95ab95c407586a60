"""Filters for landmark trajectories: gap filling and a zero-lag Butterworth low-pass (numpy only).

The low-pass is the biomechanics standard (Winter, Biomechanics and Motor Control of Human Movement,
4th ed., 2009, section 3.4): a 2nd-order Butterworth run forwards and backwards - 4th order, zero phase
lag - with the cut-off corrected for the two passes (divided by 0.802) so that ``cutoff_hz`` is the
-3 dB point of the whole filter. Ends are padded by odd reflection (as scipy's filtfilt does) to keep
the first and last frames from being pulled towards zero.
"""

from __future__ import annotations

import math

import numpy as np

TWO_PASS_CORRECTION = 0.802  # Winter 2009: (2^(1/2) - 1)^(1/4) for a 2nd-order filter run twice


def fill_gaps(values: np.ndarray, found: np.ndarray) -> np.ndarray:
    """``values`` (T, ...) with the rows where ``found`` is False linearly interpolated in time from the
    nearest found rows (held constant before the first and after the last). Needs one found row."""
    t = np.arange(len(found))
    good = np.flatnonzero(found)
    flat = values.reshape(len(found), -1)
    out = np.empty_like(flat, dtype=float)
    for column in range(flat.shape[1]):
        out[:, column] = np.interp(t, good, flat[good, column])
    return out.reshape(values.shape)


def gap_runs(found: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) frame ranges (stop exclusive) where ``found`` is False."""
    runs, start = [], None
    for i, ok in enumerate(list(found) + [True]):
        if not ok and start is None:
            start = i
        elif ok and start is not None:
            runs.append((start, i))
            start = None
    return runs


def lowpass(values: np.ndarray, fps: float, cutoff_hz: float) -> np.ndarray:
    """Zero-lag 4th-order Butterworth low-pass of ``values`` (T, ...) along time (module docstring)."""
    if not 0 < cutoff_hz < 0.5 * fps * TWO_PASS_CORRECTION:
        highest = 0.5 * fps * TWO_PASS_CORRECTION
        raise ValueError(f"cut-off {cutoff_hz} Hz must lie in (0, {highest:.3g}) Hz at {fps} Hz")
    n = values.shape[0]
    if n < 2:
        return values.astype(float)
    flat = values.reshape(n, -1).astype(float)
    pad = min(n - 1, int(math.ceil(3 * fps / cutoff_hz)))
    padded = np.concatenate([2 * flat[:1] - flat[pad:0:-1], flat, 2 * flat[-1:] - flat[-2:-pad - 2:-1]])
    b, a = _butter2(cutoff_hz / TWO_PASS_CORRECTION, fps)
    once = _biquad(padded, b, a)
    twice = _biquad(once[::-1], b, a)[::-1]
    return twice[pad:pad + n].reshape(values.shape)


def _butter2(cutoff_hz: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """2nd-order Butterworth low-pass coefficients (bilinear transform with pre-warping)."""
    k = math.tan(math.pi * cutoff_hz / fps)
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    return np.array([b0, 2 * b0, b0]), np.array([1.0, 2 * (k * k - 1) * norm, (1 - math.sqrt(2.0) * k + k * k) * norm])


def _biquad(x: np.ndarray, b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Direct form II transposed, every column at once, started in the steady state of the first row."""
    y = np.empty_like(x)
    gain = b.sum() / a.sum()  # DC gain (1 for a low-pass)
    z1 = x[0] * (b[1] + b[2] - gain * (a[1] + a[2]))
    z2 = x[0] * (b[2] - gain * a[2])
    for i in range(len(x)):
        y[i] = b[0] * x[i] + z1
        z1, z2 = b[1] * x[i] - a[1] * y[i] + z2, b[2] * x[i] - a[2] * y[i]
    return y
