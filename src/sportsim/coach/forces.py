"""What a simulated athlete shows that capture cannot: the kinetics of a policy side of a comparison on
the comparison's timeline - vertical ground reaction force per foot and the sagittal hip, knee and ankle
moments of one leg - and their peaks.

From the env's kinetics probe (:mod:`sportsim.kinetics`: sampled at every physics step), low-pass
filtered with :func:`sportsim.kinetics.lowpass` (zero-lag Butterworth, cut-off
:data:`sportsim.kinetics.GRF_CUTOFF_HZ` = 15 Hz, for forces and moments alike) and interpolated at the
times the comparison shows. Units as the literature reports them: forces in body weights (BW), moments
in N m/kg. Sign conventions (Winter 2009's support-moment convention): hip + extension, knee +
extension, ankle + plantarflexion - each the internal moment the muscles produce; the humanoid's hip
and ankle rotate about +y toward extension and plantarflexion, its knee hinge toward flexion, so the
knee's sign is turned.

:data:`RECORD_PANEL` is Imitation's sport panel for ``python -m sportsim.record`` (the same quantities,
each video frame the mean over its 1/30 s control step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sportsim import humanoid
from sportsim import kinetics as kin

# series name -> (label with unit and sign, actuator or foot, sign)
MOMENTS = {"hip": ("hip_y", 1.0, "+ extension"), "knee": ("knee", -1.0, "+ extension"),
           "ankle": ("ankle_y", 1.0, "+ plantarflexion")}
FEET = ("right", "left")
FILTER_NOTE = f"filtered at {kin.GRF_CUTOFF_HZ:g} Hz"
GRF_COLOURS = (("#1f5fbf", "#8fb3e8"), ("#e07b00", "#f5c084"))  # A's right and left foot, B's
MOMENT_COLOURS = ("#6a3d9a", "#2e8b57", "#b22222")  # hip, knee, ankle
STYLES = ("-", (0, (3, 1.5)))  # A solid, B dashed (as the angle curves)


@dataclass(frozen=True)
class TimelineKinetics:
    """One policy side's kinetics at each timeline frame: ``grf_bw`` ``{foot: (K,)}`` vertical ground
    reaction force, ``moment_nm_per_kg`` ``{joint: (K,)}`` of the ``side`` leg (conventions: module
    docstring)."""

    side: str
    grf_bw: dict[str, np.ndarray]
    moment_nm_per_kg: dict[str, np.ndarray]

    def columns(self, prefix: str) -> dict[str, np.ndarray]:
        """Named columns for ``frames.csv``: ``<prefix>_right_vertical_grf_bw``, ...,
        ``<prefix>_<side>_hip_moment_nm_per_kg``, ..."""
        out = {f"{prefix}_{foot}_vertical_grf_bw": v for foot, v in self.grf_bw.items()}
        out |= {f"{prefix}_{self.side}_{joint}_moment_nm_per_kg": v for joint, v in self.moment_nm_per_kg.items()}
        return out

    def peaks(self) -> list[tuple[str, float, float]]:
        """(what, lowest, highest) over the timeline: each foot's vertical force, each joint's moment."""
        out = [(f"{foot} vertical GRF (BW)", float(v.min()), float(v.max())) for foot, v in self.grf_bw.items()]
        out += [(f"{self.side} {joint} moment (N m/kg, {MOMENTS[joint][2]})", float(v.min()), float(v.max()))
                for joint, v in self.moment_nm_per_kg.items()]
        return out


def on_timeline(series: dict[str, np.ndarray], rollout_times_s: np.ndarray, side: str) -> TimelineKinetics:
    """The filtered kinetics of a rollout (``series``: :attr:`PolicyRollout.kinetics`) at rollout times
    ``rollout_times_s`` (s from the rollout's start), for the ``side`` leg's moments."""
    rate = float(series["rate_hz"])
    sample_times = (np.arange(len(series["grf_bw"])) + 1) / rate
    times = np.asarray(rollout_times_s, dtype=float)
    grf = kin.lowpass(series["grf_bw"][:, :, 2], rate)
    moments = kin.lowpass(series["moment_nm_per_kg"], rate)
    names = humanoid.ACTUATOR_NAMES
    return TimelineKinetics(
        side,
        {foot: np.interp(times, sample_times, grf[:, f]) for f, foot in enumerate(FEET)},
        {joint: sign * np.interp(times, sample_times, moments[:, names.index(f"{side}_{dof}")])
         for joint, (dof, sign, _) in MOMENTS.items()})


def kinetics_rows(kinetics: tuple[TimelineKinetics | None, TimelineKinetics | None]) -> list[KineticsRow]:
    """The kinetics rows under the angles when a side is a policy: vertical GRF of both feet (the side's
    own foot dark, the other light) and the hip, knee and ankle moments of one leg; A solid, B dashed."""
    present = [(k, style, colours) for k, style, colours in zip(kinetics, STYLES, GRF_COLOURS) if k is not None]
    if not present:
        return []
    leg = present[0][0].side
    grf: list[tuple[np.ndarray, str, Any, str]] = []
    moments: list[tuple[np.ndarray, str, Any, str]] = []
    for k, style, colours in present:
        for foot, colour in zip(FEET, colours):
            grf.append((k.grf_bw[foot], colour, style, f"{foot} foot"))
        for joint, colour in zip(MOMENTS, MOMENT_COLOURS):
            moments.append((k.moment_nm_per_kg[joint], colour, style, joint))
    return [KineticsRow(f"vertical GRF (BW, {FILTER_NOTE})", grf),
            KineticsRow(f"{leg} leg moments (N m/kg, + extension / plantarflexion)", moments)]


@dataclass(frozen=True)
class KineticsRow:
    """One axes of kinetics: its title and (values, colour, line style, legend label) per curve."""

    title: str
    lines: list[tuple[np.ndarray, str, Any, str]]


# ---- the sport panel of `python -m sportsim.record` for Imitation (sportsim.video.sport_panel_spec) ---------
def _panel_values(obs: Any, info: dict[str, Any]) -> dict[str, float]:
    """One video frame's sample: the mean over the control step's physics steps (a 1/30 s average) of the
    vertical GRF per foot and the right leg's sagittal moments (signs: module docstring); NaN at the reset
    frame, which has no step behind it."""
    found = info.get("kinetics")
    keys = ("right_grf_bw", "left_grf_bw", "right_hip", "right_knee", "right_ankle")
    if not isinstance(found, dict):
        return dict.fromkeys(keys, float("nan"))
    grf = np.asarray(found["grf_bw"])[:, :, 2].mean(axis=0)
    moments = np.asarray(found["moment_nm_per_kg"]).mean(axis=0)
    out = {"right_grf_bw": float(grf[0]), "left_grf_bw": float(grf[1])}
    for joint, (dof, sign, _) in MOMENTS.items():
        out[f"right_{joint}"] = sign * float(moments[humanoid.ACTUATOR_NAMES.index(f"right_{dof}")])
    return out


RECORD_PANEL = {
    "env_kwargs": {"kinetics": True},  # record builds the env with these for the panel
    "values": _panel_values,
    "rows": [
        {"ylabel": "GRF (BW)", "curves": [("right_grf_bw", "right foot"), ("left_grf_bw", "left foot")],
         "ygrid": (0.5, 0.0)},
        {"ylabel": "moment (N m/kg)", "curves": [("right_hip", "right hip, + extension"), ("right_knee", "knee, + extension"),
                                                    ("right_ankle", "ankle, + plantarflexion")]},
    ],
}
