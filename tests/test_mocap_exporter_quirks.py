"""Exporter quirks found by issue 14's sixth held-out round (heldout6, first run 13/22) that sportsim now
reads: end sites named other than "End Site" (Blender rigs' ``End l_toes_End_dup``, ``End Site4``,
``End Site Head_end``), a neck that branches from the spine below the arms' joint (Chest -> Neck beside
Chest -> Chest2 -> collars), and a rig whose legs give a sub-1 m stature in the nearest unit (scaled to
a typical adult like any other odd scale, not refused); and by the seventh (heldout7): joint names in a
Windows code page (trc2bvh's Portuguese 'Pescoço', 'Cabeça' in Latin-1), read as Latin-1 with a note
instead of refused as "not UTF-8" (binary bytes still are). The shipped CMU walk is edited as text.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sportsim.errors import MocapError
from sportsim.mocap import load_clip
from sportsim.mocap.axes import guess_unit
from sportsim.mocap.retarget import PLAUSIBLE_HEIGHT_M
from sportsim.mocap.structure import recognise

WALK = Path(__file__).resolve().parents[1] / "mocap" / "cmu_02_01_walk.bvh"  # shipped with sportsim


@pytest.mark.parametrize("end", ["End Site4", "End l_toes_End_dup", "End Site Head_end", "End Site {", "End\nSite"])
def test_end_sites_named_otherwise_read_like_end_site(end: str, tmp_path: Path) -> None:
    text = WALK.read_text()
    path = tmp_path / "ends.bvh"
    path.write_text(re.sub(r"End Site\s*\n(\s*)\{", lambda m: f"{end}\n{m.group(1)}{{" if not end.endswith("{")
                           else end, text))
    clip, plain = load_clip(path), load_clip(WALK)
    assert clip.skeleton == plain.skeleton and np.array_equal(clip.end_site_offsets_m, plain.end_site_offsets_m)


def test_end_without_a_site_before_its_brace_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.bvh"
    path.write_text(re.sub(r"End Site\s*\n\s*\{", "End {", WALK.read_text(), count=1))
    with pytest.raises(MocapError, match="expected 'Site' after 'End'"):
        load_clip(path)


def test_a_neck_branching_below_the_arms_joint_is_the_neck() -> None:
    """IGR205's capture take: Hips -> Chest -> {Chest2 -> collars -> arms, Neck -> Head}."""
    joints = [("Hips", -1, (0, 0, 0)), ("Chest", 0, (0, 0, 20)), ("Chest2", 1, (0, 0, 20)), ("Neck", 1, (0, 0, 30)),
              ("Head", 3, (0, 0, 8))]
    for side, sign in (("Left", 1), ("Right", -1)):
        base = len(joints)
        joints += [(f"{side}Collar", 2, (sign * 3, 0, 8)), (f"{side}Shoulder", base, (sign * 12, 0, 0)),
                   (f"{side}Elbow", base + 1, (sign * 28, 0, 0)), (f"{side}Wrist", base + 2, (sign * 25, 0, 0))]
        base = len(joints)
        joints += [(f"{side}Hip", 0, (sign * 9, 0, 0)), (f"{side}Knee", base, (0, 0, -42)),
                   (f"{side}Ankle", base + 1, (0, 0, -40))]
    names, parents, offsets = zip(*joints)
    found = recognise(list(names), list(parents), np.array(offsets, dtype=float), [])
    assert not found.problem
    assert {c: names[j] for c, j in found.canonical.items() if c in ("chest", "neck", "head")} == {
        "chest": "Chest2", "neck": "Neck", "head": "Head"}


def test_legs_too_short_for_an_adult_in_every_unit_are_scaled_like_any_odd_scale() -> None:
    """4.84 file units of leg: 0.48 m in decimetres, a 0.98 m stature the retarget refuses; no unit gives
    an adult leg, so the rig is scaled to a typical one and the validation says so."""
    assert guess_unit(4.837) == ("", pytest.approx(0.85 / 4.837))
    low, _ = PLAUSIBLE_HEIGHT_M
    assert low == 1.0 and guess_unit(5.0)[0] == "dm"  # 0.5 m: a 1.0 m stature, still a unit


def test_joint_names_in_latin1_read_with_a_note_binary_bytes_do_not(tmp_path: Path) -> None:
    text = WALK.read_text()
    path = tmp_path / "latin1.bvh"
    path.write_bytes(text.replace("JOINT LThumb", "JOINT PolegarEsquerdo\u00c7").encode("latin-1"))
    clip, plain = load_clip(path), load_clip(WALK)
    assert "PolegarEsquerdo\u00c7" in clip.joint_names and clip.skeleton == plain.skeleton
    assert clip.meta["text_encoding"].startswith("Latin-1: line(s) 125 are not UTF-8")
    assert np.array_equal(clip.world_positions(), plain.world_positions())
    assert "text_encoding" not in plain.meta
    path.write_bytes(text.replace("JOINT LThumb", "JOINT L\u00ff\x01Thumb").encode("latin-1"))
    with pytest.raises(MocapError, match=r"line 125: not UTF-8 text \(byte 0xff\) and not Latin-1 text either"):
        load_clip(path)
