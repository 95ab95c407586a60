"""``train env=imitation env.motion=<file> env.mapping=<yaml>`` (issue 14): a capture whose skeleton
sportsim cannot place trains with the same skeleton mapping every mocap command takes as ``--mapping``
(one resolver: ``load_clip(path, mapping=...)``), through the train config (Hydra) to the env.

The CMU walk from shared/mocap with every joint renamed ``b00``, ``b01``, ... (no name sportsim could
read; since the side-free recognition it may still place the limbs by geometry) and a mapping that places
the canonical joints on those names must give exactly the walk's own reference motion.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from hydra import compose, initialize_config_dir

from sportsim import builders
from sportsim.envs import imitation_params as ip
from sportsim.errors import ConfigError, MocapError
from sportsim.mocap.skeletons import builtin_skeletons

REPO = Path(__file__).resolve().parents[1]
CMU_WALK = REPO.parent / "shared" / "mocap" / "cmu_02_01_walk.bvh"
pytestmark = pytest.mark.skipif(not CMU_WALK.is_file(), reason=f"{CMU_WALK} not found")


def _anonymous_walk(tmp_path: Path) -> tuple[Path, Path]:
    """The CMU walk (first 200 frames) with anonymous joint names, and the mapping YAML for it."""
    text = CMU_WALK.read_text()
    names = re.findall(r"(?:ROOT|JOINT) (\S+)\n", text)
    renamed = {name: f"b{i:02d}" for i, name in enumerate(names)}
    text = re.sub(r"(ROOT|JOINT) (\S+)\n", lambda m: f"{m[1]} {renamed[m[2]]}\n", text)
    header, rows = text.split("MOTION\n", 1)
    lines = rows.splitlines()
    frames = lines[2:202]
    text = header + "MOTION\n" + f"Frames: {len(frames)}\n" + lines[1] + "\n" + "\n".join(frames) + "\n"
    bvh = tmp_path / "anonymous_walk.bvh"
    bvh.write_text(text)
    cmu = {layout.name: layout for layout in builtin_skeletons()}["cmu"]
    mapping = tmp_path / "anonymous.yaml"
    mapping.write_text(yaml.safe_dump({"name": "anonymous", "joints": list(renamed.values()),
                                       "map": {c: renamed[n] for c, n in cmu.canonical.items()}, "bvh_unit": "cmu"}))
    return bvh, mapping


def _env_config(*overrides: str):
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base=None):
        return compose(config_name="train", overrides=["env=imitation", "+env.kwargs.motion_cache=false",
                                                         *overrides])


def test_train_env_mapping_reads_an_unknown_skeleton_like_mocap_mapping(tmp_path: Path) -> None:
    bvh, mapping = _anonymous_walk(tmp_path)
    # without the mapping the side-free names are placed by geometry (sportsim.mocap.structure: legs from
    # the knees' bend) or refused naming env.mapping - never read as another skeleton without a word
    try:
        builders.make_env(_env_config(f"env.motion={bvh}").env).close()
    except MocapError as exc:
        assert re.search(r"unknown skeleton .*env\.mapping=\.\.\. for train", str(exc))

    cfg = _env_config(f"env.motion={bvh}", f"env.mapping={mapping}")
    assert cfg.env.kwargs.motion_mapping == str(mapping)
    env = builders.make_env(cfg.env)
    original = bvh.with_name("walk.bvh")
    original.write_text(CMU_WALK.read_text())
    plain = builders.make_env(_env_config(f"env.motion={original}", "env.kwargs.motion_end_frame=200").env)
    try:
        mapped, walk = env.unwrapped.tracks[0], plain.unwrapped.tracks[0]
        assert mapped.joint_coords.shape == walk.joint_coords.shape
        np.testing.assert_allclose(mapped.joint_coords, walk.joint_coords, atol=1e-9)
        assert env.unwrapped.humanoid_height_m == pytest.approx(plain.unwrapped.humanoid_height_m)
    finally:
        env.close()
        plain.close()


def test_mapping_keys_the_cache_and_is_refused_for_a_reference_npz(tmp_path: Path) -> None:
    bvh, mapping = _anonymous_walk(tmp_path)
    settings = dict(height_m=None, mass_kg=None, sex="male", start_frame=None, end_frame=None, body="human")
    first = ip.load_reference(bvh, cache_dir=tmp_path / "cache", mapping=mapping, **settings)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    again = ip.load_reference(bvh, cache_dir=tmp_path / "cache", mapping=str(mapping), **settings)  # from the cache
    np.testing.assert_array_equal(first.qpos, again.qpos)
    other = tmp_path / "other.yaml"
    other.write_text(mapping.read_text().replace("name: anonymous", "name: other"))
    ip.load_reference(bvh, cache_dir=tmp_path / "cache", mapping=other, **settings)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2  # another mapping is another motion
    reference = first.save_npz(tmp_path / "walk_reference.npz")
    with pytest.raises(ConfigError, match="takes no skeleton mapping"):
        ip.load_reference(reference, cache_dir=None, mapping=mapping, **settings)
    with pytest.raises(ConfigError, match="no such file"):
        ip.load_reference(bvh, cache_dir=None, mapping=tmp_path / "missing.yaml", **settings)


def test_export_takes_the_mapping_too(tmp_path: Path, monkeypatch) -> None:
    """``python -m sportsim.export <capture> out.csv mapping=<yaml>``: the same resolver."""
    from sportsim.export.__main__ import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    bvh, mapping = _anonymous_walk(tmp_path)
    assert main([str(bvh), str(tmp_path / "walk.csv"), f"mapping={mapping}"]) == 0
    assert len((tmp_path / "walk.csv").read_text().splitlines()) > 100
