"""Joint strength of an elite male gymnast: torque-angle-velocity curves (data with sources).

Data: M.I. Jackson (2010), "The mechanics of the table contact phase of gymnastics vaulting", PhD
thesis, Loughborough University - isokinetic dynamometry of one elite male gymnast (21 years, 69.6 kg,
1.732 m) - as fitted and tabulated in RBDL's muscle addon (``addons/muscle/Millard2016TorqueMuscle.cc``,
table ``GymnastWholeBody``, zlib licence; repository rbdl/rbdl, commit d2ca0372) and described in
M. Millard, A.L. Kleesattel, M. Harant, K. Mombaur (2019), "A reduced muscle model and planar
musculoskeletal model fit for the simulation of whole-body movements", J. Biomech. 89:11-20
[REFERENCES E1, E2]. Hip, knee, shoulder flexion/extension and wrist flexion/extension are Jackson's
own; the ankle is Anderson et al. (2007) scaled to Jackson's subject, the elbow Kentel et al. (2011)
scaled (RBDL's notes). The numbers below are the table's, unchanged.

Each joint-direction is a *torque muscle* (Millard's model): the maximal voluntary torque is

    tau = tau_iso * f_active(angle) * f_velocity(concentric velocity / omega_max)   (+ passive)

* ``f_active``: a Gaussian of the joint angle, 1 at ``active_angle_rad``, standard deviation
  ``active_width_rad`` (RBDL fits a C2 quintic Bezier to this Gaussian and cuts it to 0 below 1e-3).
* ``f_velocity``: concentric side Hill's hyperbola through (0, 1), (0.5, ``tv_half_concentric``) and
  (1, 0): ``f = a (1 - w) / (a + w)``, ``a = 0.5 t / (0.5 - t)`` (RBDL's own derivation); beyond
  omega_max 0. Eccentric side (w < 0): a rational curve with the concentric side's slope at 0 rising
  to ``tv_eccentric`` at w = -1 and flat beyond (RBDL uses a Bezier between the same end points and
  slopes; the difference is at most a few % of tau_iso).
* passive: an exponential rise from 0 at ``passive_angle_zero_rad`` to 1 (x tau_iso) at
  ``passive_angle_one_rad`` with slope 4.6 / (angle span) there (RBDL's default), linear beyond. RBDL
  notes that passive curves without a literature curve behind them are its author's educated guesses.

Conventions (as Millard maps every author's data): the joint angle is positive in *flexion* for every
joint (hip, knee, shoulder, elbow, wrist flexion; ankle dorsiflexion), 0 in the anatomical position
(arm along the trunk, hip and knee straight). ``concentric velocity`` is positive when the joint
turns in the direction of the torque (shortening), negative when the torque resists the motion.
Torques are per side (one limb): double them for both arms or legs (bilateral deficit ignored).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["extension", "flexion"]

# Subject of Jackson (2010), from RBDL's notes [REFERENCES E2].
SUBJECT_MASS_KG = 69.6
SUBJECT_HEIGHT_M = 1.732
# Slope of the normalised passive curve where it reaches 1 (RBDL createPassiveTorqueAngleCurve default).
PASSIVE_SLOPE_AT_ONE = 4.6


def _passive_exponent(slope: float) -> float:
    """k such that (exp(k x) - 1) / (exp(k) - 1) has slope ``slope`` at x = 1 (bisection; k ~ 4.55)."""
    lo, hi = 1e-6, 50.0
    for _ in range(100):
        k = 0.5 * (lo + hi)
        if k * math.exp(k) / math.expm1(k) < slope:
            lo = k
        else:
            hi = k
    return 0.5 * (lo + hi)


_PASSIVE_K = _passive_exponent(PASSIVE_SLOPE_AT_ONE)
_PASSIVE_DEN = math.expm1(_PASSIVE_K)


def torque_velocity_factor(concentric_velocity_norm, tv_half_concentric: float = 0.25,
                           tv_eccentric: float = 1.1):
    """Torque-velocity multiplier (1 isometric, 0 at the maximal shortening velocity).

    ``concentric_velocity_norm``: joint angular velocity in the torque's direction divided by the
    joint's maximal velocity (float or numpy array; + shortening, - lengthening). ``tv_half_concentric``:
    the multiplier at half the maximal shortening velocity; ``tv_eccentric``: the plateau when
    lengthening fast. The defaults are a typical mid-range of the gymnast table (0.11-0.41 and 1.1-1.37);
    use each curve's own values where known (:meth:`TorqueCurve.velocity_factor`).
    """
    if not 0.0 < tv_half_concentric < 0.5:
        raise ValueError(f"tv_half_concentric={tv_half_concentric} must be in (0, 0.5)")
    if not tv_eccentric > 1.0:
        raise ValueError(f"tv_eccentric={tv_eccentric} must be > 1")
    a = 0.5 * tv_half_concentric / (0.5 - tv_half_concentric)
    slope = (1.0 + a) / a  # |df/dw| of the hyperbola at w = 0
    w = np.clip(np.asarray(concentric_velocity_norm, dtype=float), -1.0, 1.0)
    concentric = a * (1.0 - w) / (a + np.maximum(w, 0.0))
    ecc_gain = tv_eccentric - 1.0
    eccentric = tv_eccentric - ecc_gain / (1.0 + slope * np.maximum(-w, 0.0) / ecc_gain)
    out = np.where(w >= 0.0, concentric, eccentric)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class TorqueCurve:
    """One joint-direction of the gymnast table (per side; angles in the flexion-positive convention)."""

    joint: str
    direction: Direction
    max_isometric_torque_nm: float
    max_velocity_radps: float
    active_angle_rad: float
    active_width_rad: float
    tv_eccentric: float
    tv_half_concentric: float
    passive_angle_zero_rad: float
    passive_angle_one_rad: float

    def __post_init__(self) -> None:
        a = 0.5 * self.tv_half_concentric / (0.5 - self.tv_half_concentric)
        object.__setattr__(self, "_hill_a", a)
        object.__setattr__(self, "_slope0", (1.0 + a) / a)

    def active_angle_factor(self, angle_rad: float) -> float:
        """Isometric torque at this joint angle, as a fraction of ``max_isometric_torque_nm``."""
        x = (angle_rad - self.active_angle_rad) / self.active_width_rad
        return math.exp(-0.5 * x * x)

    def velocity_factor(self, concentric_velocity_radps: float) -> float:
        """Torque-velocity multiplier at this angular velocity (+ = turning in the torque's direction)."""
        w = concentric_velocity_radps / self.max_velocity_radps
        if w >= 0.0:
            if w >= 1.0:
                return 0.0
            a = self._hill_a  # type: ignore[attr-defined]
            return a * (1.0 - w) / (a + w)
        w = max(w, -1.0)
        gain = self.tv_eccentric - 1.0
        return self.tv_eccentric - gain / (1.0 - self._slope0 * w / gain)  # type: ignore[attr-defined]

    def peak_torque_nm(self, angle_rad: float, concentric_velocity_radps: float = 0.0) -> float:
        """Maximal active torque (N m, >= 0, per side) at this angle and angular velocity."""
        return (self.max_isometric_torque_nm * self.active_angle_factor(angle_rad)
                * self.velocity_factor(concentric_velocity_radps))

    def passive_torque_nm(self, angle_rad: float) -> float:
        """Passive torque of this joint-direction's tissues (N m, >= 0, per side; it acts in the
        curve's direction), which rises as the joint is stretched against it."""
        x = (angle_rad - self.passive_angle_zero_rad) / (self.passive_angle_one_rad - self.passive_angle_zero_rad)
        if x <= 0.0:
            return 0.0
        if x <= 1.0:
            norm = math.expm1(_PASSIVE_K * x) / _PASSIVE_DEN
        else:
            norm = 1.0 + PASSIVE_SLOPE_AT_ONE * (x - 1.0)
        return self.max_isometric_torque_nm * norm


def _row(joint: str, direction: Direction, *values: float) -> TorqueCurve:
    return TorqueCurve(joint, direction, *values)


# RBDL GymnastWholeBody rows, columns: tau_iso (N m), omega_max (rad/s), angle at peak active torque (rad),
# active width (rad), tv at max eccentric velocity, tv at half max concentric velocity, passive angle at
# zero torque (rad), passive angle at tau_iso (rad).
GYMNAST: dict[tuple[str, Direction], TorqueCurve] = {
    (c.joint, c.direction): c for c in (
        _row("hip", "extension", 175.746, 9.02335, 1.06465, 1.05941, 1.1, 0.163849, 0.79158, 1.5708),
        _row("hip", "flexion", 157.293, 9.18043, 0.733038, 1.21999, 1.11905, 0.25, -0.0888019, -0.515207),
        _row("knee", "extension", 285.619, 19.2161, 0.942478, 0.509636, 1.13292, 0.115304, 2.00713, 2.70526),
        _row("knee", "flexion", 98.7579, 16.633, 1.02974, 1.11003, 1.12, 0.19746, 0.0, -0.174533),
        _row("ankle", "extension", 127.561, 11.7646, 0.408, 0.660752, 1.159, 0.410591, 0.0292126, 0.785398),
        _row("ankle", "flexion", 44.3106, 17.2746, -0.187, 0.60868, 1.2656, 0.112303, -0.523599, -1.0472),
        _row("shoulder", "extension", 127.401, 16.249, 2.14675, 1.83085, 1.1, 0.250134, 2.8291, 3.55835),
        _row("shoulder", "flexion", 91.1388, 19.0764, 0.890118, 1.2898, 1.23011, 0.249656, -0.523599, -1.0472),
        _row("elbow", "extension", 69.8728, 18.45, 1.64319, 1.30795, 1.31709, 0.189676, 2.0944, 2.61799),
        _row("elbow", "flexion", 101.384, 18.1, 0.33, 3.62155, 1.37223, 0.189909, 0.0, -0.174533),
        _row("wrist", "extension", 15.5653, 36.5472, 1.55334, 1.38928, 1.16875, 0.115356, 1.0472, 1.5708),
        _row("wrist", "flexion", 39.2252, 36.3901, 0.663225, 1.71042, 1.14, 0.115456, -0.793739, -1.49714),
    )
}


def curve(joint: str, direction: Direction) -> TorqueCurve:
    """The gymnast's torque curve of one joint and direction (ValueError naming the choices if unknown)."""
    try:
        return GYMNAST[(joint, direction)]
    except KeyError:
        names = ", ".join(f"{j}/{d}" for j, d in GYMNAST)
        raise ValueError(f"no gymnast strength curve for {joint}/{direction} (available: {names})") from None


def peak_torque_nm(joint: str, direction: Direction, angle_rad: float,
                   concentric_velocity_radps: float = 0.0) -> float:
    """Maximal active torque of one side (N m) at a joint angle (flexion +) and angular velocity."""
    return curve(joint, direction).peak_torque_nm(angle_rad, concentric_velocity_radps)
