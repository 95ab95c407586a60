"""Physical parameters of the high-bar env: apparatus, bar elasticity, gymnast - with sources.

Tags [Rn] and section letters refer to ../shared/REFERENCES.md (section B: high bar; B5: de Leva; C2:
joint ranges). "derived" marks a number computed here from cited inputs, "assumption" a number no
source gave, chosen as stated and exposed as a constructor argument of ``HighBarEnv``.

Planar model conventions (x-z plane, Z up, SI): every hinge turns about -y, so on the side camera (x to
the right, z up) positive angles are counter-clockwise. The gymnast hangs facing +x; positive joint
angles *close* the body in front (shoulder: trunk towards the front of the arms; hip: pike), negative
ones open it (arch). A backward giant circle runs in the positive direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sportsim.anthropometry import Sex, segments
from sportsim.errors import ConfigError

GRAVITY_MPS2 = 9.81

# -- apparatus [REFERENCES B1] ------------------------------------------------------------------
BAR_TOP_HEIGHT_M = 2.80  # top of bar to floor, FIG Apparatus Norms [R19]
BAR_DIAMETER_M = 0.028  # [R20] (an older quote gives 29 mm; conflicting, uncertain)
BAR_LENGTH_M = 2.40  # between the uprights [R20]
BAR_RADIUS_M = BAR_DIAMETER_M / 2
BAR_CENTRE_HEIGHT_M = BAR_TOP_HEIGHT_M - BAR_RADIUS_M
MAT_THICKNESS_M = 0.20  # landing mats [R21] (drawn only)

# -- bar elasticity [REFERENCES B2] ---------------------------------------------------------------
# Numeric stiffness, damping and effective mass of a competition bar: NOT FOUND. The Loughborough
# models [R23, R24] use damped linear springs, horizontal and vertical, fitted to performances; so
# does this model. Order of magnitude (derived in B2, uncertain): a solid steel bar, E = 210 GPa,
# d = 28 mm, L = 2.4 m, loaded at midspan: k = 48 EI/L^3 (pinned ends) ... 192 EI/L^3 (clamped ends).
STEEL_YOUNG_MODULUS_PA = 210e9
STEEL_DENSITY_KGPM3 = 7850.0
BAR_SECOND_MOMENT_M4 = math.pi * BAR_DIAMETER_M**4 / 64
BAR_EI_NM2 = STEEL_YOUNG_MODULUS_PA * BAR_SECOND_MOMENT_M4  # 6.3 kN m^2 (derived)
BAR_STIFFNESS_PINNED_NPM = 48 * BAR_EI_NM2 / BAR_LENGTH_M**3  # 2.2e4 N/m (derived)
BAR_STIFFNESS_CLAMPED_NPM = 192 * BAR_EI_NM2 / BAR_LENGTH_M**3  # 8.8e4 N/m (derived)
# Default: the geometric mean of the two bounds, 4.4e4 N/m - real bar ends are neither pinned nor
# clamped (sockets in uprights braced by four cables [R20]). Derived, uncertain; the same value is
# used horizontally and vertically (a round bar bends alike both ways; the cable bracing may not).
BAR_STIFFNESS_NPM = math.sqrt(BAR_STIFFNESS_PINNED_NPM * BAR_STIFFNESS_CLAMPED_NPM)
# Moving mass of the bar at the hands: the bar's first-mode (Rayleigh) mass at midspan, 17/35 of a
# simply supported bar's mass (static-deflection shape); the hands hold the bar near midspan.
# 2.4 m of 28 mm steel weigh 11.6 kg => 5.6 kg (derived, uncertain: uprights and cables not counted).
BAR_MASS_KG = STEEL_DENSITY_KGPM3 * math.pi * BAR_RADIUS_M**2 * BAR_LENGTH_M
BAR_EFFECTIVE_MASS_KG = 17.0 / 35.0 * BAR_MASS_KG
# Damping: NOT FOUND (fitted per gymnast in [R24]). Assumption: 5 % of critical for the bar carrying
# the hanging gymnast (the bounce the gymnast feels), c = 2 zeta sqrt(k (m_bar + m_gymnast)).
BAR_DAMPING_RATIO = 0.05

# -- hands on the bar -------------------------------------------------------------------------------
# Friction of chalked hands / leather grips turning around a steel bar: NOT FOUND. Assumption: a
# Coulomb coefficient of 0.3, acting at the bar radius, so the friction torque is 0.3 x r x |hand force|.
GRIP_FRICTION_COEF = 0.3
# The force at which the grip fails: NOT FOUND. Bar reactions up to 6 body weights occur in swings
# that are held [R25, REFERENCES B3]; a rigid body swung from a handstand loads the bar with 4-5 body
# weights at the bottom (derived, B3). Assumption: the hands let go above 8 body weights.
GRIP_LIMIT_BW = 8.0

# -- joints -----------------------------------------------------------------------------------------
# Clinical ranges, degrees [R32a-c, REFERENCES C2]: shoulder flexion 150-180 / extension 45-60, hip
# flexion 110-125 / extension 10-30. Gymnasts sit at the flexible end (a straight hang needs 180 deg of
# shoulder flexion), so the upper ends are taken. Conversion to the model's angles (0 = straight body):
#   shoulder = 180 deg - anatomical flexion: 180 flexion -> 0 (arms in line with the trunk, the
#     opening limit), extension 60 -> +240 (closing limit);
#   hip = anatomical flexion: flexion 125 -> +125 (pike limit), extension 30 -> -30 (arch limit).
SHOULDER_FLEXION_MAX_DEG = 180.0
SHOULDER_EXTENSION_MAX_DEG = 60.0
HIP_FLEXION_MAX_DEG = 125.0
HIP_EXTENSION_MAX_DEG = 30.0
SHOULDER_RANGE_DEG = (180.0 - SHOULDER_FLEXION_MAX_DEG, 180.0 + SHOULDER_EXTENSION_MAX_DEG)
HIP_RANGE_DEG = (-HIP_EXTENSION_MAX_DEG, HIP_FLEXION_MAX_DEG)
# Net hip and shoulder moments -200 ... +300 N m in a high-bar preparatory swing [R25, REFERENCES B6].
# The abstract gives no sign convention; assumption: the larger +300 N m closes the body (shoulder
# closing, hip pike, as in the upswing's pike), -200 N m opens it (arch).
JOINT_TORQUE_LIMITS_NM = (-200.0, 300.0)


@dataclass(frozen=True)
class Bar:
    """The elastic bar: two damped linear springs (horizontal, vertical) on its effective mass [R24]."""

    stiffness_x_npm: float
    stiffness_z_npm: float
    damping_ratio: float
    effective_mass_kg: float
    radius_m: float = BAR_RADIUS_M
    centre_height_m: float = BAR_CENTRE_HEIGHT_M

    def damping_nspm(self, axis_stiffness_npm: float, gymnast_mass_kg: float) -> float:
        """Viscous damping along one axis: ``damping_ratio`` of critical for the loaded bar."""
        return 2.0 * self.damping_ratio * math.sqrt(axis_stiffness_npm * (self.effective_mass_kg + gymnast_mass_kg))


def make_bar(stiffness_x_npm: float = BAR_STIFFNESS_NPM, stiffness_z_npm: float = BAR_STIFFNESS_NPM,
             damping_ratio: float = BAR_DAMPING_RATIO, effective_mass_kg: float | None = None) -> Bar:
    mass = BAR_EFFECTIVE_MASS_KG if effective_mass_kg is None else effective_mass_kg
    for name, k in (("bar_stiffness_x_npm", stiffness_x_npm), ("bar_stiffness_z_npm", stiffness_z_npm)):
        if not 1e3 <= k <= 1e6:
            raise ConfigError(f"{name}={k} must be in [1e3, 1e6] N/m (derived range for a 28 mm steel bar: "
                              f"{BAR_STIFFNESS_PINNED_NPM:.2g}-{BAR_STIFFNESS_CLAMPED_NPM:.2g} N/m)")
    if not 0.0 <= damping_ratio <= 1.0:
        raise ConfigError(f"bar_damping_ratio={damping_ratio} must be in [0, 1]")
    if not 0.5 <= mass <= 50.0:
        raise ConfigError(f"bar_mass_kg={mass} must be in [0.5, 50] kg")
    return Bar(float(stiffness_x_npm), float(stiffness_z_npm), float(damping_ratio), float(mass))


@dataclass(frozen=True)
class BodySegment:
    """One rigid segment of the planar gymnast: its axis runs from the proximal joint (``0``) to the
    distal joint (``length_m``); the centre of mass lies on the axis, ``com_m`` from the proximal joint."""

    name: str
    length_m: float
    mass_kg: float
    com_m: float
    inertia_kgm2: float  # about the CoM, for rotation in the sagittal (x-z) plane


@dataclass(frozen=True)
class Gymnast:
    """Three rigid segments, hands on the bar to toes: arms+hands, head+trunk, legs [REFERENCES B5]."""

    mass_kg: float
    height_m: float
    sex: Sex
    arms: BodySegment  # bar (grip) -> shoulder joint
    trunk: BodySegment  # shoulder joint -> hip joint, head above the shoulder
    legs: BodySegment  # hip joint -> toe tips (knees straight, toes pointed)

    @property
    def segments(self) -> tuple[BodySegment, BodySegment, BodySegment]:
        return (self.arms, self.trunk, self.legs)

    def straight_com_from_bar_m(self) -> float:
        """Distance bar -> whole-body CoM with the body straight (derived)."""
        offset, moment = 0.0, 0.0
        for seg in self.segments:
            moment += seg.mass_kg * (offset + seg.com_m)
            offset += seg.length_m
        return moment / self.mass_kg


def _lump(name: str, length_m: float, parts: list[tuple[float, float, float]]) -> BodySegment:
    """Combine parts ``(mass_kg, com position on the axis m, inertia about own CoM kg m^2)`` into one
    rigid segment (parallel-axis theorem, REFERENCES B4)."""
    mass = sum(m for m, _, _ in parts)
    com = sum(m * c for m, c, _ in parts) / mass
    inertia = sum(i + m * (c - com) ** 2 for m, c, i in parts)
    return BodySegment(name, length_m, mass, com, inertia)


def make_gymnast(mass_kg: float = 73.0, height_m: float = 1.741, sex: Sex = "male") -> Gymnast:
    """de Leva (1996) segments [R27, REFERENCES B5] scaled to the gymnast, lumped into three.

    * Arms (both): hand, forearm, upper arm. The bar lies in the palm at the knuckles (MET3, the hand
      segment's distal end; assumption), so the arm runs MET3 -> wrist -> elbow -> shoulder joint.
    * Head + trunk: trunk SUPR -> MIDH; the shoulder joint is taken at suprasternale height (as in
      ``anthropometry.standing_com_height``) and the head (CERV -> VERT) stands on it along the trunk axis.
    * Legs (both): thigh, shank (KJC -> lateral malleolus) and foot, knees straight, toes pointed: the
      foot's CoM on the leg axis a quarter foot length beyond the ankle (assumption; 2.7 % of the body
      mass, it moves the whole-body CoM by < 2 mm), the toes 3/4 of a foot length beyond it.
    * Inertias use de Leva's transverse radii of gyration: the transverse (medio-lateral) axis is the
      one sagittal-plane rotations turn about (derived: r_sag > r_trans for the wide trunk and hand,
      r_trans > r_sag for the deep head, so "sagittal" names the antero-posterior axis) - REFERENCES B5
      calls the naming ambiguous; the columns differ by about 7 % for the trunk.
    """
    try:
        seg = segments(height_m, mass_kg, sex)
    except ValueError as exc:
        raise ConfigError(f"gymnast_height_m={height_m}, gymnast_mass_kg={mass_kg}, gymnast_sex={sex!r}: {exc}") from None

    def part(name: str, com_m: float, count: int = 2) -> tuple[float, float, float]:
        s = seg[name]
        return (count * s.mass_kg, com_m, count * s.mass_kg * s.gyration_transverse_m**2)

    hand, forearm, upper_arm = seg["hand"], seg["forearm"], seg["upper_arm"]
    arm_len = hand.length_m + forearm.length_m + upper_arm.length_m
    arms = _lump("arms", arm_len, [
        part("hand", (1.0 - hand.com_fraction) * hand.length_m),  # CoM measured from the wrist
        part("forearm", hand.length_m + (1.0 - forearm.com_fraction) * forearm.length_m),  # from the elbow
        part("upper_arm", hand.length_m + forearm.length_m + (1.0 - upper_arm.com_fraction) * upper_arm.length_m),
    ])
    head, trunk = seg["head"], seg["trunk"]
    trunk_seg = _lump("trunk", trunk.length_m, [
        part("trunk", trunk.com_fraction * trunk.length_m, count=1),  # from SUPR
        part("head", -(1.0 - head.com_fraction) * head.length_m, count=1),  # above CERV (= shoulder level)
    ])
    thigh, shank, foot = seg["thigh"], seg["shank"], seg["foot"]
    ankle = thigh.length_m + shank.length_m
    legs = _lump("legs", ankle + foot.length_m, [
        part("thigh", thigh.com_fraction * thigh.length_m),
        part("shank", thigh.length_m + shank.com_fraction * shank.length_m),
        part("foot", ankle + 0.25 * foot.length_m),
    ])
    total = arms.mass_kg + trunk_seg.mass_kg + legs.mass_kg
    return Gymnast(mass_kg=total, height_m=height_m, sex=sex, arms=arms, trunk=trunk_seg, legs=legs)


@dataclass(frozen=True)
class Joints:
    """Ranges (rad, model convention) and torque limits (N m, (opening, closing)) of the actuated joints."""

    shoulder_range_rad: tuple[float, float]
    hip_range_rad: tuple[float, float]
    shoulder_torque_nm: tuple[float, float]
    hip_torque_nm: tuple[float, float]


def make_joints(shoulder_torque_nm: tuple[float, float] = JOINT_TORQUE_LIMITS_NM,
                hip_torque_nm: tuple[float, float] = JOINT_TORQUE_LIMITS_NM) -> Joints:
    for name, (lo, hi) in (("shoulder_torque_nm", shoulder_torque_nm), ("hip_torque_nm", hip_torque_nm)):
        if not (-1000.0 <= lo < 0.0 < hi <= 1000.0):
            raise ConfigError(f"{name}=({lo}, {hi}) must be (opening < 0, closing > 0) N m, each within 1000 N m")
    return Joints(
        shoulder_range_rad=(math.radians(SHOULDER_RANGE_DEG[0]), math.radians(SHOULDER_RANGE_DEG[1])),
        hip_range_rad=(math.radians(HIP_RANGE_DEG[0]), math.radians(HIP_RANGE_DEG[1])),
        shoulder_torque_nm=(float(shoulder_torque_nm[0]), float(shoulder_torque_nm[1])),
        hip_torque_nm=(float(hip_torque_nm[0]), float(hip_torque_nm[1])),
    )


# == HighBar-v1 (issue 16) ==========================================================================

# -- grip (wrist) moment [REFERENCES E1] ----------------------------------------------------------
# Decision of issue 16: the hands can apply a moment about the bar of +-0.41 N m per kg of body mass
# (+-30 N m at 73 kg): two wrists x 15.6 N m isometric wrist extension of an elite male gymnast
# (Jackson 2010 via Millard et al. 2019, sportsim.strength), scaled by mass; sensitivity range 14-80 N m.
# Gymnasts balance handstands mainly with the wrists (Kerwin & Trewartha 2001). Friction is kept on top.
GRIP_MOMENT_NM_PER_KG = 0.41
GRIP_MOMENT_RANGE_NM = (14.0, 80.0)  # the sensitivity range at 73 kg

# -- joint strength [REFERENCES E2] -------------------------------------------------------------------
# Shoulder and hip torque limits from the elite-gymnast torque-angle-velocity curves (sportsim.strength,
# per side, doubled for two arms / two legs). Scaling to another body mass: proportional to mass relative
# to Jackson's subject (69.6 kg) - an assumption (RBDL's notes: no scaling law is known); 73 kg -> x1.049.
# Passive ranges: the same data set's passive torque-angle curves replace v0's stiff stops. They match
# v0's clinical limits (C2) within 1 deg for the shoulder closing limit (flexor curve reaches tau_iso at
# 60 deg of extension = model +240 deg) and the hip arch (29.5 deg), and let the shoulder open to about
# 24 deg past straight (gymnasts' shoulders do). The hip extensors' curve (tau_iso at 90 deg of flexion,
# an "educated guess" of RBDL's author) would stop a straight-leg pike at ~85 deg, far short of a
# gymnast's pike; it is shifted by +35 deg so that it reaches tau_iso at v0's pike limit, 125 deg
# [C2, gymnasts at the flexible end] (assumption).
HIP_EXTENSOR_PASSIVE_SHIFT_DEG = 35.0

# -- divergence bounds (physics_error) ------------------------------------------------------------------
# A hand force or a bar spring force (stiffness x deflection, either axis) beyond 20 body weights - over
# 3x the largest bar reactions measured in swings, 6 BW [R25], and 2.5x the grip limit - only comes from
# a diverging integration: the episode ends as a physics error, not as the gymnast letting go.
PHYSICS_ERROR_FORCE_BW = 20.0
# Stability of the bar springs under RK4: the bar's own mode omega = sqrt(k / m_bar) must satisfy
# omega dt <= 1.5. RK4 is stable on an undamped oscillator up to omega dt = 2.83; at 1.5 its amplification
# factor is 0.94 per step (numerical damping of a mode far above the swing; at the default bar, omega dt
# = 0.89: 0.997 per step) - derived from |1 - h^2/2 + h^4/24 + i(h - h^3/6)|. 1e6 N/m at 10 ms: 4.2.
BAR_MODE_MAX_OMEGA_DT = 1.5


def max_stable_dt_s(stiffness_npm: float, effective_mass_kg: float) -> float:
    """Largest physics step (s) that integrates the bar's own spring mode stably (see above)."""
    return BAR_MODE_MAX_OMEGA_DT / math.sqrt(stiffness_npm / effective_mass_kg)
