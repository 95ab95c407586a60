"""Foot strikes, toe-offs, take-offs and landings (sportsim.coach.events) against frames checked by hand
on the shipped CMU walk and the SFU walk, and the event logic on made-up contact flags.

The hand check: the heel and toe corners of each foot's sole on the retargeted humanoid at 30 Hz were
printed frame by frame (height in cm and speed), and read by eye before the detector's thresholds were
set: a foot strike is the first frame the heel has come down to the floor (within about half a
centimetre of where it rests in stance, after being higher), a toe-off the first frame the toe is
clearly off it (a jump of 2-3 cm; a toe still rolling 1 cm above its rest counts as on the floor).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sportsim.coach.events import MIN_PHASE_S, Event, events, foot_contacts, pair_events, summarise
from sportsim.coach.movement import load_movement
from sportsim.paths import resource_dir

MOCAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "mocap"
WALK = resource_dir("mocap") / "cmu_02_01_walk.bvh"
JUMPS = resource_dir("mocap") / "cmu_01_01_forward_jumps.bvh"
SFU_WALK = MOCAP_DIR / "sfu_0005_Walking001.bvh"
TOLERANCE_FRAMES = 2  # the target

# frames at 30 Hz after the calibration frame is dropped (frame 0 = 1/120 s into the file); by hand
HAND_CHECKED = {
    "cmu_02_01_walk": {("foot strike", "right"): [15, 48, 81], ("toe-off", "right"): [7, 40, 73],
                       ("foot strike", "left"): [32, 65], ("toe-off", "left"): [23, 56]},
    "sfu_0005_Walking001": {("foot strike", "right"): [3, 37], ("toe-off", "right"): [27, 62],
                            ("foot strike", "left"): [20, 54], ("toe-off", "left"): [10, 45]},
}


def _detected(path: Path) -> dict[tuple[str, str], list[int]]:
    motion = load_movement("a", path).motion
    assert motion.fps == 30.0
    found: dict[tuple[str, str], list[int]] = {}
    for event in events(foot_contacts(motion), motion.fps):
        found.setdefault((event.kind, event.foot), []).append(event.frame)
    return found


@pytest.mark.parametrize("path", [WALK, pytest.param(SFU_WALK, marks=pytest.mark.skipif(
    not SFU_WALK.is_file(), reason=f"the SFU walk is not at {SFU_WALK} (shared/mocap)"))])
def test_walk_events_agree_with_the_hand_check(path: Path) -> None:
    """Every hand-checked event is found within 2 frames, nothing else is found, and a walk has no flight."""
    expected = HAND_CHECKED[path.stem]
    found = _detected(path)
    assert set(found) == set(expected), found
    for key, frames in expected.items():
        assert len(found[key]) == len(frames), (key, found[key], frames)
        assert np.abs(np.array(found[key]) - frames).max() <= TOLERANCE_FRAMES, (key, found[key], frames)


def test_forward_jumps_have_paired_take_offs_and_landings() -> None:
    """CMU 01_01: two-footed forward jumps. Every take-off is followed by a landing after a flight of
    0.2-0.6 s (a standing broad jump's), and both feet leave the floor within 2 frames of the take-off."""
    motion = load_movement("a", JUMPS).motion
    found = events(foot_contacts(motion), motion.fps)
    take_offs = [e for e in found if e.kind == "take-off"]
    landings = [e for e in found if e.kind == "landing"]
    assert len(take_offs) >= 8 and len(take_offs) == len(landings)
    for up, down in zip(take_offs, landings):
        assert 0.2 <= down.time_s - up.time_s <= 0.6
        for foot in ("right", "left"):
            assert any(e.kind == "toe-off" and e.foot == foot and abs(e.frame - up.frame) <= 2 for e in found)
            assert any(e.kind == "foot strike" and e.foot == foot and abs(e.frame - down.frame) <= 2 for e in found)


def test_events_of_made_up_contact_flags() -> None:
    """Right foot: off at 5, on at 12 (a one-frame flicker at 20 is noise), left off 8-15; both off 8-12:
    a flight. Feet on the floor from frame 0 on give no strike there (it was not seen)."""
    n = 30
    right = np.ones(n, dtype=bool)
    right[5:12] = False
    right[20] = False  # shorter than MIN_PHASE_S
    left = np.ones(n, dtype=bool)
    left[8:15] = False
    found = events(np.stack([right, left], axis=1), fps=30.0)
    assert [(e.kind, e.foot, e.frame) for e in found] == [
        ("toe-off", "right", 5), ("toe-off", "left", 8), ("take-off", "both", 8), ("foot strike", "right", 12),
        ("landing", "both", 12), ("foot strike", "left", 15)]
    assert found[1].time_s == pytest.approx(8 / 30)
    assert MIN_PHASE_S * 30 > 1  # the flicker above is below it


def test_events_of_a_and_b_are_paired_by_kind_foot_and_time() -> None:
    a = [Event("foot strike", "right", 10, 1.0), Event("foot strike", "right", 40, 4.0), Event("toe-off", "left", 5, 0.5)]
    b = [Event("foot strike", "right", 12, 1.1), Event("foot strike", "right", 90, 9.0), Event("toe-off", "right", 5, 0.5)]
    pairs = pair_events(a, b)
    matched = [p for p in pairs if p.a is not None and p.b is not None]
    assert len(matched) == 1 and matched[0].offset_s == pytest.approx(0.1)
    assert len(pairs) == 5  # one pair, A's lone strike and toe-off, B's lone strike and toe-off
    rows = {(r.kind, r.foot): r for r in summarise(pairs)}
    strike = rows[("foot strike", "right")]
    assert (strike.n_a, strike.n_b, strike.n_pairs) == (2, 2, 1)
    assert strike.mean_offset_s == pytest.approx(0.1) and strike.max_abs_offset_s == pytest.approx(0.1)
    assert rows[("toe-off", "left")].n_pairs == 0 and np.isnan(rows[("toe-off", "left")].mean_offset_s)
