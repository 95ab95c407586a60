"""The DeepMimic motion library: ``deepmimic:<name>`` finds pybullet_data's humanoid3d files, which
sportsim's DeepMimic reader reads; unknown names and a missing pybullet are one line."""

from __future__ import annotations

import importlib.util

import pytest

from sportsim import deepmimic_motions
from sportsim.errors import ConfigError

needs_pybullet = pytest.mark.skipif(importlib.util.find_spec("pybullet_data") is None,
                                    reason="the pybullet extra (pybullet_data's motion files) is not installed")


@needs_pybullet
def test_library_names_resolve_to_readable_motions():
    from sportsim.mocap import load_clip

    names = deepmimic_motions.names()
    assert {"walk", "run", "backflip", "cartwheel", "spinkick"} <= set(names)
    path = deepmimic_motions.resolve("deepmimic:backflip")
    assert path.name == "humanoid3d_backflip.txt"
    clip = load_clip(path)
    assert clip.n_frames > 10 and clip.skeleton == "deepmimic"


@needs_pybullet
def test_unknown_name_lists_the_library():
    with pytest.raises(ConfigError, match="no such DeepMimic motion.*backflip"):
        deepmimic_motions.resolve("deepmimic:moonwalk")


def test_missing_pybullet_names_the_extra(monkeypatch):
    monkeypatch.setattr(deepmimic_motions.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r'pip install "sportsim\[pybullet\]"'):
        deepmimic_motions.resolve("deepmimic:walk")
