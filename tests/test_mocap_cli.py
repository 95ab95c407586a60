"""``python -m sportsim.mocap convert|info`` and ``python -m sportsim.replay mocap=...``: what they write,
print and refuse. Real capture files from shared/mocap (skipped when absent)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

from sportsim.cli import run_cli
from helpers import run_module

from sportsim.errors import ConfigError, MocapError
from sportsim.mocap import find_capture, load_clip
from sportsim.paths import resource_dir
from sportsim.mocap.__main__ import main as mocap_main
from sportsim.mocap.retarget import ReferenceMotion
from sportsim.replay import TITLE_PX, replay

MOCAP_DIR = Path(__file__).resolve().parents[2] / "shared" / "mocap"
needs_data = pytest.mark.skipif(not MOCAP_DIR.is_dir(), reason=f"real capture files not found at {MOCAP_DIR}")
WALK = MOCAP_DIR / "sfu_0005_Walking001.bvh"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``python -m sportsim.mocap`` in-process through the project's CLI boundary."""
    with pytest.raises(SystemExit) as exit_info:
        run_cli(mocap_main, argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code), captured.out, captured.err


@needs_data
def test_convert_writes_a_reference_motion_and_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "walk.npz"
    code, stdout, _ = _cli(["convert", str(WALK), str(out), "--fps", "30"], capsys)
    assert code == 0 and f"wrote {out}" in stdout and "foot penetration" in stdout
    motion = ReferenceMotion.load_npz(out)
    assert motion.fps == 30.0 and motion.n_frames == 68 and motion.source == str(WALK)
    before = out.read_bytes()

    code, stdout, stderr = _cli(["convert", str(WALK), str(out), "--fps", "60"], capsys)
    assert code == 2 and stdout == "" and stderr.count("\n") == 1
    assert stderr.startswith("sportsim: ") and "--overwrite" in stderr
    assert out.read_bytes() == before

    code, _, _ = _cli(["convert", str(WALK), str(out), "--fps", "60", "--overwrite", "--height", "1.80"], capsys)
    assert code == 0
    replaced = ReferenceMotion.load_npz(out)
    assert replaced.fps == 60.0 and replaced.height_m == 1.80


@needs_data
def test_convert_refuses_a_motion_with_validation_errors_unless_forced(tmp_path: Path, capsys) -> None:
    """A 5 Hz clip is a fatal problem (frame rate); --force writes it anyway."""
    slow = dataclasses.replace(load_clip(WALK), fps=5.0)
    source = slow.save_npz(tmp_path / "slow_clip.npz")
    out = tmp_path / "slow.npz"
    code, _, stderr = _cli(["convert", str(source), str(out)], capsys)
    assert code == 2 and "validation failed (frame rate: 5 Hz)" in stderr and not out.exists()
    code, stdout, _ = _cli(["convert", str(source), str(out), "--force"], capsys)
    assert code == 0 and out.exists() and "error" in stdout


@needs_data
@pytest.mark.parametrize("name", ["cmu_02_01_walk.bvh", "xsens_upperbody_test_mocap.mvnx"])
def test_info_prints_the_summary_and_validation_table(name: str, capsys) -> None:
    code, stdout, _ = _cli(["info", str(MOCAP_DIR / name)], capsys)
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].split()[0] == "file" and any(line.startswith("skeleton") for line in lines)
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["check", "value"])
    checks = ("frame rate", "duration", "NaN/inf", "foot penetration", "stance floating", "root drift",
              "joint limits", "velocity spikes", "short clip", "retarget error")
    table = "\n".join(lines[header:])
    assert all(check in table for check in checks)
    assert lines[-1].startswith("validation: 0 error(s)")
    if name.startswith("cmu"):  # the converter's T-pose frame 0 is flagged
        assert "frames 0-1" in next(line for line in lines if line.startswith("velocity spikes"))


@needs_data
def test_info_reads_a_written_reference_motion(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.npz"
    assert _cli(["convert", str(MOCAP_DIR / "bandai2_run_normal_001.bvh"), str(out)], capsys)[0] == 0
    code, stdout, _ = _cli(["info", str(out)], capsys)
    assert code == 0 and "sportsim reference motion" in stdout and "foot penetration" in stdout


def test_usage_errors_are_one_line_exit_2(tmp_path: Path, capsys) -> None:
    for argv in (["bogus"], ["convert", "only-one-path"], ["info", str(tmp_path / "missing.bvh")],
                 ["convert", str(tmp_path / "a.bvh"), str(tmp_path / "b.txt")]):
        code, stdout, stderr = _cli(argv, capsys)
        assert code == 2 and stdout == "" and stderr.count("\n") == 1 and stderr.startswith("sportsim: "), argv


def test_entry_points_report_errors_as_one_line(tmp_path: Path) -> None:
    for module, args in (("sportsim.mocap", ["info", str(tmp_path / "missing.bvh")]),
                         ("sportsim.replay", [f"mocap={tmp_path / 'missing.bvh'}", "width=63"])):
        result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and result.stdout == "", result.stderr
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("sportsim: ")


@needs_data
@pytest.mark.parametrize("name", ["cmu_02_01_walk.bvh", "xsens_upperbody_test_mocap.mvnx"])
def test_replay_writes_a_playable_side_by_side_mp4(name: str, tmp_path: Path) -> None:
    out = tmp_path / "replay.mp4"
    video = replay(MOCAP_DIR / name, out=out, fps=10.0, width=96, height=80, seconds=1.0)
    assert video.path == out and video.frames == 10
    reader = imageio.get_reader(out)
    try:
        frames = [np.asarray(frame) for frame in reader]
    finally:
        reader.close()
    assert len(frames) == video.frames
    assert frames[0].shape == (80 + TITLE_PX, 2 * 96, 3)
    left, right = frames[5][TITLE_PX:, :96].astype(int), frames[5][TITLE_PX:, 96:].astype(int)
    assert (left < 100).any() and left.std() > 5 and right.std() > 5  # a skeleton drawn, a humanoid rendered
    with pytest.raises(ConfigError, match="already exists"):
        replay(MOCAP_DIR / name, out=out, fps=10.0, width=96, height=80, seconds=0.1)


@needs_data
@pytest.mark.parametrize("name", sorted(p.name for p in MOCAP_DIR.glob("*") if p.suffix in (".bvh", ".mvnx"))
                         if MOCAP_DIR.is_dir() else [])
def test_every_shared_file_replays(name: str, tmp_path: Path) -> None:
    """Two tiny frames per file: every skeleton draws and every retargeted motion renders."""
    video = replay(MOCAP_DIR / name, out=tmp_path / "r.mp4", fps=5.0, width=64, height=64, seconds=0.4)
    reader = imageio.get_reader(video.path)
    try:
        frames = [np.asarray(frame) for frame in reader]
    finally:
        reader.close()
    assert len(frames) == video.frames == 2 and frames[0].shape == (64 + TITLE_PX, 128, 3)


@needs_data
def test_replay_never_overwrites_its_default_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = replay(WALK, fps=10.0, width=64, height=64, seconds=0.1)
    second = replay(WALK, fps=10.0, width=64, height=64, seconds=0.1)
    assert first.path == tmp_path / "sfu_0005_Walking001-replay.mp4"
    assert second.path == tmp_path / "sfu_0005_Walking001-replay-1.mp4" and first.frames == 1


@needs_data
def test_replay_rejects_a_reference_motion_and_bad_options(tmp_path: Path, capsys) -> None:
    out = tmp_path / "walk.npz"
    assert _cli(["convert", str(WALK), str(out)], capsys)[0] == 0
    with pytest.raises(ConfigError, match="reference motion"):
        replay(out)
    from sportsim.replay import parse_args

    with pytest.raises(ConfigError, match="even"):
        parse_args([f"mocap={WALK}", "width=97"])
    with pytest.raises(ConfigError, match="unknown option"):
        parse_args([f"mocap={WALK}", "speed=2"])
    with pytest.raises(ConfigError, match="required"):
        parse_args(["fps=10"])


def test_shipped_clips_are_found_from_any_working_directory(tmp_path: Path) -> None:
    """`mocap/<clip>` names a shipped clip wherever the command runs (info, convert, replay, compare, env)."""
    result = run_module("sportsim.mocap", "info", "mocap/cmu_02_01_walk.bvh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = find_capture("mocap/cmu_02_01_walk.bvh")
    assert found.resolve() == (resource_dir("mocap") / "cmu_02_01_walk.bvh").resolve()
    assert find_capture(found) == found  # a path that exists is kept as given (it is the clip's source)
    with pytest.raises(MocapError, match=r"'mocap/nothing.bvh': no such file \(looked in "):
        find_capture("mocap/nothing.bvh")
