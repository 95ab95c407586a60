"""The gymnast strength model (sportsim.strength) against its source table and its defining points.

Source: RBDL addons/muscle/Millard2016TorqueMuscle.cc, table GymnastWholeBody (rbdl/rbdl commit d2ca0372),
the Jackson (2010) elite-gymnast data as fitted by Millard et al. (2019) [REFERENCES E1, E2].
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sportsim import strength
from sportsim.strength import curve, peak_torque_nm, torque_velocity_factor

# (joint, direction): (tau_iso N m, omega_max rad/s) as printed in the RBDL table (REFERENCES E2 rounds them).
SOURCE = {
    ("hip", "extension"): (175.746, 9.02335),
    ("hip", "flexion"): (157.293, 9.18043),
    ("shoulder", "extension"): (127.401, 16.249),
    ("shoulder", "flexion"): (91.1388, 19.0764),
    ("wrist", "extension"): (15.5653, 36.5472),
    ("wrist", "flexion"): (39.2252, 36.3901),
    ("knee", "extension"): (285.619, 19.2161),
}


@pytest.mark.parametrize("key", sorted(SOURCE))
def test_table_matches_the_source(key):
    c = curve(*key)
    assert (c.max_isometric_torque_nm, c.max_velocity_radps) == SOURCE[key]
    # isometric peak at the curve's optimal angle is the tabulated torque
    assert c.peak_torque_nm(c.active_angle_rad, 0.0) == pytest.approx(SOURCE[key][0])


@pytest.mark.parametrize("key", sorted(strength.GYMNAST))
def test_velocity_curve_defining_points(key):
    c = strength.GYMNAST[key]
    w = c.max_velocity_radps
    assert c.velocity_factor(0.0) == pytest.approx(1.0)
    assert c.velocity_factor(0.5 * w) == pytest.approx(c.tv_half_concentric)
    assert c.velocity_factor(w) == pytest.approx(0.0, abs=1e-12)
    assert c.velocity_factor(2.0 * w) == 0.0
    # eccentric side: rises towards tv_eccentric (within 10 % of the gap at -omega_max) and is flat beyond
    ecc = c.velocity_factor(-w)
    assert c.tv_eccentric - 0.1 * (c.tv_eccentric - 1) - 1e-9 <= ecc <= c.tv_eccentric
    assert c.velocity_factor(-3 * w) == ecc
    # slope continuous at 0 (Millard's curves are C2; Hill's hyperbola alone is not at the eccentric side)
    h = 1e-6 * w
    left = (c.velocity_factor(0.0) - c.velocity_factor(-h)) / h
    right = (c.velocity_factor(h) - c.velocity_factor(0.0)) / h
    assert left == pytest.approx(right, rel=1e-3)
    # monotone: faster shortening, less torque
    vs = np.linspace(-1.2 * w, 1.2 * w, 241)
    f = [c.velocity_factor(v) for v in vs]
    assert all(b <= a + 1e-12 for a, b in zip(f, f[1:]))


def test_vectorised_factor_matches_the_curves():
    c = curve("hip", "flexion")
    v = np.linspace(-1.5, 1.5, 31)
    got = torque_velocity_factor(v, c.tv_half_concentric, c.tv_eccentric)
    want = [c.velocity_factor(x * c.max_velocity_radps) for x in v]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert isinstance(torque_velocity_factor(0.3), float)
    with pytest.raises(ValueError):
        torque_velocity_factor(0.1, tv_half_concentric=0.6)


def test_torque_at_half_speed_is_a_quarter_or_less_of_isometric():
    """REFERENCES E2: torque at half the maximal velocity ~0.16-0.25 of isometric for hip and shoulder."""
    for joint in ("hip", "shoulder"):
        for direction in ("extension", "flexion"):
            c = curve(joint, direction)
            assert 0.15 <= c.velocity_factor(0.5 * c.max_velocity_radps) <= 0.26


def test_issue_example_hip_at_13_rad_per_s_produces_nothing():
    """Issue 16: the v0 hip delivered +300 N m at 13.5 rad/s; an elite gymnast's hip flexors give 0."""
    assert peak_torque_nm("hip", "flexion", 0.5, 13.5) == 0.0


def test_passive_curve_zero_one_and_growth():
    for c in strength.GYMNAST.values():
        z, o = c.passive_angle_zero_rad, c.passive_angle_one_rad
        if z == o:
            continue
        assert c.passive_torque_nm(z) == 0.0
        assert c.passive_torque_nm(z - 0.1 * (o - z)) == 0.0  # slack on the other side
        assert c.passive_torque_nm(o) == pytest.approx(c.max_isometric_torque_nm)
        # slope at the one-torque angle: 4.6 tau_iso over the span (RBDL default), continuous into the linear part
        h = 1e-6 * (o - z)
        slope_in = (c.passive_torque_nm(o) - c.passive_torque_nm(o - h)) / h
        slope_out = (c.passive_torque_nm(o + h) - c.passive_torque_nm(o)) / h
        assert slope_in == pytest.approx(4.6 * c.max_isometric_torque_nm / (o - z), rel=1e-3)
        assert slope_out == pytest.approx(slope_in, rel=1e-3)


def test_grip_decision_matches_two_wrists():
    """Issue 16's grip moment: +-0.41 N m/kg, i.e. ~30 N m at 73 kg = two wrists x 15.6 N m (within 5 %)."""
    two_wrists = 2 * curve("wrist", "extension").max_isometric_torque_nm
    assert 0.41 * 73.0 == pytest.approx(two_wrists, rel=0.05)


def test_unknown_curve_names_the_choices():
    with pytest.raises(ValueError, match="hip/extension"):
        curve("neck", "flexion")
    assert math.isfinite(strength._PASSIVE_K) and 4.4 < strength._PASSIVE_K < 4.7
