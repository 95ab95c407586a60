"""The numbers of a comparison: per-angle differences of two aligned movements, the CSV table and the
summary sheet (PNG) of ``python -m sportsim.compare``.

Angles in degrees, times in seconds on the comparison's clock (from its first frame); "B-A" is positive
when B is larger or later. Per angle, over the aligned comparison: the mean and the largest absolute
difference B - A, and the peaks - local maxima: deepest flexion, furthest forward lean - with the
difference of their values and the timing offset. The peaks compared are, among each curve's peaks in
the top fifth of its range, the pair closest in time (A's higher one on ties), so a cyclic movement
compares one cycle and a single movement its highest peaks.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sportsim.coach.angles import SIDES, axis_label, label
from sportsim.coach.events import MARKERS, Event
from sportsim.coach.forces import FILTER_NOTE, TimelineKinetics, kinetics_rows
from sportsim.video import DPI

A_COLOUR, B_COLOUR = "#1f5fbf", "#e07b00"  # A and B in every plot
CSV_COLUMNS = ("joint", "mean_abs_diff_deg", "peak_diff_deg", "peak_time_a_s", "peak_time_b_s", "timing_offset_s",
               "max_abs_diff_deg", "peak_a_deg", "peak_b_deg")
HIGHLIGHT_ROWS = 3  # the sheet highlights this many angles with the largest mean difference
PEAK_TOP_FRACTION = 0.2  # B's peaks considered for A's peak: those in the top fifth of B's range


@dataclass(frozen=True)
class JointDifference:
    """One angle over the aligned comparison (degrees; times in s on the comparison's clock)."""

    joint: str
    mean_abs_diff_deg: float
    peak_diff_deg: float
    peak_time_a_s: float
    peak_time_b_s: float
    timing_offset_s: float
    max_abs_diff_deg: float
    peak_a_deg: float
    peak_b_deg: float


def joint_differences(names: Sequence[str], a_deg: np.ndarray, b_deg: np.ndarray, fps: float) -> list[JointDifference]:
    """Per column of the aligned angle arrays ``(K, len(names))`` sampled at ``fps``: the table's row
    (definitions: module docstring)."""
    rows = []
    for column, name in enumerate(names):
        a, b = a_deg[:, column], b_deg[:, column]
        ka, kb = peak_pair(a, b)
        rows.append(JointDifference(
            joint=name, mean_abs_diff_deg=float(np.mean(np.abs(b - a))), peak_diff_deg=float(b[kb] - a[ka]),
            peak_time_a_s=ka / fps, peak_time_b_s=kb / fps, timing_offset_s=(kb - ka) / fps,
            max_abs_diff_deg=float(np.max(np.abs(b - a))), peak_a_deg=float(a[ka]), peak_b_deg=float(b[kb])))
    return rows


def match_turns(a_deg: np.ndarray, b_deg: np.ndarray) -> np.ndarray:
    """``b_deg`` shifted per column by the whole turns (360 deg) that bring it closest to ``a_deg``
    (median difference), for unwrapped angles whose turn count depends on where an excerpt starts."""
    return b_deg - 360.0 * np.round(np.median(b_deg - a_deg, axis=0) / 360.0)


def peaks(values: np.ndarray, top_fraction: float = 1.0) -> np.ndarray:
    """Indices of the local maxima inside ``values`` (not its first or last sample; the index of the
    largest value if there is none) that lie within the top ``top_fraction`` of the range from the
    lowest value to the highest of them."""
    v = np.asarray(values, dtype=float)
    inner = np.flatnonzero((v[1:-1] >= v[:-2]) & (v[1:-1] > v[2:])) + 1
    found = inner if inner.size else np.array([int(np.argmax(v))])
    high = float(v[found].max())
    return found[v[found] >= high - top_fraction * (high - float(v.min()))]


def peak_pair(a: np.ndarray, b: np.ndarray, top_fraction: float = PEAK_TOP_FRACTION) -> tuple[int, int]:
    """The peaks ``(k_a, k_b)`` compared: of the two curves' peaks in the top ``top_fraction`` of their
    ranges, the pair closest in time (so a cyclic movement compares one cycle), A's higher peak on ties."""
    peaks_a, peaks_b = peaks(a, top_fraction), peaks(b, top_fraction)
    gaps = np.abs(peaks_a[:, None] - peaks_b[None, :])
    i, j = min(np.argwhere(gaps == gaps.min()), key=lambda ij: -a[peaks_a[ij[0]]])
    return int(peaks_a[i]), int(peaks_b[j])


def mark_events(ax: Any, times: np.ndarray, values: np.ndarray, found: Sequence[Event], foot: str, colour: str,
                size_pt: float) -> None:
    """``foot``'s events (and take-offs, landings) as markers on a curve: one plot call per kind; strikes
    and landings filled, toe-offs and take-offs open."""
    for kind, marker in MARKERS.items():
        when = [e.time_s for e in found if e.kind == kind and e.foot in (foot, "both") and times[0] <= e.time_s <= times[-1]]
        if when:
            filled = kind in ("foot strike", "landing")
            ax.plot(when, np.interp(when, times, values), linestyle="none", marker=marker, markersize=size_pt,
                    color=colour, markerfacecolor=colour if filled else "white", markeredgewidth=1.2, zorder=5)


def write_sheet(path: Path, header: Sequence[str], names: Sequence[str], times: np.ndarray, a_deg: np.ndarray,
                b_deg: np.ndarray, differences: Sequence[JointDifference],
                key_frames: Sequence[tuple[float, np.ndarray]],
                events: tuple[Sequence[Any], Sequence[Any]] = ((), ()), event_rows: Sequence[Any] = (),
                kinetics: tuple[TimelineKinetics | None, TimelineKinetics | None] = (None, None)) -> None:
    """The summary PNG: ``header`` (A's line, B's line, then notes: the alignment and what of each side is
    compared), key frames ``(time s, image)``, the curves of ``names`` (both sides of each group) over
    ``times`` with each foot's events (:class:`sportsim.coach.events.Event`) marked, the table of
    ``differences``, the table of event timings (:class:`sportsim.coach.events.EventSummary`); for a
    policy side its kinetics (:mod:`sportsim.coach.forces`) as two more rows and a table of their peaks."""
    groups = list(dict.fromkeys(n.rpartition("_")[2] for n in names))
    width_px, row_px = 1600, 40
    notes = list(header[2:])
    frames_top, frames_px = 120 + 26 * len(notes), 400  # key frames (px from the top), under the notes
    extra = kinetics_rows(kinetics)
    peaks = [(which, *p) for which, k in zip("AB", kinetics) if k is not None for p in k.peaks()]
    curves_top, curves_px = frames_top + frames_px + 60, 220 * (len(groups) + len(extra))
    table_top, table_px = curves_top + curves_px + 70, row_px * (len(names) + 1)
    events_top = table_top + table_px + 70
    events_px = row_px * (len(event_rows) + 1) if event_rows else 0
    peaks_top = events_top + events_px + (60 if events_px else 0)
    peaks_px = row_px * (len(peaks) + 1) if peaks else 0
    height_px = peaks_top + peaks_px + 40
    figure = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, facecolor="white")

    def box(left: float, top_px: float, width: float, box_px: float) -> tuple[float, float, float, float]:
        return left, 1 - (top_px + box_px) / height_px, width, box_px / height_px

    for row, (text, colour) in enumerate(zip(header[:2], (A_COLOUR, B_COLOUR))):
        figure.text(0.02, 1 - (26 + 30 * row) / height_px, text, color=colour, fontsize=16, fontweight="bold",
                    va="center")
    for row, text in enumerate(notes):
        figure.text(0.02, 1 - (92 + 26 * row) / height_px, text, fontsize=12, va="center")
    n_key = max(1, len(key_frames))
    for i, (time_s, image) in enumerate(key_frames):
        ax = figure.add_axes(box(0.02 + i * 0.96 / n_key, frames_top, 0.96 / n_key - 0.01, frames_px))
        ax.imshow(image)
        ax.set_axis_off()
        ax.set_title(f"t = {time_s:.2f} s", fontsize=12)
    left, bottom, width, height = box(0.06, curves_top, 0.92, curves_px)
    grid = figure.add_gridspec(len(groups) + len(extra), 2, left=left, right=left + width, bottom=bottom, top=bottom + height,
                               hspace=0.55, wspace=0.12)
    for row, group in enumerate(groups):
        for col, side in enumerate(SIDES):
            if group == "trunk" and col == 1:
                continue
            name = "trunk" if group == "trunk" else f"{side}_{group}"
            ax = figure.add_subplot(grid[row, :] if group == "trunk" else grid[row, col])
            c = list(names).index(name)
            ax.plot(times, a_deg[:, c], color=A_COLOUR, linewidth=1.6)
            ax.plot(times, b_deg[:, c], color=B_COLOUR, linewidth=1.6, linestyle="--")
            foot = "right" if group == "trunk" else side
            for values, found, colour in ((a_deg[:, c], events[0], A_COLOUR), (b_deg[:, c], events[1], B_COLOUR)):
                mark_events(ax, times, values, found, foot, colour, 7.0)
            ax.set_title(axis_label(name) + (" - right foot's events" if group == "trunk" else ""), fontsize=12,
                         loc="left")
            ax.grid(True, color="#e6e6e6")
            ax.tick_params(labelsize=10)
            ax.set_xlim(times[0], max(times[-1], times[0] + 1e-3))
            if row == len(groups) - 1 and not extra:
                ax.set_xlabel("time on the comparison's clock (s)", fontsize=11)
    for row, kinetics_row in enumerate(extra):
        ax = figure.add_subplot(grid[len(groups) + row, :])
        for values, colour, style, name in kinetics_row.lines:
            ax.plot(times, values, color=colour, linestyle=style, linewidth=1.4, label=name)
        seen = dict.fromkeys(n for *_, n in kinetics_row.lines)
        handles = [Line2D([], [], color=next(c for _, c, _, n in kinetics_row.lines if n == name)) for name in seen]
        ax.legend(handles, list(seen), loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(seen), frameon=False,
                  fontsize=10, borderaxespad=0.1)
        ax.set_title(kinetics_row.title, fontsize=12, loc="left")
        ax.grid(True, color="#e6e6e6")
        ax.tick_params(labelsize=10)
        ax.set_xlim(times[0], max(times[-1], times[0] + 1e-3))
        if row == len(extra) - 1:
            ax.set_xlabel("time on the comparison's clock (s)", fontsize=11)
    handles = [Line2D([], [], color=A_COLOUR, linewidth=1.6), Line2D([], [], color=B_COLOUR, linewidth=1.6,
                                                                      linestyle="--")]
    labels = [header[0].split(":")[0].strip(), header[1].split(":")[0].strip()]
    for kind, marker in MARKERS.items():
        if any(e.kind == kind for side in events for e in side):
            filled = kind in ("foot strike", "landing")
            handles.append(Line2D([], [], linestyle="none", marker=marker, color="#444444",
                                  markerfacecolor="#444444" if filled else "white", markersize=7))
            labels.append(kind)
    figure.legend(handles, labels, loc="center", ncol=len(handles), frameon=False, fontsize=11,
                  bbox_to_anchor=(0.5, 1 - (curves_top - 28) / height_px))
    ax = figure.add_axes(box(0.02, table_top, 0.96, table_px))
    ax.set_axis_off()
    _draw_table(ax, differences)
    figure.text(0.02, 1 - (table_top + table_px + 22) / height_px,
                f"Highlighted: the {min(HIGHLIGHT_ROWS, len(differences))} angles with the largest mean difference "
                "(rows), the largest peak and timing differences (cells). Times on the comparison's clock; B-A is "
                "positive when B is larger / later.", fontsize=11, va="center")
    if event_rows:
        ax = figure.add_axes(box(0.02, events_top, 0.96, events_px))
        ax.set_axis_off()
        _draw_event_table(ax, event_rows)
    if peaks:
        ax = figure.add_axes(box(0.02, peaks_top, 0.96, peaks_px))
        ax.set_axis_off()
        table = ax.table(cellText=[[which, what, f"{low:+.2f}", f"{high:+.2f}"] for which, what, low, high in peaks],
                         colLabels=["side", f"kinetics ({FILTER_NOTE})", "lowest", "highest (peak)"],
                         bbox=(0.0, 0.0, 1.0, 1.0), cellLoc="center", colWidths=[0.08, 0.56, 0.18, 0.18])
        table.auto_set_font_size(False)
        table.set_fontsize(12)
        for col in range(4):
            table[0, col].set_facecolor("#e8ebef")
            table[0, col].set_text_props(fontweight="bold")
    figure.savefig(path, dpi=DPI, facecolor="white")


def _draw_event_table(ax: Any, rows: Sequence[Any]) -> None:
    header = ["event", "count A", "count B", "pairs", "mean timing B-A", "largest |B-A|"]
    cells = [[f"{r.kind} ({r.foot} foot)" if r.foot != "both" else r.kind, str(r.n_a), str(r.n_b), str(r.n_pairs),
              f"{r.mean_offset_s:+.3f} s" if r.n_pairs else "-", f"{r.max_abs_offset_s:.3f} s" if r.n_pairs else "-"]
             for r in rows]
    table = ax.table(cellText=cells, colLabels=header, bbox=(0.0, 0.0, 1.0, 1.0), cellLoc="center",
                     colWidths=[0.3] + [0.7 / 5] * 5)
    table.auto_set_font_size(False)
    table.set_fontsize(12)
    for col in range(len(header)):
        table[0, col].set_facecolor("#e8ebef")
        table[0, col].set_text_props(fontweight="bold")


def _draw_table(ax: Any, differences: Sequence[JointDifference]) -> None:
    header = ["joint", "mean |B-A|", "max |B-A|", "peak A", "peak B", "peak B-A", "t peak A", "t peak B",
              "timing B-A"]
    cells = [[label(d.joint), f"{d.mean_abs_diff_deg:.1f} deg", f"{d.max_abs_diff_deg:.1f} deg",
              f"{d.peak_a_deg:.1f} deg", f"{d.peak_b_deg:.1f} deg", f"{d.peak_diff_deg:+.1f} deg",
              f"{d.peak_time_a_s:.2f} s", f"{d.peak_time_b_s:.2f} s", f"{d.timing_offset_s:+.2f} s"]
             for d in differences]
    table = ax.table(cellText=cells, colLabels=header, bbox=(0.0, 0.0, 1.0, 1.0), cellLoc="center",
                     colWidths=[0.17] + [0.83 / 8] * 8)
    table.auto_set_font_size(False)
    table.set_fontsize(12)
    for col in range(len(header)):
        table[0, col].set_facecolor("#e8ebef")
        table[0, col].set_text_props(fontweight="bold")
    ranked = sorted(range(len(differences)), key=lambda i: -differences[i].mean_abs_diff_deg)[:HIGHLIGHT_ROWS]
    for row in ranked:
        for col in range(len(header)):
            table[row + 1, col].set_facecolor("#ffe4c4")
    for col, key in ((5, "peak_diff_deg"), (8, "timing_offset_s")):
        row = max(range(len(differences)), key=lambda i: abs(getattr(differences[i], key)))
        table[row + 1, col].set_facecolor("#ffb060")
        table[row + 1, col].set_text_props(fontweight="bold")


def write_table(path: Path, differences: Sequence[JointDifference]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for d in differences:
            writer.writerow([d.joint] + [f"{getattr(d, c):.3f}" for c in CSV_COLUMNS[1:]])
