"""Body-segment parameters of de Leva (1996), the Zatsiorsky-Seluyanov tables adjusted to joint
centres [REFERENCES B5, R27].

Reference subjects: male 1.741 m / 73.0 kg, female 1.735 m / 61.9 kg. Lengths scale with stature,
masses with body mass. Each row: segment length (m, reference subject), mass (% body mass), centre of
mass (% of length from the first endpoint), radii of gyration (% of length; sagittal, transverse,
longitudinal as printed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Sex = Literal["male", "female"]

REFERENCE_STATURE_M = {"male": 1.741, "female": 1.735}
REFERENCE_MASS_KG = {"male": 73.0, "female": 61.9}

# segment: (first endpoint - second endpoint, length_m, mass_pct, com_pct, r_sag, r_trans, r_long)
_TABLE: dict[str, dict[str, tuple[float, float, float, float, float, float]]] = {
    "male": {
        "head": (0.2429, 6.94, 50.02, 30.3, 31.5, 26.1),  # VERT-CERV
        "trunk": (0.5319, 43.46, 44.86, 37.2, 34.7, 19.1),  # SUPR-MIDH
        "upper_arm": (0.2817, 2.71, 57.72, 28.5, 26.9, 15.8),  # SJC-EJC
        "forearm": (0.2689, 1.62, 45.74, 27.6, 26.5, 12.1),  # EJC-WJC
        "hand": (0.0862, 0.61, 79.00, 62.8, 51.3, 40.1),  # WJC-MET3
        "thigh": (0.4222, 14.16, 40.95, 32.9, 32.9, 14.9),  # HJC-KJC
        "shank": (0.4340, 4.33, 44.59, 25.5, 24.9, 10.3),  # KJC-LMAL
        "foot": (0.2581, 1.37, 44.15, 25.7, 24.5, 12.4),  # HEEL-TTIP
    },
    "female": {
        "head": (0.2437, 6.68, 48.41, 27.1, 29.5, 26.1),
        "trunk": (0.5293, 42.57, 41.51, 35.7, 33.9, 17.1),
        "upper_arm": (0.2751, 2.55, 57.54, 27.8, 26.0, 14.8),
        "forearm": (0.2643, 1.38, 45.59, 26.1, 25.7, 9.4),
        "hand": (0.0780, 0.56, 74.74, 53.1, 45.4, 33.5),
        "thigh": (0.3685, 14.78, 36.12, 36.9, 36.4, 16.2),
        "shank": (0.4323, 4.81, 44.16, 27.1, 26.7, 9.3),
        "foot": (0.2283, 1.29, 40.14, 29.9, 27.9, 13.9),
    },
}
# lateral malleolus height / stature (Drillis & Contini 1966 via Winter 2009)
ANKLE_HEIGHT_FRACTION = 0.039
# paired segments appear twice in the body
_COUNT = {"head": 1, "trunk": 1, "upper_arm": 2, "forearm": 2, "hand": 2, "thigh": 2, "shank": 2, "foot": 2}


@dataclass(frozen=True)
class Segment:
    """One body segment scaled to a subject (lengths in m, mass in kg)."""

    name: str
    length_m: float
    mass_kg: float
    com_fraction: float  # CoM distance from the first endpoint / length
    gyration_sagittal_m: float  # radius of gyration about the CoM, sagittal column
    gyration_transverse_m: float
    gyration_longitudinal_m: float

    @property
    def inertia_sagittal_kgm2(self) -> float:
        return self.mass_kg * self.gyration_sagittal_m**2


def segments(height_m: float, mass_kg: float, sex: Sex = "male") -> dict[str, Segment]:
    """de Leva segments scaled to ``height_m`` and ``mass_kg`` (one entry per segment type)."""
    if sex not in _TABLE:
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    if not (0.5 < height_m < 2.5) or not (15.0 < mass_kg < 250.0):
        raise ValueError(f"implausible body size: height {height_m} m, mass {mass_kg} kg")
    scale = height_m / REFERENCE_STATURE_M[sex]
    out = {}
    for name, (length, mass_pct, com_pct, r_sag, r_tr, r_lo) in _TABLE[sex].items():
        seg_len = length * scale
        out[name] = Segment(
            name=name,
            length_m=seg_len,
            mass_kg=mass_kg * mass_pct / 100.0,
            com_fraction=com_pct / 100.0,
            gyration_sagittal_m=seg_len * r_sag / 100.0,
            gyration_transverse_m=seg_len * r_tr / 100.0,
            gyration_longitudinal_m=seg_len * r_lo / 100.0,
        )
    return out


def mass_fraction(names: tuple[str, ...], sex: Sex = "male") -> float:
    """Fraction of body mass in the listed segment types, counting both sides of paired ones."""
    return sum(_TABLE[sex][n][1] * _COUNT[n] for n in names) / 100.0


def standing_com_height(height_m: float, sex: Sex = "male") -> float:
    """Height of the whole-body centre of mass above the soles, standing upright with arms hanging.

    Segments are stacked vertically from the lateral malleolus, at 0.039 x stature (Drillis & Contini
    1966, as tabulated in Winter, "Biomechanics and Motor Control of Human Movement", 4th ed. 2009,
    Fig. 4.1): shank, thigh, trunk (hip to suprasternale), head (cervicale to vertex). The arms hang
    from the shoulder joint, taken at suprasternale height; the foot's CoM sits at half the malleolus
    height. For the de Leva reference male this gives 0.57 x stature, inside the 0.55-0.57 usually
    quoted; the 4 cm by which the stacked head ends below the vertex is the cervicale-suprasternale
    offset the table does not give.
    """
    seg = segments(height_m, 70.0, sex)  # mass cancels out
    head, trunk, thigh, shank = seg["head"], seg["trunk"], seg["thigh"], seg["shank"]
    ankle_z = ANKLE_HEIGHT_FRACTION * height_m
    knee_z = ankle_z + shank.length_m
    hip_z = knee_z + thigh.length_m
    supr_z = hip_z + trunk.length_m
    vertex_z = supr_z + head.length_m
    elbow_z = supr_z - seg["upper_arm"].length_m
    wrist_z = elbow_z - seg["forearm"].length_m
    com_z = {
        "foot": ankle_z / 2.0,
        "shank": knee_z - shank.com_fraction * shank.length_m,  # measured from the knee
        "thigh": hip_z - thigh.com_fraction * thigh.length_m,
        "trunk": supr_z - trunk.com_fraction * trunk.length_m,
        "head": vertex_z - head.com_fraction * head.length_m,
        "upper_arm": supr_z - seg["upper_arm"].com_fraction * seg["upper_arm"].length_m,
        "forearm": elbow_z - seg["forearm"].com_fraction * seg["forearm"].length_m,
        "hand": wrist_z - seg["hand"].com_fraction * seg["hand"].length_m,
    }
    total = sum(seg[n].mass_kg * _COUNT[n] for n in com_z)
    return sum(seg[n].mass_kg * _COUNT[n] * com_z[n] for n in com_z) / total
