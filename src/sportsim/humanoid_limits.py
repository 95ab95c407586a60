"""Human strength and joint ranges of the sportsim humanoid (``sportsim/Imitation-v1``): data with sources.

Every actuated degree of freedom of :mod:`sportsim.humanoid` is one rotation-vector component of a
ball joint (child-frame axis x = forward, y = left, z = up in the zero pose) or a hinge angle. Per
component this module gives

* the peak isometric joint torque in each direction, per kg of body mass (:data:`STRENGTH`), and the
  torque-velocity reduction (:func:`torque_velocity_factor`);
* the anatomical range of motion (:data:`RANGES_DEG`).

Sign conventions (right-hand rule about the child-frame axis; derived from the zero pose, where every
body frame is the world's): about **y** (medio-lateral), + = hip/shoulder *extension*, trunk/neck
*flexion*, ankle *plantarflexion*; hinge knee + = flexion, elbow + = flexion. About **x**
(antero-posterior), + moves the limb towards the subject's left: right hip/shoulder *adduction*,
left hip/shoulder *abduction*; right ankle *inversion*, left ankle *eversion*; trunk/neck lateral
flexion to the left. About **z** (longitudinal), + turns the front of the limb to the subject's left:
right hip/shoulder *internal* rotation, left ones *external*; right foot adduction (toe in), left foot
abduction; trunk/neck axial rotation to the left.

Strength sources
----------------
* [J10] Jackson M.I. (2010) PhD thesis, Loughborough University - elite male gymnast (69.6 kg,
  1.732 m), isometric peak torques and maximal angular velocities, as tabulated in RBDL
  ``addons/muscle/Millard2016TorqueMuscle.cc`` (``GymnastWholeBody``) and documented in Millard M.,
  Kleesattel A.L., Harant M., Mombaur K. (2019) "Reduced muscle models ... torque-driven
  musculoskeletal models", J. Biomech. (REFERENCES E2). Divided by 69.6 kg here.
* Directions [J10] does not cover: the comments of ``_NON_SAGITTAL_NM_PER_KG`` give each value's source
  and how far it was verified (hip ab/adduction and rotation, trunk lateral flexion and rotation and the
  foot's twist have no verified primary value yet: marked NOT VERIFIED / ASSUMPTION).

The torque-velocity curve keeps two of Millard et al.'s parameters per direction - the maximal
angular velocity ``omega_max`` and the torque at half of it (``tv_half``, 0.12-0.41 of isometric) -
and joins them with Hill's hyperbola (concentric) and a saturating rise to 1.1-1.3 x isometric
(eccentric, Millard's ``tvAtMaxEccentricVelocity``). It is the hyperbola through those points, not
Millard's Bezier curve: the two agree at 0, omega_max/2 and omega_max.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

GYMNAST_MASS_KG = 69.6  # [J10] subject


@dataclass(frozen=True)
class Strength:
    """Peak isometric torque of one actuated dof: ``positive``/``negative`` N m per kg for torque in
    the + / - direction (see the module's sign conventions), with the concentric torque-velocity
    parameters of each direction."""

    positive_nm_per_kg: float
    negative_nm_per_kg: float
    omega_max_positive: float  # rad/s, concentric velocity at which the + torque reaches 0
    omega_max_negative: float
    tv_half_positive: float  # torque at half omega_max / isometric
    tv_half_negative: float
    eccentric_max: float = 1.2  # torque at fast lengthening / isometric (Millard: 1.1-1.37)


def _g(torque_nm: float) -> float:
    return torque_nm / GYMNAST_MASS_KG


# GymnastWholeBody rows [J10]: (isometric N m, omega_max rad/s, tv at half omega_max, tv eccentric max)
_J10 = {
    "hip_extension": (175.746, 9.02335, 0.163849, 1.1), "hip_flexion": (157.293, 9.18043, 0.25, 1.11905),
    "knee_extension": (285.619, 19.2161, 0.115304, 1.13292), "knee_flexion": (98.7579, 16.633, 0.19746, 1.12),
    "ankle_plantarflexion": (127.561, 11.7646, 0.410591, 1.159),
    "ankle_dorsiflexion": (44.3106, 17.2746, 0.112303, 1.2656),
    "shoulder_extension": (127.401, 16.249, 0.250134, 1.1), "shoulder_flexion": (91.1388, 19.0764, 0.249656, 1.23011),
    "shoulder_horizontal_adduction": (128.496, 18.05, 0.214179, 1.25856),
    "shoulder_horizontal_abduction": (94.6839, 18.0, 0.224227, 1.23042),
    "shoulder_internal_rotation": (50.522, 19.47, 0.285399, 1.27634),
    "shoulder_external_rotation": (43.5837, 18.0, 0.229104, 1.35664),
    "elbow_flexion": (101.384, 18.1, 0.189909, 1.37223), "elbow_extension": (69.8728, 18.45, 0.189676, 1.31709),
    "lumbar_extension": (687.864, 1.0472, 0.45, 1.1), "lumbar_flexion": (211.65, 0.523599, 0.45, 1.1),
}


def _pair(positive: str, negative: str, *, omega: tuple[float, float] | None = None) -> Strength:
    p, n = _J10[positive], _J10[negative]
    wp, wn = omega if omega is not None else (p[1], n[1])
    return Strength(_g(p[0]), _g(n[0]), wp, wn, p[2], n[2], 0.5 * (p[3] + n[3]))


def _other(positive_nm_per_kg: float, negative_nm_per_kg: float, omega_max: float = 12.0,
           tv_half: float = 0.2) -> Strength:
    """A direction pair [J10] lacks: isometric values as ``_NON_SAGITTAL_NM_PER_KG`` cites them; torque-velocity shape of
    [J10]'s typical row (omega_max 12 rad/s, 0.2 x isometric at half of it)."""
    return Strength(positive_nm_per_kg, negative_nm_per_kg, omega_max, omega_max, tv_half, tv_half)


# [J10]'s lumbar omega_max (0.52-1.05 rad/s) is far below the trunk's angular velocities in walking and
# running (Millard et al. mark the lumbar rows as placeholders fitted to little data): the trunk keeps
# [J10]'s lumbar isometric torques with the hip's velocity curve.
_TRUNK_OMEGA = (9.18043, 9.02335)

# Per dof (humanoid.ACTUATOR_NAMES order does not matter here): Strength.
# Sides: "R"/"L" variants differ only where + means a different anatomical direction.
_SAGITTAL = {
    "chest_y": _pair("lumbar_flexion", "lumbar_extension", omega=_TRUNK_OMEGA),
    "hip_y": _pair("hip_extension", "hip_flexion"),
    "knee": _pair("knee_flexion", "knee_extension"),
    "ankle_y": _pair("ankle_plantarflexion", "ankle_dorsiflexion"),
    "shoulder_y": _pair("shoulder_extension", "shoulder_flexion"),
    "elbow": _pair("elbow_flexion", "elbow_extension"),
}

# Non-sagittal directions, N m/kg, young adult males: (right-side +, right-side -). Where a study reports
# N m without body mass, 75 kg is assumed (ASSUMED_MASS_KG). Tags as in REFERENCES.md: [cited: abstract]
# = the number was read in the paper's abstract/table; [NOT VERIFIED] = no primary source found, a value
# inside the range the general literature gives - treat as an assumption (the research notes:
# docs/strength_sources.md).
ASSUMED_MASS_KG = 75.0
_NON_SAGITTAL_NM_PER_KG = {
    # trunk lateral flexion and axial rotation: 130-160 N m / 60-100 N m [NOT VERIFIED]
    "chest_x": (145.0 / ASSUMED_MASS_KG, 145.0 / ASSUMED_MASS_KG),
    "chest_z": (80.0 / ASSUMED_MASS_KG, 80.0 / ASSUMED_MASS_KG),
    # neck: flexion 30 +- 6, extension 51 +- 11, lateral bending 32 +- 9, axial rotation 13 +- 5 N m, 9 men
    # (Fice, Siegmund & Blouin 2014, Ann. Biomed. Eng., doi 10.1007/s10439-014-1046-0) [cited: abstract]
    "neck_y": (30.0 / ASSUMED_MASS_KG, 51.0 / ASSUMED_MASS_KG),
    "neck_x": (32.0 / ASSUMED_MASS_KG, 32.0 / ASSUMED_MASS_KG),
    "neck_z": (13.0 / ASSUMED_MASS_KG, 13.0 / ASSUMED_MASS_KG),
    # right hip adduction (+) / abduction (-): abduction 1.29 N m/kg concentric at 60 deg/s in male
    # athletes (Sugimoto et al. 2014, Clin. J. Sport Med. 24:422) [cited: abstract], taken as the
    # isometric value (a lower bound); adductors stronger than abductors (Cahalan et al. 1989, Clin.
    # Orthop. 246:136) [cited: abstract, order only] - adduction 1.5 N m/kg [NOT VERIFIED]
    "hip_x": (1.5, 1.29),
    # right hip internal (+) / external (-) rotation: 0.6-1.0 N m/kg [NOT VERIFIED]
    "hip_z": (0.8, 0.8),
    # right ankle inversion (+) / eversion (-): 34.8 / 29.9 N m isokinetic, 69 men + 31 women (da Fonseca
    # et al. 2025, World J. Orthop. 16:108858) [cited: abstract + table]
    "ankle_x": (34.8 / ASSUMED_MASS_KG, 29.9 / ASSUMED_MASS_KG),
    # whole-foot twist about the shank (no clinical strength measure): as the eversion value [ASSUMPTION]
    "ankle_z": (29.9 / ASSUMED_MASS_KG, 29.9 / ASSUMED_MASS_KG),
    # right shoulder adduction (+) / abduction (-) at 60 deg: 93.7 +- 11.3 / 74.4 +- 10.8 N m, 5 men
    # (Holzbaur et al. 2007, J. Biomech. 40:2442) [secondary; the pooled 67.9 N m is in the abstract]
    "shoulder_x": (93.7 / ASSUMED_MASS_KG, 74.4 / ASSUMED_MASS_KG),
    # right shoulder internal (+) / external (-) rotation [J10]
    "shoulder_z": (_g(50.522), _g(43.5837)),
}


def _mirror(s: Strength) -> Strength:
    return Strength(s.negative_nm_per_kg, s.positive_nm_per_kg, s.omega_max_negative, s.omega_max_positive,
                    s.tv_half_negative, s.tv_half_positive, s.eccentric_max)


# The triceps surae in gait delivers more than a dynamometer's maximal voluntary contraction allows a
# joint-level torque model: [J10]'s gymnast plantarflexes with 1.83 N m/kg isometric (Anderson, Madigan &
# Nussbaum 2007, J Biomech 40:3105, Table 3, young men: c1 = 0.095 body weight x height = 1.62 N m/kg), and
# with the torque-velocity curve above only ~1.2 N m/kg at push-off's 3 rad/s - while walking peaks at
# 1.58 N m/kg there (Winter 2009, App. A) and running at 3-4 m/s needs ~2.9-3.5 N m/kg (Hamner & Delp 2013's
# data, two subjects, as re-processed by AddBiomechanics: derived). In vivo, walking uses 35 +- 6 % of the
# triceps surae's maximum and running 84 +- 12 % (Kulmala et al. 2016, MSSE 48:2181, the maximum from
# hopping, not a dynamometer): a capacity near 4.5 N m/kg (derived, two studies mixed); the calf's fibres stay
# near-isometric in walking while the Achilles tendon stretches and recoils (Fukunaga et al. 2001, Proc R Soc
# B 268:229), which a joint-level torque-velocity curve does not know. The env's ``plantarflexor_strength_scale``
# multiplies the plantarflexion row (ASSUMPTION, calibrated to those gait demands, not measured strength).
GAIT_PLANTARFLEXOR_SCALE = 1.9  # 1.83 -> 3.5 N m/kg isometric: running's demand (walking alone: ~1.25)


# -- strength profiles ---------------------------------------------------------------------------------
# "dynamometer" (the default, every Imitation version's body): the table above as measured - a maximal
# voluntary torque on a dynamometer, [J10]'s gymnast in the sagittal plane. Two of its rows fall short of
# what a trained athlete's explosive skills demand (issue 20: DeepMimic's spinkick's one-leg take-off holds
# the right knee and ankle at their limits for 8 control steps and rises 0.87 m against the capture's 1.13):
# * knee extension's torque-velocity shape: [J10]'s row keeps 0.115 of the isometric torque at half its
#   omega_max. Anderson, Madigan & Nussbaum (2007, J Biomech 40:3105, Table 3) give young men c4 = 1.517,
#   c5 = 3.952 (as tabulated in RBDL's Anderson2007 parameters [secondary]): tv(w) = (2 c4 c5 + w (c5 -
#   3 c4)) / (2 c4 c5 + w (2 c5 - 4 c4)), zero at omega_max = 2 c4 c5 / (3 c4 - c5) = 20.0 rad/s, 0.197 at
#   its half [derived] - a hyperbola, so the shape here is that curve exactly. Young women (0.200) and men
#   of 55-65 (0.198) are alike; only men over 65 are as flat as [J10] (0.119), and [J10]'s wrist rows
#   share its 0.115, which points at the fit rather than at the knee. At 5-10 rad/s (take-off speeds)
#   Anderson's curve gives 1.6-1.8x [J10]'s torque; the isometric knee strength is unchanged.
# * ankle plantarflexion: x GAIT_PLANTARFLEXOR_SCALE (3.5 N m/kg isometric: running's demand, above).
# "athlete" makes those two corrections and nothing else. "gymnast" adds the shoulder's ab/adduction (the
# cartwheel's single-arm support holds the body weight on it): the table's 0.99 / 1.25 N m/kg come from five
# untrained men (Holzbaur et al. 2007); [J10]'s gymnast has no frontal-plane row, and "gymnast" takes his
# horizontal abduction / adduction rows (94.7 / 128.5 N m, with their torque-velocity shapes) for them - the
# same muscles (deltoid, pectoralis, latissimus) in another plane [ASSUMPTION: a proxy]: 1.36 / 1.85 N m/kg.
# A cross-check: gymnasts' shoulder extensors are 30 % stronger than non-athletes' (Kochanowicz et al. 2018,
# J Sports Med Phys Fitness 58:966 [cited: abstract]), which would make Holzbaur's men 1.29 / 1.62 N m/kg
# [derived]; holding an inverted cross takes ~2.9 N m/kg of abduction [derived] - the proxy stays below it.
# "runner" adds the hips' torque-velocity curves for running speeds. [J10]'s hip rows reach zero torque at
# 9.02 rad/s (extension) and 9.18 rad/s (flexion), and DeepMimic's run asks the hip for 9.5 rad/s of flexion
# velocity (measured on its retargeted reference): its simulated runner, athlete profile, held both hips at their
# bounds in 54-76 % of physics steps and fell within 0.6 s for 0.66M samples. [J10] (one elite gymnast) and
# Anderson et al. 2007 (young men: zero at 6.52 / 8.86 rad/s, from RBDL's Anderson2007Table3Mean rows
# c4 1.578 / 2.095, c5 3.19 / 4.267) extrapolate a hyperbola from dynamometer data below ~4-5 rad/s; no hip
# dynamometry above 4.2 rad/s (240 deg/s) was found. "runner" anchors omega_max on the muscles instead, as RBDL
# itself did for its too-slow lumbar rows (Millard2016TorqueMuscle.h): omega_max = vmax x lopt x cos(pennation) /
# moment arm with vmax = 10 optimal fibre lengths/s and the fibre lengths, pennations and hip moment arms of
# Rajagopal et al. 2016 (IEEE Trans Biomed Eng 63:2068, model Rajagopal2015.osim; moment arms computed with
# OpenSim at hip 0-60 deg): one Hill curve fitted to each muscle group's summed torque gives 21-23.5 rad/s for
# the extensors (gluteus maximus, hamstrings) and 23-35 rad/s for the flexors (iliacus, psoas, rectus femoris),
# 0.14-0.16 of isometric at half of it [derived: docs/hip_torque_velocity_running.md]. Taken at the low end:
# extension 20 rad/s, 0.16 (J10: 0.164); flexion 22 rad/s, 0.15. Isometric torques unchanged. Cross-check in the
# measured range: at 4.2 rad/s the curves keep 0.42 (extension) / 0.43 (flexion) of isometric, Anderson 2007's
# young men 0.35 / 0.51 [derived from the rows above], [J10] 0.18 / 0.28; at 9.5 rad/s 31 / 30 N m remain
# (J10: 0). An ASSUMPTION beyond 4.2 rad/s (architecture, not measurement), opt-in for running.
# Opt-in per env (``strength_profile``, recorded in every run's config): a policy keeps the profile it was
# trained on.
STRENGTH_PROFILES = ("dynamometer", "athlete", "gymnast", "runner")
RUNNER_HIP_EXTENSION_TV = (20.0, 0.16)  # omega_max rad/s, torque at half of it / isometric ("runner", above)
RUNNER_HIP_FLEXION_TV = (22.0, 0.15)
_A07_KNEE_EXT_C4, _A07_KNEE_EXT_C5 = 1.517, 3.952  # Anderson et al. 2007, Table 3, young men (comment above)


def _anderson_tv(omega: float, c4: float = _A07_KNEE_EXT_C4, c5: float = _A07_KNEE_EXT_C5) -> float:
    """Anderson et al. 2007's concentric torque-velocity factor at ``omega`` (rad/s)."""
    return (2 * c4 * c5 + omega * (c5 - 3 * c4)) / (2 * c4 * c5 + omega * (2 * c5 - 4 * c4))


ATHLETE_KNEE_EXTENSION_OMEGA_MAX = 2 * _A07_KNEE_EXT_C4 * _A07_KNEE_EXT_C5 / (3 * _A07_KNEE_EXT_C4 - _A07_KNEE_EXT_C5)  # 20.0
ATHLETE_KNEE_EXTENSION_TV_HALF = _anderson_tv(ATHLETE_KNEE_EXTENSION_OMEGA_MAX / 2)  # 0.197


def strength(dof: str, plantarflexor_scale: float = 1.0, profile: str = "dynamometer") -> Strength:
    """:class:`Strength` of an actuator of :data:`sportsim.humanoid.ACTUATOR_NAMES` (e.g. ``left_hip_x``) in
    a :data:`STRENGTH_PROFILES` ``profile`` (comment above); ``plantarflexor_scale`` multiplies the ankles'
    plantarflexion (``*_ankle_y`` +) strength, on top of the profile's."""
    if profile not in STRENGTH_PROFILES:
        raise KeyError(f"unknown strength profile {profile!r} (known: {', '.join(STRENGTH_PROFILES)})")
    side, _, rest = dof.partition("_")
    key = rest if side in ("left", "right") else dof
    if key in _SAGITTAL:
        s = _SAGITTAL[key]
        if profile != "dynamometer" and key == "knee":  # - = extension
            s = replace(s, omega_max_negative=ATHLETE_KNEE_EXTENSION_OMEGA_MAX,
                        tv_half_negative=ATHLETE_KNEE_EXTENSION_TV_HALF)
        if profile == "runner" and key == "hip_y":  # + = extension
            (wp, hp), (wn, hn) = RUNNER_HIP_EXTENSION_TV, RUNNER_HIP_FLEXION_TV
            s = replace(s, omega_max_positive=wp, tv_half_positive=hp, omega_max_negative=wn, tv_half_negative=hn)
        if key == "ankle_y":
            scale = plantarflexor_scale * (GAIT_PLANTARFLEXOR_SCALE if profile != "dynamometer" else 1.0)
            if scale != 1.0:
                s = replace(s, positive_nm_per_kg=s.positive_nm_per_kg * scale)
        return s
    if key not in _NON_SAGITTAL_NM_PER_KG:
        raise KeyError(f"no strength data for actuator {dof!r}")
    # right shoulder + = adduction, - = abduction
    s = (_pair("shoulder_horizontal_adduction", "shoulder_horizontal_abduction")
         if profile == "gymnast" and key == "shoulder_x" else _other(*_NON_SAGITTAL_NM_PER_KG[key]))
    # + about x and z means the opposite anatomical direction on the left side (module docstring)
    return _mirror(s) if side == "left" and key[-1] in "xz" else s


def torque_velocity_factor(omega: np.ndarray, omega_max: np.ndarray, tv_half: np.ndarray,
                           eccentric_max: np.ndarray) -> np.ndarray:
    """Available torque / isometric torque at joint angular velocity ``omega`` (rad/s, > 0 = moving in
    the direction of the torque: concentric). Concentric: Hill's hyperbola
    ``(1 - w) / (1 + w / k)`` with ``w = omega / omega_max`` and ``k`` chosen so the factor is
    ``tv_half`` at ``w = 1/2``; 0 beyond ``omega_max``. Eccentric: ``1 + (eccentric_max - 1)
    (1 - exp(-5 |w|))``, reaching 99 % of the plateau at ``|w|`` = 0.9 (Millard's curve saturates by
    ``omega_max``). Vectorised."""
    w = np.asarray(omega, dtype=float) / omega_max
    k = 0.5 / (0.5 / tv_half - 1.0)
    conc = np.clip(1.0 - w, 0.0, 1.0) / (1.0 + np.maximum(w, 0.0) / k)
    ecc = 1.0 + (eccentric_max - 1.0) * (1.0 - np.exp(5.0 * np.minimum(w, 0.0)))
    return np.where(w >= 0.0, conc, ecc)


# -- joint ranges -----------------------------------------------------------------------------------
# Per dof: (low, high) in degrees of the rotation-vector component / hinge angle, right side (the left
# side mirrors x and z). Sources: REFERENCES C2 [R32] for hips, knees, ankles (dorsi/plantarflexion),
# shoulders, elbows - the middle of the published spans; trunk, neck and ankle inversion/eversion:
# American Academy of Orthopaedic Surgeons (1965/1994) "Joint motion: method of measuring and
# recording" as tabulated in Norkin & White, "Measurement of Joint Motion" (5th ed., 2016), Appendix A.
_RANGES_RIGHT_DEG = {
    "chest_x": (-35.0, 35.0),  # thoracolumbar lateral flexion 35 (AAOS)
    "chest_y": (-25.0, 80.0),  # extension 25, flexion 80 (AAOS)
    "chest_z": (-45.0, 45.0),  # rotation 45 (AAOS)
    "neck_x": (-45.0, 45.0),  # cervical lateral flexion 45 (AAOS)
    "neck_y": (-45.0, 45.0),  # extension 45, flexion 45 (AAOS)
    "neck_z": (-60.0, 60.0),  # rotation 60 (AAOS)
    "shoulder_x": (-170.0, 45.0),  # abduction 170-180, adduction (across the body) 45 [R32]
    "shoulder_y": (-165.0, 55.0),  # flexion 150-180, extension 45-60 [R32]
    "shoulder_z": (-90.0, 70.0),  # external rotation 80-105, internal 60-100 [R32] (conservative)
    "elbow": (0.0, 150.0),  # flexion 140-160 [R32]
    "hip_x": (-40.0, 25.0),  # abduction 30-50, adduction 20-30 [R32]
    "hip_y": (-120.0, 30.0),  # flexion 110-125, extension 10-30 [R32] (the upper end: the humanoid's pelvis frame follows the
                             # source's pelvis, which tilts back 11-15 deg in the CMU walk and adds that to hip extension)
    "hip_z": (-45.0, 40.0),  # external rotation 40-60, internal 30-45 [R32]
    "knee": (0.0, 140.0),  # flexion 130-150 [R32]
    "ankle_x": (-20.0, 35.0),  # eversion 15-20, inversion 35 (AAOS, subtalar + midtarsal)
    "ankle_y": (-20.0, 50.0),  # dorsiflexion 15-20, plantarflexion 40-65 [R32]
    "ankle_z": (-20.0, 20.0),  # forefoot ab/adduction (ASSUMPTION: no clinical norm for the whole-foot twist)
}


def range_rad(dof: str) -> tuple[float, float]:
    """Anatomical range (low, high) of an actuator's coordinate, radians (left side mirrored)."""
    side, _, rest = dof.partition("_")
    key = rest if side in ("left", "right") else dof
    low, high = _RANGES_RIGHT_DEG[key]
    if side == "left" and key[-1] in "xz":
        low, high = -high, -low
    return math.radians(low), math.radians(high)


def cone_rad(joint: str) -> float:
    """The ball joint's cone limit: the largest excursion of any of its three axes (MuJoCo limits a ball
    joint's total rotation angle only; the per-axis ranges bound the servo targets and the reference)."""
    return max(max(abs(v) for v in range_rad(f"{joint}_{axis}")) for axis in "xyz")
