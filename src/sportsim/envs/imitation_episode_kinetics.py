"""The imitation env's episode kinetics figures (``kinetics=True``; :class:`sportsim.envs.imitation.ImitationEnv`,
"Kinetics"): running peaks and sums over an episode of the control steps' :class:`sportsim.kinetics.KineticsProbe`
samples, for TensorBoard (``metadata["tb_metrics"]``) and ``enjoy``."""

from __future__ import annotations

import numpy as np

from sportsim import humanoid
from sportsim import kinetics as kin

# episode figures logged with kinetics=True (info keys; "last": running peaks / sums over the episode)
KINETICS_TB_METRICS = {"kinetics_peak_grf_bw": "last", "kinetics_peak_hip_moment_nm_per_kg": "last",
                       "kinetics_peak_knee_moment_nm_per_kg": "last", "kinetics_peak_ankle_moment_nm_per_kg": "last",
                       "kinetics_positive_work_j_per_kg": "last"}


class EpisodeKinetics:
    """The figures of :data:`KINETICS_TB_METRICS` over one episode: the largest control-step mean vertical
    force of a foot (BW), the largest control-step mean sagittal hip, knee and ankle moment of either leg
    (N m/kg) and the positive joint work so far (J/kg). :meth:`reset` at every episode start."""

    def __init__(self, physics_dt_s: float) -> None:
        self.physics_dt_s = physics_dt_s
        self._sagittal_cols = {joint: [humanoid.ACTUATOR_NAMES.index(f"{side}_{dof}") for side in ("right", "left")]
                               for joint, dof in kin.SAGITTAL_DOFS}
        self.reset()

    def reset(self) -> None:
        self._figures = dict.fromkeys(KINETICS_TB_METRICS, 0.0)

    def update(self, sample: dict[str, np.ndarray]) -> dict[str, float]:
        """Add one control step's probe sample; the figures so far (a copy)."""
        fig = self._figures
        grf = sample["grf_bw"][:, :, 2].mean(axis=0)
        moment = np.abs(sample["moment_nm_per_kg"].mean(axis=0))
        fig["kinetics_peak_grf_bw"] = max(fig["kinetics_peak_grf_bw"], float(grf.max()))
        for joint, cols in self._sagittal_cols.items():
            key = f"kinetics_peak_{joint}_moment_nm_per_kg"
            fig[key] = max(fig[key], float(moment[cols].max()))
        fig["kinetics_positive_work_j_per_kg"] += kin.positive_work_j_per_kg(sample["power_w_per_kg"], 1.0 / self.physics_dt_s)
        return dict(fig)
