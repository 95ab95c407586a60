"""Fuzzing the readers: mutated real files must give a valid Clip or a MocapError, never anything else.

Seeds are small excerpts of the real captures in shared/mocap (hierarchy + first 5 frames; MVNX header
+ calibration frames + 3 normal frames; third-party exporters from shared/mocap/external, so mutations
reach the structural skeleton recognition and the up-axis detection) plus the synthetic files of
test_mocap_readers. Structural recognition is also fuzzed directly on random hierarchies of humanoid
joint names. Mutations:
truncation, token replacement by random text or bytes, raw byte insertion, duplicated, deleted and
swapped lines, and for XML a DOCTYPE with entities. Budget: 1500 BVH + 500 MVNX + 300 DeepMimic examples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mocap_readers import MOCAP_DIR, _deepmimic_frame, _tiny_bvh, _tiny_mvnx

from sportsim.errors import MocapError
from sportsim.mocap import Clip, read_bvh, read_deepmimic, read_mvnx
from sportsim.mocap.retarget import REQUIRED_CANONICAL
from sportsim.mocap.skeletons import clip_canonical_indices
from sportsim.mocap.structure import normalise, recognise

BVH_EXAMPLES, MVNX_EXAMPLES, DEEPMIMIC_EXAMPLES = 1500, 500, 300
SEED_FRAMES = 5
FUZZ_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _bvh_excerpt(path: Path) -> bytes:
    lines = path.read_text().split("\n")
    motion = next(i for i, line in enumerate(lines) if line.strip() == "MOTION")
    rows = [line for line in lines[motion + 3:] if line.strip()][:SEED_FRAMES]
    return "\n".join(lines[:motion + 1] + [f"Frames: {len(rows)}", lines[motion + 2], *rows, ""]).encode()


def _mvnx_excerpt(path: Path, normal_frames: int = 3) -> bytes:
    text = path.read_text()
    starts = [m.start() for m in re.finditer(r"<frame [^>]*type=\"normal\"", text)]
    cut = text.rfind("\n", 0, starts[normal_frames]) + 1
    return (text[:cut] + "\t\t</frames>\n\t</subject>\n</mvnx>\n").encode()


def _seeds() -> tuple[list[bytes], list[bytes]]:
    bvh, mvnx = [_tiny_bvh().encode()], [_tiny_mvnx().encode()]
    if MOCAP_DIR.is_dir():
        for name in ("cmu_02_01_walk.bvh", "sfu_0007_Cartwheel001.bvh", "bandai2_run_normal_001.bvh",
                     "xsens_upperbody_test_mocap.bvh"):
            bvh.append(_bvh_excerpt(MOCAP_DIR / name))
        mvnx.append(_mvnx_excerpt(MOCAP_DIR / "xsens_upperbody_test_mocap.mvnx"))
    for name in ("mixamo_prefixed_test_freebvh.bvh", "makehuman_gamerig_walk1_24fps.bvh",
                 "asf_names_cartwheel_11988hz.bvh", "noitom_emotion_walk_120fps.bvh"):
        if (MOCAP_DIR / "external" / name).is_file():
            bvh.append(_bvh_excerpt(MOCAP_DIR / "external" / name))
    return bvh, mvnx


BVH_SEEDS, MVNX_SEEDS = _seeds()
DEEPMIMIC_SEED = json.dumps({"Loop": "wrap", "Frames": [_deepmimic_frame(knee_rad=-0.3 * k) for k in range(4)]},
                            indent=1).encode()

# Tokens that steer the parsers into their interesting branches.
SPECIAL_TOKENS = ["nan", "inf", "-inf", "-1", "0", "1e308", "-1e308", "99999999999", "1e-320", "{", "}", "JOINT",
                  "ROOT", "End", "Site", "MOTION", "Frames:", "Frame", "Time:", "CHANNELS", "OFFSET", "6", "3",
                  "Xposition", "Zrotation", "<frame>", "</frame>", 'type="normal"', 'type="tpose"', 'version="3"',
                  "&amp;", "<!--", "-->", "]]>", "null", "[]", "[[", "\"Frames\":", "true", "1.5"]
DOCTYPES = [
    '<!DOCTYPE mvnx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE mvnx SYSTEM "http://example.com/x.dtd">',
    '<!DOCTYPE mvnx [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
]

text_piece = st.one_of(st.sampled_from(SPECIAL_TOKENS), st.text(max_size=12))
mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("token"), st.floats(0, 1), text_piece),
    st.tuples(st.just("bytes"), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("dup_line"), st.floats(0, 1)),
    st.tuples(st.just("del_line"), st.floats(0, 1)),
    st.tuples(st.just("swap_lines"), st.floats(0, 1), st.floats(0, 1)),
)
xml_mutation = st.one_of(mutation, st.tuples(st.just("doctype"), st.sampled_from(DOCTYPES)))


def _at(fraction: float, size: int) -> int:
    return min(int(fraction * size), max(size - 1, 0))


def mutate(data: bytes, op: tuple) -> bytes:
    kind = op[0]
    if kind == "truncate":
        return data[: int(op[1] * len(data))]
    if kind == "token":
        spans = [m.span() for m in re.finditer(rb"\S+", data)]
        if not spans:
            return data
        start, end = spans[_at(op[1], len(spans))]
        return data[:start] + op[2].encode("utf-8", "surrogatepass") + data[end:]
    if kind == "bytes":
        at = int(op[1] * len(data))
        return data[:at] + op[2] + data[at:]
    if kind == "doctype":
        at = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
        return data[:at] + b"\n" + op[1].encode() + b"\n" + data[at:]
    lines = data.split(b"\n")
    i = _at(op[1], len(lines))
    if kind == "dup_line":
        lines.insert(i, lines[i])
    elif kind == "del_line":
        del lines[i]
    else:  # swap_lines
        j = _at(op[2], len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mocap_fuzz")


def _check(reader, path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        clip = reader(path)
    except MocapError as exc:
        assert str(path) in str(exc)
        return
    assert isinstance(clip, Clip)
    assert np.all(np.isfinite(clip.world_positions()))
    try:
        idx = clip_canonical_indices(clip)
    except MocapError as exc:
        assert "\n" not in str(exc).split("The template:")[0]  # one line, then the template block
        return
    assert all(0 <= i < clip.n_joints for i in idx.values())


@settings(max_examples=BVH_EXAMPLES, **FUZZ_SETTINGS)
@given(seed=st.integers(0, len(BVH_SEEDS) - 1), ops=st.lists(mutation, min_size=1, max_size=3))
def test_fuzz_bvh(fuzz_dir: Path, seed: int, ops: list[tuple]) -> None:
    data = BVH_SEEDS[seed]
    for op in ops:
        data = mutate(data, op)
    _check(read_bvh, fuzz_dir / "fuzz.bvh", data)


@settings(max_examples=MVNX_EXAMPLES, **FUZZ_SETTINGS)
@given(seed=st.integers(0, len(MVNX_SEEDS) - 1), ops=st.lists(xml_mutation, min_size=1, max_size=3))
def test_fuzz_mvnx(fuzz_dir: Path, seed: int, ops: list[tuple]) -> None:
    data = MVNX_SEEDS[seed]
    for op in ops:
        data = mutate(data, op)
    _check(read_mvnx, fuzz_dir / "fuzz.mvnx", data)


@settings(max_examples=DEEPMIMIC_EXAMPLES, **FUZZ_SETTINGS)
@given(ops=st.lists(mutation, min_size=1, max_size=3))
def test_fuzz_deepmimic(fuzz_dir: Path, ops: list[tuple]) -> None:
    data = DEEPMIMIC_SEED
    for op in ops:
        data = mutate(data, op)
    _check(read_deepmimic, fuzz_dir / "fuzz.txt", data)


NAME_WORDS = ["Hips", "Spine", "Spine1", "Chest", "Neck", "Head", "UpLeg", "Leg", "Foot", "ToeBase", "Shoulder", "Arm",
              "ForeArm", "Hand", "Thumb1", "Index2", "Eye", "Jaw", "Twist", "End", "Collar", "Thigh", "Shin", "femur",
              "x", "", "__", "mixamorig:", ":", ".", "_", "1"]
SIDES = ["", "Left", "Right", "L_", "R_", "_l", "_r", ".L", ".R", "l", "r"]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(1, 40))
def test_fuzz_structural_recognition(data: st.DataObject, n: int) -> None:
    """Random hierarchies with humanoid-ish names: recognise() returns a map of distinct, valid joints with
    every required one, or a reason - never an exception."""
    parents = [-1] + [data.draw(st.integers(0, j - 1)) for j in range(1, n)]
    names, seen = [], set()
    for j in range(n):
        side, word, other = (data.draw(st.sampled_from(SIDES)), data.draw(st.sampled_from(NAME_WORDS)),
                             data.draw(st.text(max_size=3)))
        name = f"{side}{word}{other}" if side in ("Left", "Right", "L_", "R_", "l", "r") else f"{word}{other}{side}"
        name = name or "j"
        while name in seen:
            name += "_"
        seen.add(name)
        names.append(name)
        normalise(name)
    offsets = np.array(data.draw(st.lists(st.tuples(*[st.floats(-100, 100)] * 3), min_size=n, max_size=n)))
    found = recognise(names, parents, offsets)
    if found.problem:
        assert not found.canonical
    else:
        assert set(REQUIRED_CANONICAL) <= set(found.canonical)
        parts = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
        limbs = [found.canonical[f"{s}_{p}"] for s in "lr" for p in parts]
        assert len(set(limbs)) == len(limbs) and all(0 <= i < n for i in found.canonical.values())


def test_seeds_are_valid(fuzz_dir: Path) -> None:
    """The unmutated seeds load, so the fuzzers start from files that reach every stage of the readers."""
    for i, data in enumerate(BVH_SEEDS):
        assert read_bvh(_written(fuzz_dir / f"seed{i}.bvh", data)).n_frames in (3, SEED_FRAMES)
    for i, data in enumerate(MVNX_SEEDS):
        assert read_mvnx(_written(fuzz_dir / f"seed{i}.mvnx", data)).n_frames == 3
    assert read_deepmimic(_written(fuzz_dir / "seed.txt", DEEPMIMIC_SEED)).n_frames == 4


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
