"""Third-party humanoid BVH files from many exporters convert with no mapping: upright, facing the way
the source faces, left and right kept; a quadruped on a humanoid-named rig is refused in one line.

The files live outside the repository (data is not committed): ``shared/mocap/external`` (its
SOURCES.md) and ``shared/mocap/corpus/{developed,heldout,heldout2..heldout7}``, pinned file by file (repository,
commit, path, SHA-256, exporter, licence) in ``tests/data/mocap_corpus_manifest.yaml``; ``python
scripts/fetch_mocap_corpus.py`` rebuilds them. The held-out folders hold files first run only once the code was
written. Tests skip, saying so, where the folders are absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sportsim.errors import MocapError
from sportsim.mocap import axes, load_clip, quat
from sportsim.mocap.retarget import POINT_NAMES, retarget
from sportsim.mocap.skeletons import clip_canonical_indices
from sportsim.mocap.validate import validate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "mocap"
NOT_HUMANOID = {"truebones_elephant_idle1_6ch.bvh", "ganimator_crab_dance_nonhuman.bvh",
                "godot_vr_mocap_test.bvh",  # a quadruped, a crab, three VR trackers (head and hands)
                "upper_body_output.bvh",  # pelvis, shoulders and elbows only
                "niallhorn_leg_only.bvh", "niallhorn_arm_bones.bvh", "debug_axes.bvh"}  # one leg, 6 bones, 3 axes
FOLDERS = ("external", "corpus/developed", "corpus/heldout", "corpus/heldout2", "corpus/heldout3",
           "corpus/heldout4",  # 18 files from 11 exporters, run once before any code change
           "corpus/heldout5",  # 25 files from 22 repositories, first run 13/25
           "corpus/heldout6",  # 24 files from 13 repositories, first run 13/22 humanoids (2026-12-06)
           "corpus/heldout7")  # 25 files from 18 repositories, first run 21/21 humanoids (2026-12-06)
FILES = sorted(f for folder in FOLDERS for f in SHARED.glob(f"{folder}/*.bvh"))
# humanoid files whose data is broken: refused, as they should be, with the reason
BROKEN = {"tram_sample.bvh": "line 733: expected 60 values, got 75",  # rows longer than the hierarchy
          "mediapipe_to_bvh_dance.bvh": "upright start",  # one leg points up while the other points down
          "kinect_openni_nite.bvh": "rest pose",  # mirrored ("Left" joints on the body's right): --mirror converts it
          "senior_design_output.bvh": "line 91: expected 54 values, got 102",  # rows twice the hierarchy's
          "mdm2bvh_results.bvh": "is not finite (nan)",  # NaN rows
          "kinect2bvh_test.bvh": "thigh/shank length ratio",  # offsets shifted one joint: shins 0.16 of the thighs
          # no side names, and no body: one knee bends forward, the other backward (bend agreement with the hip
          # line -0.01 / -0.56; Ytil +0.91 / -0.89), the elbows likewise, the foot bones continue the shanks
          "lmm_decompressor_ygnd.bvh": "tell left from right",
          "coda02_woman.bvh": "line 327: expected 66 values, got 65",  # one value missing from a row
          "bvh_viewer_example.bvh": "rest pose",  # recorded mirrored (both knees bend backwards): --mirror
          "legs_only_kick.bvh": "line 35: expected JOINT, End Site or '}'",  # one leg only, and a stray 'z'
          # a humanoid HIERARCHY with Latin-1 names (read since heldout7) and no MOTION section at all
          "trc2bvh_hierarchy_only.bvh": "line 111: unexpected end of file, expected 'MOTION'"}
MIRRORED = {"kinect_openni_nite.bvh", "bvh_viewer_example.bvh"}  # convert with --mirror (load_clip(mirror=True))
# humanoid files sportsim still gets wrong (its fault, not the data's): expected to fail until fixed (strict)
KNOWN_FAILURES: dict[str, str] = {}
HUMANOIDS = [f for f in FILES if f.name not in NOT_HUMANOID and f.name not in BROKEN]
MAX_FRAMES = 600  # enough of each clip to judge it, and a test file that runs in under a minute
UPRIGHT_DEG = 30.0  # median body tilt (ankles -> pelvis -> neck) of the clip once read: Z up
FACING_DEG = 45.0  # median angle between the humanoid's forward axis and where the source faces
IMPORT_CHECKS = ("NaN/inf", "retargeting", "upright start", "rest pose")  # the rest is retargeting quality
needs_files = pytest.mark.skipif(not HUMANOIDS, reason=f"third-party capture files not found under {SHARED}")


def _horizontal(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    v[..., 2] = 0.0
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _foot_tips(clip, ankle: int) -> np.ndarray:
    """``(T, 3)`` the point of the ankle's subtree (joints and end sites) farthest from it: the tip of the
    foot, whatever the exporter calls its joints."""
    below = {ankle}
    for j in range(ankle + 1, clip.n_joints):
        if clip.parents[j] in below:
            below.add(j)
    pos = clip.world_positions()
    sites = clip.end_site_positions()
    candidates = [pos[:, j] for j in sorted(below - {ankle})]
    candidates += [sites[:, k] for k, p in enumerate(clip.end_site_parents) if p in below]
    if not candidates:
        return pos[:, ankle]
    return max(candidates, key=lambda c: float(np.median(np.linalg.norm(c - pos[:, ankle], axis=-1))))


def _expected_outcome(path: Path):
    if path.name in KNOWN_FAILURES:
        return pytest.param(path, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[path.name]))
    return path


@needs_files
@pytest.mark.parametrize("path", [_expected_outcome(p) for p in HUMANOIDS], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_humanoid_converts_upright_facing_with_sides_kept(path: Path) -> None:
    _converts_upright_facing_with_sides_kept(load_clip(path))  # no mapping


@pytest.mark.parametrize("path", [f for f in FILES if f.name in MIRRORED] or
                         [pytest.param(None, marks=pytest.mark.skip(reason="no mirrored recordings found"))],
                         ids=lambda p: p.name if p else "none")
def test_a_mirrored_recording_converts_with_mirror(path: Path) -> None:
    """Refused as it is (BROKEN: both hips turned, the message names --mirror); un-mirrored it passes."""
    _converts_upright_facing_with_sides_kept(load_clip(path, mirror=True))


def _converts_upright_facing_with_sides_kept(clip) -> None:
    clip = clip.frames(0, min(clip.n_frames, MAX_FRAMES))
    assert clip.skeleton != "unknown", clip.meta.get("skeleton_problem")
    idx = clip_canonical_indices(clip)
    motion = retarget(clip, plant_feet=True, anatomical_ranges=True)  # as `python -m sportsim.mocap convert`
    report = validate(clip, motion=motion)
    import_errors = [r for r in report.errors if r.check in IMPORT_CHECKS]
    assert not import_errors, report.table()

    pos = clip.world_positions()
    assert float(np.median(axes.tilt_deg(pos, idx))) < UPRIGHT_DEG  # the file's up axis became +Z

    # where the source faces: the facing most of its own cues agree on - feet (ankle to the foot's tip), knee
    # bends, hip and shoulder lines (axes.facing_cues); a single cue can be wrong in the file (a foot joint
    # turned 80-110 deg: Azure Kinect, Text2Gestures), the majority is not
    tips = {s: _foot_tips(clip, idx[f"{s}_ankle"]) for s in "lr"} if "l_toe" in idx and "r_toe" in idx else None
    _, ahead, _ = axes.facing_consensus(axes.facing_cues(pos, idx, tips))
    forward = _horizontal(quat.rotate(motion.qpos[:, 3:7], np.array([1.0, 0.0, 0.0])))
    facing = np.degrees(np.arccos(np.clip(np.sum(ahead * forward, axis=-1), -1.0, 1.0)))
    assert float(np.median(facing)) < FACING_DEG
    left_of_source = np.cross(np.array([0.0, 0.0, 1.0]), ahead)
    hip_line = pos[:, idx["l_hip"]] - pos[:, idx["r_hip"]]
    assert float(np.mean(np.sum(hip_line * left_of_source, axis=-1) > 0)) > 0.8  # the file's left is on the left
    # the humanoid's left ankle follows the source's left ankle, not its right one
    names = list(motion.target_names)
    human = motion.positions_m[:, [POINT_NAMES.index("left_ankle"), POINT_NAMES.index("right_ankle")]]
    source = motion.target_positions_m[:, [names.index("left_ankle"), names.index("right_ankle")]]
    same = np.linalg.norm(human - source, axis=-1).sum(axis=-1)
    crossed = np.linalg.norm(human - source[:, ::-1], axis=-1).sum(axis=-1)
    assert float(np.mean(same <= crossed)) > 0.8


@pytest.mark.parametrize("path", [f for f in FILES if f.name in NOT_HUMANOID] or
                         [pytest.param(None, marks=pytest.mark.skip(reason="no non-humanoid test files found"))],
                         ids=lambda p: p.name if p else "none")
def test_non_humanoid_rigs_are_refused_in_one_line(path: Path) -> None:
    """The elephant (a quadruped on a 3ds Max biped rig) and the crab (many legs) never become humanoids."""
    try:
        clip = load_clip(path)
    except MocapError as exc:
        message = str(exc)
    else:
        with pytest.raises(MocapError) as info:
            retarget(clip)
        message = str(info.value)
    assert "\n" not in message.strip() and "not a humanoid" in message


@pytest.mark.parametrize("path", [f for f in FILES if f.name in BROKEN] or
                         [pytest.param(None, marks=pytest.mark.skip(reason="no broken test files found"))],
                         ids=lambda p: p.name if p else "none")
def test_broken_humanoid_files_are_refused_with_the_reason(path: Path) -> None:
    """Never silently wrong data: a file whose rows do not match its hierarchy, or whose poses are not a
    body's, is an error (reader) or a validation error (convert refuses it without --force)."""
    expected = BROKEN[path.name]
    try:
        clip = load_clip(path)
    except MocapError as exc:
        assert expected in str(exc) and "\n" not in str(exc)
        return
    if clip.skeleton == "unknown":  # refused by the skeleton recognition, saying why
        assert expected in clip.meta.get("skeleton_problem", "") + clip.meta.get("skeleton_unrecognised", "")
        with pytest.raises(MocapError):
            retarget(clip)
        return
    report = validate(clip, motion=retarget(clip, plant_feet=True, anatomical_ranges=True))
    assert expected in [r.check for r in report.errors]


MANIFEST = Path(__file__).resolve().parent / "data" / "mocap_corpus_manifest.yaml"


CORPUS = [f for f in FILES if f.parent.parent.name == "corpus"]


@pytest.mark.skipif(not CORPUS, reason=f"the corpus folders are not under {SHARED / 'corpus'} "
                    "(python scripts/fetch_mocap_corpus.py writes them)")
def test_every_corpus_file_is_the_one_the_manifest_pins() -> None:
    """The figures quoted for each round hold for these bytes: a corpus file that is not in
    tests/data/mocap_corpus_manifest.yaml, or differs from its SHA-256, fails here
    (``python scripts/fetch_mocap_corpus.py`` rebuilds the folders)."""
    import hashlib

    import yaml

    pinned = {(e["folder"], e["name"]): e["sha256"] for e in yaml.safe_load(MANIFEST.read_text())["files"]}
    for f in CORPUS:
        assert (f.parent.name, f.name) in pinned, f"{f} is not in {MANIFEST.name}"
        assert hashlib.sha256(f.read_bytes()).hexdigest() == pinned[(f.parent.name, f.name)], f"{f} differs"
