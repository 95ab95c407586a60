"""The video path (sportsim.pose): a phone video -> MediaPipe landmarks -> Clip -> everything downstream.

Real videos from ../shared/video/ (sources and licences in tests/data/video/SOURCES.md); bad inputs made here.
Needs the video extra (mediapipe 0.10.14, part of the dev extra); without it every test is skipped,
saying so. Accuracy and consistency figures: tests/test_video_accuracy.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import video_test_data

DATA = video_test_data()  # skips this module, saying why, without the extra or the videos

import cv2  # noqa: E402
import imageio.v2 as imageio  # noqa: E402

from sportsim.errors import MocapError  # noqa: E402
from sportsim.mocap import find_capture, load_clip  # noqa: E402
from sportsim.mocap.retarget import retarget  # noqa: E402
from sportsim.mocap.validate import validate  # noqa: E402
from sportsim.pose import read_landmarks, video_fit  # noqa: E402
from sportsim.pose.filters import fill_gaps, gap_runs, lowpass  # noqa: E402
from sportsim.pose.footage import Footage, show_footage  # noqa: E402
from sportsim.pose.reader import LM, iter_frames  # noqa: E402

DANCE = DATA / "mediapipe_dance.mp4"  # 600x600, 20 fps, 102 frames


@pytest.fixture(scope="module")
def dance():
    return video_fit(DANCE, progress=False)


def _write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=2) as writer:
        for frame in frames:
            writer.append_data(frame)
    return path


def _dance_frames(n: int) -> list[np.ndarray]:
    return [f for _, f in zip(range(n), iter_frames(DANCE))]


# ---- filters ------------------------------------------------------------------------------------------
def test_lowpass_is_zero_lag_and_keeps_slow_motion():
    fps = 30.0
    t = np.arange(300) / fps
    slow, fast = np.sin(2 * np.pi * 1.0 * t), 0.5 * np.sin(2 * np.pi * 12.0 * t)
    out = lowpass(slow + fast, fps, 6.0)
    inner = slice(30, -30)
    assert np.max(np.abs(out[inner] - slow[inner])) < 0.03  # 12 Hz removed, 1 Hz kept, no lag
    ramp = 2.0 + 0.5 * t  # a straight line passes unchanged, ends included (odd reflection padding)
    assert np.allclose(lowpass(ramp, fps, 6.0), ramp, atol=1e-9)


def test_lowpass_matches_scipy_filtfilt():
    signal = pytest.importorskip("scipy.signal", reason="scipy (installed with the video extra's jax) is absent")
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(200, 3)), axis=0)
    b, a = signal.butter(2, 6.0 / 0.802 / 15.0)
    expected = signal.filtfilt(b, a, x, axis=0, padlen=15)
    assert np.allclose(lowpass(x, 30.0, 6.0), expected, atol=1e-9)


def test_gaps_are_filled_linearly_and_listed():
    found = np.array([True, False, False, True, True, False, True])
    values = np.arange(7.0)[:, None] * [1.0, -2.0]
    values[~found] = np.nan
    assert np.allclose(fill_gaps(values, found), np.arange(7.0)[:, None] * [1.0, -2.0])
    assert gap_runs(found) == [(1, 3), (5, 6)]


# ---- landmarks -> clip --------------------------------------------------------------------------------------
def test_dance_landmarks_and_clip(dance):
    marks, clip, fit = dance
    assert (marks.fps, marks.n_frames, marks.width_px, marks.height_px) == (20.0, 102, 600, 600)
    assert marks.found.all() and fit.visibility > 0.9
    assert clip.skeleton == "mediapipe_pose" and clip.n_frames == 102 and clip.fps == 20.0
    pos = clip.world_positions()
    names = list(clip.joint_names)
    # bone lengths are constant (the point of the skeleton): every joint's distance to its parent
    for j in range(1, clip.n_joints):
        lengths = np.linalg.norm(pos[:, j] - pos[:, clip.parents[j]], axis=-1)
        assert np.ptp(lengths) < 1e-9, names[j]
    # Z up: the head above the pelvis above the ankles in every frame; the feet on a floor
    head, pelvis = pos[:, names.index("Head"), 2], pos[:, names.index("Pelvis"), 2]
    ankles = pos[:, [names.index("LeftAnkle"), names.index("RightAnkle")], 2].max(axis=1)
    assert np.all(head > pelvis + 0.3) and np.all(pelvis > ankles + 0.5)
    # limb directions are the measured ones: the knee angle of the clip = that of the filtered landmarks
    world = lowpass(marks.world_m, marks.fps, fit.cutoff_hz)
    for side, s in (("Left", "left"), ("Right", "right")):
        thigh = pos[:, names.index(f"{side}Knee")] - pos[:, names.index(f"{side}Hip")]
        shank = pos[:, names.index(f"{side}Ankle")] - pos[:, names.index(f"{side}Knee")]
        m_thigh = world[:, LM[f"{s}_knee"]] - world[:, LM[f"{s}_hip"]]
        m_shank = world[:, LM[f"{s}_ankle"]] - world[:, LM[f"{s}_knee"]]
        assert np.allclose(_angle_deg(thigh, shank), _angle_deg(m_thigh, m_shank), atol=1e-6)


def test_dance_retargets_without_validation_errors(dance):
    _, clip, _ = dance
    motion = retarget(clip)
    report = validate(clip, motion=motion)
    assert not report.errors, report.table()
    assert 1.3 < motion.height_m < 2.1  # MediaPipe's metric estimate of an adult
    assert motion.meta["stance_from"] == "the clip's foot contacts"


# ---- loaders and commands ------------------------------------------------------------------------------
def test_load_clip_and_find_capture_dispatch_videos_and_image_folders(tmp_path):
    assert find_capture(DANCE) == DANCE
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(_dance_frames(30)):
        cv2.imwrite(str(folder / f"{i:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    assert find_capture(folder) == folder
    clip = load_clip(folder, fps=20.0, progress=False)
    assert clip.n_frames == 30 and clip.fps == 20.0 and clip.skeleton == "mediapipe_pose"


def test_info_and_convert_commands(tmp_path, capfd):
    from sportsim.mocap.__main__ import main

    # a new file: MediaPipe runs here, so its native log lines would show
    fresh = _write_video(tmp_path / "dance copy.mp4", _dance_frames(30), 20.0)
    assert main(["info", str(fresh)]) == 0
    printed = capfd.readouterr()  # file-descriptor level: MediaPipe's C++ writes straight to fd 2
    for key in ("video ", "visible ", "gaps ", "jitter ", "bones ", "estimated "):
        assert f"\n{key}" in printed.out, key
    assert "W0000" not in printed.err and "XNNPACK" not in printed.err, printed.err
    out = tmp_path / "dance.npz"
    assert main(["convert", str(DANCE), str(out), "--fps", "30"]) == 0
    assert out.is_file()


def test_train_motion_accepts_the_video_and_its_npz(tmp_path):
    from sportsim.envs.imitation_params import load_reference

    settings = dict(height_m=None, mass_kg=None, sex="male", start_frame=None, end_frame=None)
    motion = load_reference(DANCE, cache_dir=tmp_path / "cache", **settings)
    assert motion.n_frames == 102 and list((tmp_path / "cache").glob("mediapipe_dance-*.npz"))
    npz = motion.save_npz(tmp_path / "dance.npz")
    again = load_reference(npz, cache_dir=None, **settings)
    assert np.allclose(again.qpos, motion.qpos)


# ---- one person, chosen by position ------------------------------------------------------------------------
def test_person_picks_the_athlete_at_that_spot(tmp_path):
    frames = _dance_frames(25)
    pair = [np.hstack([f, f[:, ::-1]]) for f in frames]  # the dancer and a mirrored copy, side by side
    path = _write_video(tmp_path / "two.mp4", pair, 20.0)
    for spot, left_half in (((0.25, 0.5), True), ((0.75, 0.5), False)):
        marks = read_landmarks(path, person=spot, progress=False)
        hips_x = marks.image[marks.found][:, [LM["left_hip"], LM["right_hip"]], 0].mean()
        assert (hips_x < 600) == left_half, (spot, hips_x)
    with pytest.raises(MocapError, match="person="):
        read_landmarks(path, person=(1.5, 0.5), progress=False)
    from sportsim.errors import ConfigError
    from sportsim.mocap.__main__ import main

    assert main(["convert", str(path), str(tmp_path / "right.npz"), "--person", "0.75,0.5"]) == 0
    with pytest.raises(ConfigError, match="not a video"):
        main(["convert", "mocap/cmu_02_01_walk.bvh", str(tmp_path / "walk.npz"), "--person", "0.5,0.5"])


# ---- the footage in the coach views ------------------------------------------------------------------------
def test_footage_is_cropped_to_the_athlete_and_time_aligned():
    footage = Footage.of(DANCE, progress=False)
    assert footage is not None and Footage.of("mocap/cmu_02_01_walk.bvh") is None
    image = footage.frame_at(2.0, 540, 360)
    assert image.shape == (540, 360, 3) and image.dtype == np.uint8
    j = footage.frame_index(2.0)
    assert j == 40  # 20 fps
    # the athlete's box sits in the middle of the crop, and fills most of its height
    x0, y0, scale = footage._crop(j, 540, 360)
    box = (footage.image[j] - [x0, y0]) * scale
    centre = 0.5 * (box.min(axis=0) + box.max(axis=0))
    assert abs(centre[0] - 180) < 60 and abs(centre[1] - 270) < 80
    assert 0.5 < np.ptp(box[:, 1]) / 540 < 1.0


def test_show_footage_replaces_only_video_sides():
    class Side:
        def __init__(self, path):
            self.path = Path(path)

    blank = [np.zeros((300, 200, 3), np.uint8) for _ in range(3)]
    panels = [p.copy() for p in blank]
    show_footage(panels, Side(DANCE), Side(find_capture("mocap/cmu_02_01_walk.bvh")), 1.0, 1.0, "side")
    assert panels[0].any() and not panels[1].any() and not panels[2].any()
    panels = [p.copy() for p in blank]
    show_footage(panels, Side(DANCE), Side(DANCE), 1.0, 1.0, "all")  # three ghost views: left as they are
    assert not any(p.any() for p in panels)


# ---- bad input: one line each, nothing written -------------------------------------------------------------
def _convert_fails(tmp_path: Path, video: Path, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m sportsim.mocap convert`` (in process): exit 2, one line naming the file, nothing written."""
    from sportsim.cli import run_cli
    from sportsim.mocap.__main__ import main

    out = tmp_path / "out.npz"
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        run_cli(main, ["convert", str(video), str(out)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"sportsim: {video}") and expected in lines[0], lines
    assert not out.exists()


def test_not_a_video(tmp_path, capsys):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    _convert_fails(tmp_path, text, "not a readable video", capsys)


def test_empty_and_corrupt_files(tmp_path, capsys):
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    _convert_fails(tmp_path, empty, "not a readable video", capsys)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(DANCE.read_bytes()[:20000])  # the header and a few frames, then cut
    with pytest.raises(MocapError, match="corrupt.mp4"):
        read_landmarks(corrupt, progress=False)


def test_zero_frames(tmp_path, capsys):
    writer = cv2.VideoWriter(str(tmp_path / "none.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 64))
    writer.release()
    _convert_fails(tmp_path, tmp_path / "none.avi", "no frames (an empty or corrupt video)", capsys)


def test_nobody_in_the_video(tmp_path, capsys):
    y, x = np.mgrid[0:240, 0:320]
    frames = [np.stack([(x + 4 * i) % 256, (y + 2 * i) % 256, np.full_like(x, 120)], -1).astype(np.uint8)
              for i in range(15)]
    _convert_fails(tmp_path, _write_video(tmp_path / "empty_room.mp4", frames, 15.0), "nobody found", capsys)


def test_person_cut_off_at_the_frame_edge(tmp_path, capsys):
    frames = [f[:330] for f in _dance_frames(20)]  # the top 55 %: knees and feet out of the picture
    _convert_fails(tmp_path, _write_video(tmp_path / "cut.mp4", frames, 20.0), "cut off at the frame edge", capsys)


def test_missing_extra_names_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_mediapipe(name, *args, **kwargs):
        if name == "mediapipe":
            raise ImportError("No module named 'mediapipe'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mediapipe)
    with pytest.raises(MocapError, match=r'pip install "sportsim\[video\]"'):
        read_landmarks(DANCE, progress=False)


def _angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


# ---- fuzzing: any landmark series gives a clip of finite numbers or one MocapError ------------------------------
def test_landmarks_to_clip_fuzzed(dance):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from sportsim.pose.reader import Landmarks
    from sportsim.pose.skeleton import landmarks_to_clip

    base, _, _ = dance

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(start=st.integers(0, 90), length=st.integers(1, 40), seed=st.integers(0, 2**31 - 1),
           gap_rate=st.floats(0.0, 0.9), noise_m=st.sampled_from([0.0, 0.01, 0.2, 5.0]),
           squash=st.booleans())
    def check(start, length, seed, gap_rate, noise_m, squash):
        rng = np.random.default_rng(seed)
        cut = slice(start, start + length)
        world = base.world_m[cut] + rng.normal(scale=noise_m, size=base.world_m[cut].shape)
        if squash:  # degenerate bodies: every landmark on one spot
            world = np.zeros_like(world)
        found = rng.random(len(world)) >= gap_rate
        world[~found] = np.nan
        marks = Landmarks(fps=base.fps, world_m=world, image=base.image[cut].copy(),
                          visibility=base.visibility[cut], found=found, width_px=base.width_px,
                          height_px=base.height_px, source="fuzz.mp4",
                          reason=np.where(found, "", "no person").astype("<U16"))
        try:
            clip, fit = landmarks_to_clip(marks)
        except MocapError as exc:
            assert str(exc).startswith("fuzz.mp4") and "\n" not in str(exc)
            return
        assert np.isfinite(clip.world_positions()).all() and np.isfinite(clip.root_pos_m).all()
        assert clip.n_frames == fit.n_frames

    check()
