"""One side of a comparison: a capture or a policy's rollout, retargeted onto the sportsim humanoid,
resampled to the comparison's rate and cut to an excerpt, with its clock and what it is.

Clocks: frame j of a movement's excerpt is ``start_s + j / fps`` seconds on its *source clock* - the
capture file's own time (its first frame at 0 s) or the policy's rollout time. ``span_s`` is the part
of the source that could be compared (a dropped calibration frame is outside it), so everything the
comparison does not show can be stated as a time range of the source.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sportsim import humanoid
from sportsim import resolve
from sportsim.coach.rollout import PolicyRollout, policy_label, roll_out
from sportsim.errors import ConfigError, SportsimError
from sportsim.fileio import sha256_file
from sportsim.mocap import Clip, quat
from sportsim.mocap.__main__ import read_clip, trim
from sportsim.mocap.reference_motion import ReferenceMotion, is_reference_motion
from sportsim.mocap.retarget import resample, retarget
from sportsim.mocap.skeletons import load_mapping
from sportsim.mocap.validate import SPIKE_SPEED_MPS


AS_CAPTURED = {"plant_feet": False, "anatomical_ranges": False}  # retarget options for a capture as measured


@dataclass(frozen=True)
class Movement:
    """One side of a comparison (module docstring for the clocks).

    ``name``: one short name (the capture file's name, or the policy's zoo entry / run / model);
    ``kind``: "capture" or "policy"; ``motion``: the excerpt (retarget or rollout, at the comparison
    rate); ``contacts``: ``(T, 2)`` (right, left) foot on the floor from the simulation (policies), else
    None; ``rollout``: the whole rollout of a policy (its reference clip and phase)."""

    name: str
    kind: str
    path: Path
    motion: ReferenceMotion
    start_s: float
    span_s: tuple[float, float]
    skeleton: str
    notes: tuple[str, ...] = ()
    contacts: np.ndarray | None = None
    rollout: PolicyRollout | None = None

    def describe(self) -> str:
        """What this side is, for titles and legends: 'cmu_02_01_walk.bvh: capture, cmu skeleton,
        1.70 m' or 'imitation/walk/ppo: policy (zoo entry), Imitation-v0, 1.70 m' (the env the policy was trained on)."""
        height = f"{self.motion.height_m:.2f} m"
        if self.rollout is not None:  # "zoo entry imitation/walk/ppo" -> "imitation/walk/ppo: policy (zoo entry), ..."
            env = self.rollout.env_id.removeprefix("sportsim/")
            return f"{self.name}: policy ({self.rollout.label.rsplit(' ', 1)[0]}), {env}, {height}"
        return f"{self.name}: capture, {self.skeleton} skeleton, {height}"

    def source_time_s(self, frames: np.ndarray) -> np.ndarray:
        """Source-clock times (s) of (fractional) excerpt frames."""
        return self.start_s + np.asarray(frames, dtype=float) / self.motion.fps

    def is_reference_of(self, policy: "Movement") -> bool:
        """Whether this capture is the clip ``policy`` imitates (the same file, or the same bytes)."""
        if self.kind != "capture" or policy.rollout is None:
            return False
        reference = policy.rollout.phase.reference
        try:
            return self.path.resolve() == reference.resolve() or sha256_file(self.path) == sha256_file(reference)
        except OSError:
            return False


def resolve_side(spec: str | os.PathLike[str]) -> resolve.PolicyRef | Path:
    """A side of a comparison by :mod:`sportsim.resolve`'s rules: an existing file (a capture in any format
    the readers take - BVH, MVNX, DeepMimic, reference ``.npz``, video) as it is, else a policy or a
    capture by name (``zoo:<entry>``, a run directory, a model ``.zip``, a shipped ``mocap/`` clip)."""
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix.lower() != ".zip":
        return path
    return resolve.policy_or_capture(spec)


def load_movement(which: str, spec: str | os.PathLike[str], *, fps: float = 30.0, start_s: float = 0.0,
                  seconds: float | None = None, mapping: str | os.PathLike[str] | None = None,
                  as_reference_of: PolicyRollout | None = None) -> Movement:
    """Read, retarget (or roll out), resample and cut one side (``which`` is "a" or "b", for messages).

    A capture is retargeted as the source gave it (no planted feet, no clamped joint ranges: a coach
    measures the athlete, not a cleaned-up reference), or - ``as_reference_of`` a policy - exactly as
    that policy's env retargeted it (:attr:`PolicyRollout.reference_options`)."""
    notes: list[str] = []
    skipped_s = 0.0  # a dropped calibration frame
    rollout, contacts, kind = None, None, "capture"
    path = Path(spec).expanduser()
    try:
        target = resolve_side(spec)
        if isinstance(target, resolve.PolicyRef):
            rollout = roll_out(target)
            motion, kind = rollout.motion, "policy"
            name = policy_label(target).rpartition(" ")[2]
            file_duration_s = motion.duration_s
            notes += rollout.notes
            motion = motion if motion.fps == fps else resample(motion, fps)
            nearest = np.minimum(np.round(np.arange(motion.n_frames) * rollout.motion.fps / fps).astype(int),
                                 len(rollout.contacts) - 1)
            contacts = rollout.contacts[nearest]
        elif not (path := target).is_file():
            raise ConfigError(f"{path}: no such file")
        elif path.suffix.lower() == ".npz" and is_reference_motion(path):
            motion = ReferenceMotion.load_npz(path)
            file_duration_s, name = motion.duration_s, path.name
            motion = motion if motion.fps == fps else resample(motion, fps)
        else:
            skeleton_map = load_mapping(mapping) if mapping is not None else None
            clip = read_clip(path, skeleton_map)
            file_duration_s, name = clip.duration_s, path.name
            clip, dropped = _drop_calibration_frame(clip)
            if dropped:
                notes.append("calibration frame dropped")
                skipped_s = 1.0 / clip.fps
            options = AS_CAPTURED if as_reference_of is None else as_reference_of.reference_options
            if options != AS_CAPTURED:
                notes.append(f"retargeted as {as_reference_of.env_id.removeprefix('sportsim/')} retargets its "  # type: ignore[union-attr]
                             "reference (feet planted, joint ranges clamped)")
            motion = retarget(clip, fps=fps, skeletons=[skeleton_map] if skeleton_map else [], **options)
    except SportsimError as exc:
        raise type(exc)(f"{which}: {exc}") from exc
    start = int(round(start_s * fps))
    if start > motion.n_frames - 2:
        raise ConfigError(f"start_{which}={start_s:g}: {name} is only {file_duration_s:.2f} s "
                          f"long; the excerpt needs at least 2 frames")
    stop = motion.n_frames if seconds is None else min(motion.n_frames, start + int(round(seconds * fps)) + 1)
    if stop - start < 2:
        raise ConfigError(f"seconds={seconds:g}: the excerpt of {name} needs at least 2 frames at {fps:g} fps")
    span = (skipped_s, skipped_s + (motion.n_frames - 1) / fps)
    return Movement(name, kind, path, excerpt(motion, start, stop), start / fps + skipped_s, span, motion.skeleton,
                    tuple(notes), None if contacts is None else contacts[start:stop], rollout)


def _drop_calibration_frame(clip: Clip) -> tuple[Clip, bool]:
    """Without the first frame if a joint jumps into the second faster than the validator's spike speed
    while the next frame is calm (a calibration pose, e.g. the CMU files' T-pose)."""
    if clip.n_frames < 3:
        return clip, False
    start = trim(clip, 0, 3)
    pos = start.world_positions()
    speed = np.linalg.norm(np.diff(pos, axis=0), axis=-1).max(axis=1) * clip.fps
    if speed[0] > SPIKE_SPEED_MPS >= speed[1]:
        return trim(clip, 1, None), True
    return clip, False


def excerpt(motion: ReferenceMotion, start: int, stop: int) -> ReferenceMotion:
    """Frames ``start .. stop-1`` of a motion."""
    if (start, stop) == (0, motion.n_frames):
        return motion
    cut = slice(start, stop)
    return dataclasses.replace(
        motion, qpos=motion.qpos[cut], qvel=motion.qvel[cut], positions_m=motion.positions_m[cut],
        foot_contacts=motion.foot_contacts[cut], target_positions_m=motion.target_positions_m[cut],
        meta={**motion.meta, "excerpt": f"frames {start} to {stop - 1} at {motion.fps:g} Hz"})


def qpos_at(motion: ReferenceMotion, frames: np.ndarray) -> np.ndarray:
    """Humanoid qpos at fractional frame indices ``(K,)``: linear, quaternions slerped."""
    x = np.clip(np.asarray(frames, dtype=float), 0.0, motion.n_frames - 1)
    lower = np.minimum(np.floor(x).astype(int), motion.n_frames - 1)
    upper = np.minimum(lower + 1, motion.n_frames - 1)
    t = x - lower
    q0, q1 = motion.qpos[lower], motion.qpos[upper]
    qpos = q0 + t[:, None] * (q1 - q0)
    for joint in humanoid.JOINTS:
        if joint.type in ("free", "ball"):
            adr = humanoid.qpos_address(joint.name) + (3 if joint.type == "free" else 0)
            qpos[:, adr:adr + 4] = quat.slerp(q0[:, adr:adr + 4], q1[:, adr:adr + 4], t)
    return qpos


def interpolate_rows(values: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Rows of ``values`` ``(T, K)`` at fractional frame indices (linear)."""
    x = np.clip(np.asarray(frames, dtype=float), 0.0, len(values) - 1)
    lower = np.minimum(np.floor(x).astype(int), len(values) - 1)
    upper = np.minimum(lower + 1, len(values) - 1)
    t = (x - lower)[:, None]
    return values[lower] + t * (values[upper] - values[lower])
