"""Capture import without a mapping (issue 14): name normalisation, skeletons recognised by structure,
up axis and units from the data, lying clips, MVNX version 3, the ``map`` command, ``--mapping`` and
``key=value`` options. Real files from shared/mocap (skipped, saying so, where absent)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from sportsim.errors import ConfigError, MocapError
from sportsim.mocap import load_clip, load_mapping, read_bvh, read_mvnx
from sportsim.mocap.__main__ import main
from sportsim.mocap.retarget import retarget
from sportsim.mocap.skeletons import builtin_skeletons, clip_canonical_indices
from sportsim.mocap.structure import normalise
from sportsim.mocap.validate import validate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "mocap"
CMU_WALK = SHARED / "cmu_02_01_walk.bvh"
XSENS_MVNX = SHARED / "xsens_upperbody_test_mocap.mvnx"
needs_cmu = pytest.mark.skipif(not CMU_WALK.is_file(), reason=f"{CMU_WALK} not found")
needs_mvnx = pytest.mark.skipif(not XSENS_MVNX.is_file(), reason=f"{XSENS_MVNX} not found")


@pytest.mark.parametrize(("name", "side", "base", "kind"), [
    ("mixamorig:LeftUpLeg", "l", "upleg", "body"), ("mixamorig7:RightHand", "r", "hand", "body"),
    ("Beta:Hips", None, "hips", "body"), ("thigh.L", "l", "thigh", "body"), ("Bip01 L Thigh", "l", "thigh", "body"),
    ("Bip01_R_Calf", "r", "calf", "body"), ("lShldr", "l", "shldr", "body"), ("rForeArm", "r", "forearm", "body"),
    ("lfemur", "l", "femur", "body"), ("UpLeg_L", "l", "upleg", "body"), ("L_Hip", "l", "hip", "body"),
    ("left_knee", "l", "knee", "body"), ("LHipJoint", "l", "hipjoint", "body"),
    ("LowerBack", None, "lowerback", "body"), ("lowerback", None, "lowerback", "body"),
    ("LeftHandIndex1", "l", "handindex1", "finger"), ("LeftEye", "l", "eye", "face"),
    ("HeadTop_End", None, "headtopend", "end"), ("LeftArmTwist", "l", "armtwist", "twist"),
    ("__Clavicle_L", "l", "clavicle", "twist"), ("RightInHandRing", "r", "inhandring", "finger"),
])
def test_names_normalise(name: str, side: str | None, base: str, kind: str) -> None:
    joint = normalise(name)
    assert (joint.side, joint.base, joint.kind) == (side, base, kind)


# ---- structure: the CMU walk under other exporters' names -------------------------------------------
CMU_NAMES = {layout.name: layout for layout in builtin_skeletons()}["cmu"]
RENAMES = {
    "blender": {"Hips": "hips", "LHipJoint": "pelvis.L", "LeftUpLeg": "thigh.L", "LeftLeg": "shin.L",
                "LeftFoot": "foot.L", "LeftToeBase": "toe.L",
                "LowerBack": "spine", "Spine": "spine.001", "Spine1": "chest",
                "Neck": "neck", "Neck1": "neck.001", "Head": "head", "LeftShoulder": "shoulder.L",
                "LeftArm": "upper_arm.L", "LeftForeArm": "forearm.L", "LeftHand": "hand.L",
                "LeftFingerBase": "palm.L", "LeftHandIndex1": "f_index.01.L", "LThumb": "thumb.01.L"},
    "smpl": {"Hips": "Pelvis", "LHipJoint": "L_Buttock", "LeftUpLeg": "L_Hip", "LeftLeg": "L_Knee",
             "LeftFoot": "L_Ankle", "LeftToeBase": "L_Foot", "LowerBack": "Spine1",
             "Spine": "Spine2", "Spine1": "Spine3", "Neck": "Neck",
             "Neck1": "Neck_Twist", "Head": "Head", "LeftShoulder": "L_Collar", "LeftArm": "L_Shoulder",
             "LeftForeArm": "L_Elbow", "LeftHand": "L_Wrist", "LeftFingerBase": "L_Hand",
             "LeftHandIndex1": "L_Index1", "LThumb": "L_Thumb1"},
    "namespaced": {},  # every name gets a "Beta:" namespace below
}


def _renamed(scheme: str, name: str) -> str:
    if scheme == "namespaced":
        return f"Beta:{name}"
    table = RENAMES[scheme]
    if name in table:
        return table[name]
    mirrored = name.replace("Left", "Right", 1).replace("LHip", "RHip").replace("LThumb", "RThumb")
    if mirrored != name:
        raise AssertionError(name)
    left = next((k for k in table if k.replace("Left", "Right", 1).replace("LHip", "RHip").replace("LThumb", "RThumb")
                 == name), None)
    assert left is not None, name
    return table[left].replace(".L", ".R").replace("L_", "R_")


@needs_cmu
@pytest.mark.parametrize("scheme", sorted(RENAMES))
def test_structure_finds_the_cmu_joints_under_other_names_and_retargets_identically(scheme: str,
                                                                                     tmp_path: Path) -> None:
    text = re.sub(r"(ROOT|JOINT) (\S+)\n", lambda m: f"{m[1]} {_renamed(scheme, m[2])}\n", CMU_WALK.read_text())
    path = tmp_path / f"{scheme}.bvh"
    path.write_text(text)
    renamed, original = load_clip(path), load_clip(CMU_WALK)
    assert renamed.skeleton.startswith("generic humanoid") and renamed.meta["skeleton_layout"] == "structural"
    assert renamed.meta["unit"].startswith("cmu") and renamed.meta["up_axis"].startswith("+Y")
    found = clip_canonical_indices(renamed)
    for canonical, name in CMU_NAMES.canonical.items():
        if canonical == "spine":
            continue  # the middle of the lower back is a choice, not a fact
        assert renamed.joint_names[found[canonical]] == _renamed(scheme, name), canonical
    a, b = retarget(renamed.frames(0, 60)), retarget(original.frames(0, 60))
    np.testing.assert_allclose(a.qpos, b.qpos, atol=1e-9)


# ---- up axis -----------------------------------------------------------------------------------------
def _wrapped(text: str, order: str, angles: str) -> str:
    """The BVH turned as a whole: a new static root above the old one, rotated by ``angles`` (deg)."""
    head, motion = text.split("MOTION", 1)
    body = head.split("\n", 1)[1]
    wrapped = (f"HIERARCHY\nROOT Scene\n{{\nOFFSET 0 0 0\nCHANNELS 3 {order}\n" + body.replace("ROOT ", "JOINT ", 1)
               + "}\n")
    lines = motion.strip("\n").split("\n")
    rows = [f"{angles} {row}" for row in lines[2:] if row.strip()]
    return wrapped + "MOTION\n" + "\n".join(lines[:2] + rows) + "\n"


@needs_cmu
@pytest.mark.parametrize(("turn", "expected"), [("90 0 0", "+Z"), ("0 0 -90", "+X"), ("180 0 0", "-Y")])
def test_up_axis_is_detected_and_the_body_stands(turn: str, expected: str, tmp_path: Path) -> None:
    original = load_clip(CMU_WALK)
    path = tmp_path / "turned.bvh"
    path.write_text(_wrapped(CMU_WALK.read_text(), "Xrotation Yrotation Zrotation", turn))
    clip = load_clip(path)
    assert clip.meta["up_axis"].startswith(expected) and clip.meta["folded_root"] == "Scene"
    height = clip.world_positions()[..., 2]
    np.testing.assert_allclose(np.sort(height[0]), np.sort(original.world_positions()[0, :, 2]), atol=1e-6)
    if expected == "+Z":  # the same rotation sportsim applies to a Y-up file: the very same clip
        np.testing.assert_allclose(clip.world_positions(), original.world_positions(), atol=1e-6)


@needs_cmu
def test_a_clip_lying_down_is_an_error_unless_allowed() -> None:
    lying = read_bvh(CMU_WALK, up="+Z")  # a Y-up file read as Z-up: the walker lies on the floor
    assert lying.meta["up_axis"] == "+Z (given)"
    clip = lying.frames(0, 150)
    motion = retarget(clip)
    row = {r.check: r for r in validate(clip, motion=motion).rows}["upright start"]
    assert row.status == "error" and "lying down" in row.value
    assert {r.check: r for r in validate(clip, motion=motion, allow_lying=True).rows}["upright start"].status == "ok"
    upright = load_clip(CMU_WALK).frames(0, 150)
    assert {r.check: r for r in validate(upright).rows}["upright start"].status == "ok"


def test_units_come_from_the_leg_length(tmp_path: Path) -> None:
    from sportsim.mocap.axes import guess_unit

    legs = (0.85, 8.2, 85.0, 850.0, 33.0, 15.0)
    assert [guess_unit(leg)[0] for leg in legs] == ["m", "dm", "cm", "mm", "inch", "cmu"]
    assert guess_unit(164.5) == ("", pytest.approx(0.85 / 164.5))  # no unit gives a human leg: scaled to typical


# ---- MVNX version 3 as Xsens writes it ------------------------------------------------------------------
def _as_version_3(text: str) -> str:
    """The v4 file rewritten the way MVN Studio 3 writes it: <pos_s> points, no foot contacts, sensor
    blocks in the header and in every frame, 240 Hz."""
    text = text.replace(' version="4">', ' version="3">', 1).replace("pos_b>", "pos_s>")
    text = re.sub(r"<footContactDefinition>.*?</footContactDefinition>", "", text, flags=re.S)
    text = re.sub(r"<footContacts>.*?</footContacts>", "", text, flags=re.S)
    text = re.sub(r'frameRate="[0-9.]+"', 'frameRate="240"', text, count=1)
    text = text.replace("<segments>", '<sensors><sensor label="Pelvis"/><sensor label="T8"/></sensors><segments>', 1)
    return re.sub(r"(<frame [^>]*type=\"normal\"[^>]*>)", r"\1<sensorOrientation>1 0 0 0 1 0 0 0</sensorOrientation>",
                  text)


@needs_mvnx
def test_mvnx_version_3_reads_like_version_4(tmp_path: Path) -> None:
    v4 = read_mvnx(XSENS_MVNX)
    path = tmp_path / "v3.mvnx"
    path.write_text(_as_version_3(XSENS_MVNX.read_text()))
    assert "<pos_b>" not in path.read_text() and "<footContacts>" not in path.read_text()
    v3 = read_mvnx(path)
    assert v3.meta["mvnx_version"] == "3" and v3.fps == 240 and v3.contacts is None
    assert v3.joint_names == v4.joint_names
    np.testing.assert_allclose(v3.offsets_m, v4.offsets_m)
    np.testing.assert_allclose(v3.rotations, v4.rotations)
    assert retarget(v3).n_frames == v4.n_frames


def chain_mvnx(path: Path, n_segments: int) -> Path:
    """An MVNX file whose segments form one chain, 1 cm apart, with one normal frame."""
    segments = "".join(f'<segment label="s{i}"><points><point label="p"><pos_b>0 0 0</pos_b></point>'
                       f'<point label="q"><pos_b>0 0 0.01</pos_b></point></points></segment>'
                       for i in range(n_segments))
    joints = "".join(f'<joint label="j{i}"><connector1>s{i - 1}/q</connector1><connector2>s{i}/p</connector2></joint>'
                     for i in range(1, n_segments))
    frame = (f'<frame time="0" index="0" type="normal"><orientation>{" 1 0 0 0" * n_segments}</orientation>'
             f'<position>{"".join(f" 0 0 {0.01 * i:.2f}" for i in range(n_segments))}</position></frame>')
    path.write_text(f'<?xml version="1.0"?>\n<mvnx version="4"><subject label="s" frameRate="60"><segments>{segments}'
                    f"</segments><joints>{joints}</joints><frames>{frame}</frames></subject></mvnx>\n")
    return path


def test_mvnx_hierarchy_of_thousands_of_segments(tmp_path: Path) -> None:
    """A long chain builds (the hierarchy is linear in the segments; 20,000 in scripts/bench_mocap.py)."""
    clip = read_mvnx(chain_mvnx(tmp_path / "chain.mvnx", 2000))
    assert clip.n_joints == 2000 and list(clip.parents[:4]) == [-1, 0, 1, 2]


# ---- the map command, --mapping and key=value ------------------------------------------------------------
TINY = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT torso
  {
    OFFSET 0 0.5 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 0.5 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 1 0 0 0 0 0 0 0
0 1 0 0 0 0 0 0 0
"""


def _chain_bvh(n_joints: int) -> str:
    """A chain of ``n_joints`` joints named j0, j1, ... (no sides, no body words): no humanoid to find."""
    lines = ["HIERARCHY", "ROOT j0", "{", "OFFSET 0 0 0", "CHANNELS 6 Xposition Yposition Zposition Zrotation "
             "Xrotation Yrotation"]
    for j in range(1, n_joints):
        lines += [f"JOINT j{j}", "{", "OFFSET 0 0.1 0", "CHANNELS 3 Zrotation Xrotation Yrotation"]
    lines += ["End Site", "{", "OFFSET 0 0.1 0", "}"] + ["}"] * n_joints
    row = " ".join(["0", "1", "0"] + ["0"] * (3 * n_joints))
    return "\n".join(lines + ["MOTION", "Frames: 2", "Frame Time: 0.0333333", row, row, ""])


def test_unknown_skeleton_cli_prints_pasteable_yaml_and_names_the_map_command(tmp_path: Path, capsys) -> None:
    path = tmp_path / "rig.bvh"
    path.write_text(_chain_bvh(20))
    assert main(["convert", str(path), str(tmp_path / "out.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sportsim: {path}: unknown skeleton") and f"python -m sportsim.mocap map {path}" in err
    template = yaml.safe_load(err.split("The template:\n", 1)[1])
    assert template["joints"] == [f"j{j}" for j in range(20)] and template["map"]["pelvis"] == "<joint name>"
    assert not (tmp_path / "out.npz").exists()


def test_a_partial_body_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "trackers.bvh"
    path.write_text(TINY)
    with pytest.raises(MocapError) as info:
        retarget(load_clip(path))
    assert "not a humanoid: 2 joints" in str(info.value) and "\n" not in str(info.value)


@needs_cmu
def test_map_command_writes_a_template_that_loads_and_converts(tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmu.yaml"
    assert main(["map", str(CMU_WALK), str(out)]) == 0
    text = out.read_text()
    assert "bvh_unit: cmu" in text and "# required" in text
    mapping = load_mapping(out)
    assert mapping.canonical["l_knee"] == "LeftLeg"
    with pytest.raises(ConfigError, match="file exists; pass --overwrite"):
        main(["map", str(CMU_WALK), str(out)])  # never replaced unless asked
    assert out.read_text() == text
    capsys.readouterr()
    motion = tmp_path / "walk.npz"
    assert main(["convert", str(CMU_WALK), str(motion), f"mapping={out}", "end_frame=120", "overwrite=true"]) == 0
    assert motion.is_file() and "wrote" in capsys.readouterr().out
    assert main(["info", str(CMU_WALK), f"--mapping={out}", "allow_lying=true"]) == 0
    assert "up axis" in capsys.readouterr().out


def test_map_command_leaves_out_a_guessed_unit_and_prints_to_stdout(tmp_path: Path, capsys) -> None:
    path = tmp_path / "rig.bvh"
    path.write_text(TINY)
    assert main(["map", str(path)]) == 0
    template = yaml.safe_load(capsys.readouterr().out)
    assert "bvh_unit" not in template and template["joints"] == ["root", "torso"]


def test_load_clip_applies_a_user_mapping_to_any_format(tmp_path: Path) -> None:
    path = tmp_path / "rig.bvh"
    path.write_text(TINY)
    mapping = tmp_path / "rig.yaml"
    mapping.write_text("name: rig\njoints: [root, torso]\nmap: {pelvis: root, chest: torso}\n")
    clip = load_clip(path, mapping=mapping)
    assert clip.skeleton == "rig" and clip_canonical_indices(clip) == {"pelvis": 0, "chest": 1}
    again = load_clip(clip.save_npz(tmp_path / "rig.npz"))  # the map travels with the clip
    assert clip_canonical_indices(again) == {"pelvis": 0, "chest": 1}
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: wrong\njoints: [pelvis_bone]\nmap: {pelvis: pelvis_bone}\n")
    with pytest.raises(MocapError, match="places pelvis on 'pelvis_bone', joints this file does not have"):
        load_clip(path, mapping=wrong)


@needs_mvnx
@pytest.mark.parametrize("rate", ["1e300", "1e-300"])
def test_an_absurd_frame_rate_is_one_line_not_a_blow_up(rate: str, tmp_path: Path) -> None:
    path = tmp_path / "rate.mvnx"
    path.write_text(re.sub(r'frameRate="[0-9.]+"', f'frameRate="{rate}"', XSENS_MVNX.read_text(), count=1))
    with pytest.raises(MocapError, match=r"Hz is not a capture rate"):
        read_mvnx(path)


@needs_cmu
def test_joint_limit_excess_below_what_the_table_shows_is_no_violation() -> None:
    import dataclasses
    import math

    from sportsim.mocap.validate import _joint_limits

    motion = retarget(load_clip(CMU_WALK).frames(0, 30))
    model = motion.build_model()
    knee = model.joint("right_knee")
    adr, high = int(knee.qposadr[0]), float(knee.range[1])
    for excess_deg, status, text in ((0.05, "ok", "0 violations"), (1.0, "warning", "by 1.0 deg")):
        qpos = motion.qpos.copy()
        qpos[:, adr] = high + math.radians(excess_deg)
        row = _joint_limits(dataclasses.replace(motion, qpos=qpos))
        assert row.status == status and text in row.value and "by 0.0 deg" not in row.value


@needs_cmu
def test_cli_allow_lying(tmp_path: Path, capsys) -> None:
    out = tmp_path / "lying.npz"
    with pytest.raises(MocapError, match="upright start"):
        main(["convert", str(CMU_WALK), str(out), "up=+Z", "end_frame=150"])
    assert not out.exists()
    assert main(["convert", str(CMU_WALK), str(out), "--up", "+Z", "--end-frame", "150", "--allow-lying",
                 "--force"]) == 0
    assert out.is_file()


def test_the_ankle_is_the_foot_beside_a_longer_heel_helper() -> None:
    """Kosmic_Draft's Blender rig in miniature: under each shank a foot (to the toe tip) and, beside it, a
    heel helper whose branch is longer. The ankle is the joint named foot, not the end of the longest
    branch (which picked the heel and turned the ankles ~150 deg)."""
    from sportsim.mocap.structure import recognise

    joints = [("Hip", -1, (0, 0, 0)), ("Spine", 0, (0, 0, 10)), ("Chest", 1, (0, 0, 10)), ("Neck", 2, (0, 0, 10)),
              ("Head", 3, (0, 0, 5))]
    for side, sign in (("L", 1), ("R", -1)):
        base = len(joints)
        joints += [(f"Shoulder.{side}", 2, (sign * 3, 0, 8)), (f"Upperarm.{side}", base, (sign * 5, 0, 0)),
                   (f"Forearm.{side}", base + 1, (sign * 12, 0, 0)), (f"Hand.{side}", base + 2, (sign * 11, 0, 0))]
        base = len(joints)
        joints += [(f"Upperleg.{side}", 0, (sign * 4, 0, -3)), (f"Foreleg.{side}", base, (0, 0, -20)),
                   (f"Foot.{side} 1", base + 1, (0, 0, -19)), (f"Heel.{side}", base + 1, (0, -1, -20))]
    names, parents, offsets = zip(*joints)
    ends = [(names.index(f"Foot.{s} 1"), np.array([0.0, 6.0, -1.0])) for s in "LR"]
    ends += [(names.index(f"Heel.{s}"), np.array([0.0, -1.0, -8.0])) for s in "LR"]  # the longer branch
    found = recognise(list(names), list(parents), np.array(offsets, dtype=float), ends)
    assert not found.problem
    assert {c: names[j] for c, j in found.canonical.items() if c.endswith(("ankle", "knee", "hip"))} == {
        "l_hip": "Upperleg.L", "l_knee": "Foreleg.L", "l_ankle": "Foot.L 1",
        "r_hip": "Upperleg.R", "r_knee": "Foreleg.R", "r_ankle": "Foot.R 1"}


WALK_BUILTIN = Path(__file__).resolve().parents[1] / "mocap" / "cmu_02_01_walk.bvh"  # shipped with sportsim


def _unnamed(text: str) -> str:
    """Every ROOT/JOINT renamed joint_0, joint_1, ... in file order (Learned Motion Matching's output)."""
    count = iter(range(10_000))
    return re.sub(r"^(\s*(?:ROOT|JOINT)\s+)\S+", lambda m: f"{m.group(1)}joint_{next(count)}", text, flags=re.M)


def test_names_without_sides_take_left_and_right_from_the_knees(tmp_path: Path) -> None:
    """Learned Motion Matching's decompressor output names its joints joint_0 .. joint_22. The walk,
    renamed so: the legs and arms are found as mirrored sibling chains and the knees' bend says which is
    left - the same joints the names say, whichever chain was found first."""
    from sportsim.mocap.structure import unsided_sides

    named = read_bvh(WALK_BUILTIN)
    path = tmp_path / "unnamed.bvh"
    path.write_text(_unnamed(WALK_BUILTIN.read_text()))
    clip = read_bvh(path)
    assert clip.skeleton == "generic humanoid" and clip.meta["sides"].startswith("from the knees' bend")
    idx, expected = clip_canonical_indices(clip), clip_canonical_indices(named)
    for joint in ("l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle", "l_shoulder", "r_shoulder", "l_elbow"):
        assert idx[joint] == expected[joint], joint
    report = validate(clip, motion=retarget(clip, plant_feet=True, anatomical_ranges=True))
    assert not report.errors, report.table()

    # the first chain of each pair is called left for now: a map with both pairs the wrong way is put right
    crossed = {c: expected[("r" if c[0] == "l" else "l") + c[1:] if c[:2] in ("l_", "r_") else c] for c in expected}
    fixed, note = unsided_sides(crossed, named.world_positions())
    assert fixed == expected and note.startswith("from the knees' bend")


def test_names_without_sides_and_straight_knees_are_refused_saying_why() -> None:
    from sportsim.mocap.structure import unsided_sides

    t = np.linspace(0.0, 1.0, 50)[:, None]
    positions = np.zeros((50, 4, 3))
    positions[:, 0] = [0.1, 0.0, 1.0]  # l hip, knee below it, ankle below that: straight legs, swaying
    positions[:, 1] = np.hstack([0.1 + 0.05 * t, 0 * t, 0.5 + 0 * t])
    positions[:, 2] = np.hstack([0.1 + 0.1 * t, 0 * t, 0 * t])
    canonical = {"l_hip": 0, "l_knee": 1, "l_ankle": 2, "r_hip": 3, "r_knee": 1, "r_ankle": 2}
    positions[:, 3] = [-0.1, 0.0, 1.0]
    same, note = unsided_sides(canonical, positions)
    assert same == canonical and note.startswith("unknown: no joint name carries a side and neither the knees nor "
                                                 "the toes tell")


def test_names_without_sides_and_straight_knees_take_sides_from_the_toes() -> None:
    """Locked knees say nothing, but feet point forward: up x forward is the left. A map with both pairs
    the wrong way round is put right (the arms follow the hips)."""
    from sportsim.mocap.structure import unsided_sides

    t = np.linspace(0.0, 1.0, 50)[:, None]
    # facing +y (toes), up +z: the left is up x forward = -x
    rest = {"l_hip": (-0.1, 0, 1), "l_knee": (-0.1, 0, 0.5), "l_ankle": (-0.1, 0, 0.05), "l_toe": (-0.1, 0.15, 0),
            "l_shoulder": (-0.2, 0, 1.45), "chest": (0, 0, 1.4), "neck": (0, 0, 1.55)}
    rest.update({"r" + k[1:]: (-x, y, z) for k, (x, y, z) in rest.items() if k[:2] == "l_"})
    names = list(rest)
    positions = np.array([rest[n] for n in names], dtype=float)[None] + 0.05 * t[:, :, None] * [1.0, 0.3, 0.0]
    expected = {n: names.index(n) for n in names}
    crossed = {n: names.index(("r" if n[0] == "l" else "l") + n[1:] if n[:2] in ("l_", "r_") else n) for n in names}
    fixed, note = unsided_sides(crossed, positions)
    assert note.startswith("from the toes' direction") and fixed == expected, note
    assert unsided_sides(expected, positions)[0] == expected
