"""Physical parameters of the half-pipe env: pipe geometry, surface/board, rider - with sources.

Tags [Rn] and section numbers refer to ../shared/REFERENCES.md (copied into the docs of this project);
"assumption" marks a number no source gave, chosen as stated and exposed as a constructor argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sportsim.anthropometry import ANKLE_HEIGHT_FRACTION, Sex, mass_fraction, segments, standing_com_height
from sportsim.errors import ConfigError

GRAVITY_MPS2 = 9.81
AIR_DENSITY_KGPM3 = 1.2  # sea level, standard [REFERENCES A2]
DEEPMIMIC_KNEE_TORQUE_NM = 150.0  # humanoid3d knee torque limit [R28, REFERENCES C1]
DEEPMIMIC_MASS_KG = 45.0  # humanoid3d total mass (derived in REFERENCES C1)


@dataclass(frozen=True)
class PipeGeometry:
    """Cross-section of a half-pipe: flat bottom, two circular transitions, optional vertical walls.

    ``height_m`` is the coping height above the flat bottom. If it exceeds the transition radius the
    transition reaches vertical and the rest (``height_m - transition_radius_m``) is vertical wall
    ("vert"); otherwise the transition is cut at the lip angle acos(1 - height/radius) (mini ramps).
    """

    flat_width_m: float
    transition_radius_m: float
    height_m: float

    def __post_init__(self) -> None:
        if not (self.flat_width_m >= 0.0 and self.transition_radius_m > 0.5 and self.height_m > 0.2):
            raise ConfigError(
                f"invalid pipe: flat_width_m={self.flat_width_m} (>= 0), transition_radius_m="
                f"{self.transition_radius_m} (> 0.5), height_m={self.height_m} (> 0.2)"
            )
        if self.height_m > 3.0 * self.transition_radius_m:
            raise ConfigError(f"pipe height {self.height_m} m is more than 3x its transition radius")

    @property
    def vert_m(self) -> float:
        """Height of the vertical wall section above the transition (0 for sub-vertical lips)."""
        return max(0.0, self.height_m - self.transition_radius_m)

    @property
    def lip_angle_rad(self) -> float:
        """Angle of the surface at the coping (pi/2 = vertical)."""
        if self.height_m >= self.transition_radius_m:
            return math.pi / 2
        return math.acos(1.0 - self.height_m / self.transition_radius_m)

    @property
    def half_span_m(self) -> float:
        """Horizontal distance from the pipe centre to the coping."""
        return self.flat_width_m / 2 + self.transition_radius_m * math.sin(self.lip_angle_rad)


# Pipe presets ---------------------------------------------------------------------------------
PIPES: dict[str, PipeGeometry] = {
    # Mini ramp: 4 ft high, 6 ft 10 in radius [R11]; 8 ft of flat bottom (a backyard mini ramp,
    # collusioni.st/blog/2005/03/28/micro-halfpipe-details; skate flat-bottom width is NOT FOUND in
    # REFERENCES A1 - secondary source).
    "mini": PipeGeometry(flat_width_m=2.44, transition_radius_m=2.08, height_m=1.22),
    # Vert ramp: 11 ft (3.35 m) high with 1 ft (0.30 m) of vert [R8, R12] => radius 3.05 m (derived
    # R = H - vert). Flat bottom: no source found (assumption: 3.0 m, the order of the mini's 2.44 m).
    "vert": PipeGeometry(flat_width_m=3.0, transition_radius_m=3.05, height_m=3.35),
    # Snow superpipe, 22 ft: 6.5 m floor-to-crown, 0.2 m vertical section, 19.5 m crown to crown
    # [R2]; radius 6.3 m and flat 19.5 - 2*6.3 = 6.9 m (derived). The 17-18.5 deg slope along the pipe
    # is not modelled: the env is the cross-section only.
    "superpipe": PipeGeometry(flat_width_m=6.9, transition_radius_m=6.3, height_m=6.5),
}


@dataclass(frozen=True)
class Surface:
    """Board on surface: resistance and the board's own numbers."""

    name: str
    rolling_resistance: float  # Coulomb coefficient: resistive force = coef * normal load
    drag_area_m2: float  # C_D * A of rider + board
    board_mass_kg: float
    deck_height_m: float  # surface to the soles of the rider's feet


SURFACES: dict[str, Surface] = {
    # Urethane wheels on concrete/wood: rolling resistance NOT FOUND [R17] ("treat Crr as a tuned
    # parameter"; no coast-down data found either); assumption 0.005, of the order of hard wheels and
    # tyres on smooth surfaces. Drag area of skaters NOT FOUND; alpine skiers 0.23 (tuck) to 0.66 m^2
    # (high stance) [R16] - a pumping rider is taken mid-range, 0.45 m^2 (assumption). Complete
    # skateboard 3.5 kg and ~0.11 m wheel-to-deck-top (typical catalogue numbers, assumption).
    "skateboard": Surface("skateboard", rolling_resistance=0.005, drag_area_m2=0.45,
                          board_mass_kg=3.5, deck_height_m=0.11),
    # Snowboard on prepared pipe snow: kinetic friction 0.026-0.143 [R14]; minimum near -3 C [R15];
    # taken at 0.05 (assumption within [R14]). Board + bindings + boots' extra 4.5 kg (assumption);
    # binding stack ~3 cm.
    "snowboard": Surface("snowboard", rolling_resistance=0.05, drag_area_m2=0.45,
                         board_mass_kg=4.5, deck_height_m=0.03),
}


@dataclass(frozen=True)
class Rider:
    """Crouch/extend capabilities of the rider, lumped at the whole-body centre of mass."""

    mass_kg: float
    height_m: float
    sex: Sex
    stroke_m: float  # CoM travel, deepest pumping crouch -> standing
    max_push_n: float  # leg extension force limit
    max_pull_n: float  # force pulling the board towards the body (0: the feet only push)
    max_speed_mps: float  # leg extension/flexion speed limit

    def standing_com_m(self) -> float:
        """CoM height above the soles when standing on the board (de Leva stack)."""
        return standing_com_height(self.height_m, self.sex)


def make_rider(
    mass_kg: float = 73.0,
    height_m: float = 1.741,
    sex: Sex = "male",
    stroke_m: float | None = None,
    max_push_bw: float | None = None,
    max_speed_mps: float = 2.0,
) -> Rider:
    """Rider scaled from de Leva's reference subject (1.741 m, 73.0 kg male [R27]).

    * Stroke: the CoM stroke crouch->stand is NOT FOUND [REFERENCES A3]; thighs horizontal lower the
      hip by about one thigh length (0.42 m for the reference male, the stated upper bound). Default:
      70 % of the thigh length, 0.30 m (assumption: real pumping strokes are "smaller").
    * Push force: leg force limits NOT FOUND [A3]. DeepMimic's 150 N m knee torque limit belongs to a
      45 kg character [R28, C1]; scaled with body mass (x 73/45) and applied at a moment arm of half a
      shank length (knee bent ~60 deg) it gives 2 x 243 / (0.5 x 0.434) = 2240 N, 3.1 body weights
      for the reference male - the default (``max_push_bw`` overrides). Countermovement-jump peak
      forces of 2-2.5 body weights are often quoted (uncertain) - the same order.
    * Pull force: 0 - the legs push on the board but cannot lift it: a skateboard has no bindings,
      and lifting a board towards the body (an ollie) is not modelled. Crouching is letting the
      load (gravity plus centripetal) fold the legs, at most at the speed limit.
    * Speed: 2.0 m/s (assumption; counter-movement jump take-off speeds of 2.5-3 m/s are an upper bound).
    """
    seg = segments(height_m, mass_kg, sex)
    if stroke_m is None:
        stroke_m = 0.7 * seg["thigh"].length_m
    knee_torque_nm = DEEPMIMIC_KNEE_TORQUE_NM * mass_kg / DEEPMIMIC_MASS_KG
    push = (2 * knee_torque_nm / (0.5 * seg["shank"].length_m)) if max_push_bw is None else max_push_bw * mass_kg * GRAVITY_MPS2
    rider = Rider(mass_kg=mass_kg, height_m=height_m, sex=sex, stroke_m=stroke_m,
                  max_push_n=push, max_pull_n=0.0, max_speed_mps=max_speed_mps)
    if not (0.05 <= stroke_m <= seg["thigh"].length_m):
        raise ConfigError(f"rider stroke_m={stroke_m} must lie in [0.05, thigh length {seg['thigh'].length_m:.2f}] m")
    if push <= 0.5 * mass_kg * GRAVITY_MPS2:
        raise ConfigError(f"rider leg force {push:.0f} N cannot even hold half the body weight")
    if not (0.1 <= max_speed_mps <= 5.0):
        raise ConfigError(f"rider max_speed_mps={max_speed_mps} outside [0.1, 5] m/s")
    return rider


def arms_fraction(sex: Sex = "male") -> float:
    """Mass fraction of both arms (used by renderers to size the body)."""
    return mass_fraction(("upper_arm", "forearm", "hand"), sex)


def resolve_pipe(pipe: str | PipeGeometry, **overrides: float | None) -> PipeGeometry:
    """A preset by name (or a geometry), with any non-None field overridden."""
    if isinstance(pipe, PipeGeometry):
        base = pipe
    elif pipe in PIPES:
        base = PIPES[pipe]
    else:
        raise ConfigError(f"unknown pipe {pipe!r} (choose from: {', '.join(PIPES)})")
    changes = {k: v for k, v in overrides.items() if v is not None}
    return replace(base, **changes) if changes else base


def resolve_surface(surface: str) -> Surface:
    if surface not in SURFACES:
        raise ConfigError(f"unknown surface {surface!r} (choose from: {', '.join(SURFACES)})")
    return SURFACES[surface]


# == HalfPipe-v1 (issue 16) ==========================================================================

# -- leg force-velocity (power) limit ------------------------------------------------------------
# Multi-joint leg extension has an approximately linear force-velocity relation, F = F0 (1 - v / v0)
# (Jaric 2015, "Force-velocity relationship of muscles performing multi-joint maximum performance tasks",
# Int J Sports Med 36:699; loaded squat and countermovement jumps of 30 men: linear fits, r 0.77-0.92,
# PMC4986698 [cited, abstract]). F0 is the leg force limit above (3.1 BW for the reference male); v0, the
# unloaded extension velocity, is taken as 4.0 m/s (assumption: the order of squat-jump profiles, e.g. the
# Samozino-method example of vjsim, 3000 N and 4 m/s for 75 kg [secondary]). Maximal power F0 v0 / 4 =
# 30 W/kg for the reference male, below countermovement-jump peaks (~45-55 W/kg, which add the stretch-
# shortening cycle a pumping stroke barely has).
LEG_MAX_VELOCITY_MPS = 4.0
# The leg servo: v0 sagged 2.5 cm under 2 body weights, critically damped; its damping took energy out of
# a rider holding the legs still (0.21 m of energy height over 30 s, issue 16) because the centripetal
# load on the transitions squeezes the legs in and out. v1 sags 2.5 mm (10x stiffer), which shrinks that
# motion tenfold; the remaining loss is measured in tests/test_halfpipe_v1.py.
SERVO_SAG_M = 0.0025


def body_pitch_inertia_kgm2(height_m: float, mass_kg: float, sex: Sex, crouch_m: float) -> float:
    """Whole-body moment of inertia about the centre of mass, for rotation in the sagittal plane (kg m^2),
    standing on a board (``crouch_m`` = 0) or crouched so that the CoM is ``crouch_m`` lower.

    de Leva segments (:func:`sportsim.anthropometry.segments`, transverse radii of gyration: the
    medio-lateral axis, the lead's reading in issue 15) in a planar squat: shanks tilted forward and thighs
    back by the same angle phi, the trunk (and head) leaning forward by phi / 2, arms hanging from the
    shoulder; phi is solved so that the CoM drops by ``crouch_m`` (posture: assumption). Feet flat, their
    CoM at half the ankle height.
    """
    seg = segments(height_m, mass_kg, sex)
    count = {"head": 1, "trunk": 1, "upper_arm": 2, "forearm": 2, "hand": 2, "thigh": 2, "shank": 2, "foot": 2}

    def parts(phi: float) -> list[tuple[float, float, float, float]]:
        """(mass, x, z, own inertia) of every segment kind, both sides lumped."""
        s, c = math.sin(phi), math.cos(phi)
        sh, ch = math.sin(phi / 2), math.cos(phi / 2)
        ankle = (0.0, ANKLE_HEIGHT_FRACTION * height_m)
        knee = (ankle[0] + seg["shank"].length_m * s, ankle[1] + seg["shank"].length_m * c)
        hip = (knee[0] - seg["thigh"].length_m * s, knee[1] + seg["thigh"].length_m * c)
        supr = (hip[0] + seg["trunk"].length_m * sh, hip[1] + seg["trunk"].length_m * ch)
        out = []

        def add(name: str, start: tuple[float, float], end: tuple[float, float], frac: float) -> None:
            sg, n = seg[name], count[name]
            x, z = start[0] + frac * (end[0] - start[0]), start[1] + frac * (end[1] - start[1])
            out.append((n * sg.mass_kg, x, z, n * sg.mass_kg * sg.gyration_transverse_m**2))

        add("foot", ankle, (ankle[0], 0.0), 0.5)
        add("shank", knee, ankle, seg["shank"].com_fraction)  # de Leva: KJC -> LMAL
        add("thigh", hip, knee, seg["thigh"].com_fraction)
        add("trunk", supr, hip, seg["trunk"].com_fraction)  # SUPR -> MIDH
        vertex = (supr[0] + seg["head"].length_m * sh, supr[1] + seg["head"].length_m * ch)
        add("head", vertex, supr, seg["head"].com_fraction)  # VERT -> CERV
        elbow = (supr[0], supr[1] - seg["upper_arm"].length_m)
        wrist = (elbow[0], elbow[1] - seg["forearm"].length_m)
        add("upper_arm", supr, elbow, seg["upper_arm"].com_fraction)
        add("forearm", elbow, wrist, seg["forearm"].com_fraction)
        add("hand", wrist, (wrist[0], wrist[1] - seg["hand"].length_m), seg["hand"].com_fraction)
        return out

    def com(phi: float) -> tuple[float, float, float]:
        p = parts(phi)
        m = sum(q[0] for q in p)
        return m, sum(q[0] * q[1] for q in p) / m, sum(q[0] * q[2] for q in p) / m

    _, _, z_stand = com(0.0)
    lo, hi = 0.0, math.radians(80.0)
    if crouch_m > 0.0:
        if z_stand - com(hi)[2] < crouch_m:
            raise ConfigError(f"a crouch of {crouch_m} m is deeper than the squat posture allows")
        for _ in range(60):  # bisection on the squat angle
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if z_stand - com(mid)[2] < crouch_m else (lo, mid)
    phi = 0.5 * (lo + hi) if crouch_m > 0.0 else 0.0
    _, cx, cz = com(phi)
    return sum(m * ((x - cx) ** 2 + (z - cz) ** 2) + i for m, x, z, i in parts(phi))
