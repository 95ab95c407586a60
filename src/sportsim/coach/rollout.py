"""A trained imitation policy as a movement: roll it out once on its reference clip and keep, per control
step, the simulated humanoid's pose (a :class:`~sportsim.mocap.retarget.ReferenceMotion`), where in its
reference clip the policy was (its phase, as a time on the clip's own clock), which feet touched the
floor.

Only policies of ``sportsim/Imitation`` (any version) move the sportsim humanoid; their env is made from the run's
own config (its ``motion`` is the reference clip), reset to the start of its first clip, and stepped with
deterministic actions until the episode ends (a fall, the clip's end or the time limit).

The clip time of step k: the env unrolls the clip's looped cycle (frames ``first .. end-1`` at the
control rate, :func:`sportsim.envs.imitation_params.build_track`) or plays it once, so step k shows the
clip at ``offset + (first + k mod period) / control_hz`` (cyclic) or ``offset + k / control_hz``, where
``offset`` is the leading part of the file the env dropped (a calibration frame; ``motion_start_frame``).
``first`` is found as the frame of the resampled clip whose pose equals the track's step 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim.errors import ConfigError
from sportsim.mocap.retarget import POINT_NAMES, ReferenceMotion, is_reference_motion, resample

IMITATION_ID = "sportsim/Imitation"  # any version: v0, v1, ...
FEET = ("right", "left")  # column order of contact flags (as ReferenceMotion.foot_contacts)


@dataclass(frozen=True)
class ClipPhase:
    """Where a policy is in its reference clip: the clip's clock at rollout time ``t`` (s) is
    ``offset_s + (first + (t * hz) mod period) / hz`` (``cyclic``) or ``offset_s + t`` (played once).
    ``reference`` is the clip file (resolved), ``cycle_s`` the looped stretch on the clip's clock."""

    reference: Path
    hz: float
    offset_s: float
    first: int
    period: int
    cyclic: bool

    @property
    def cycle_s(self) -> tuple[float, float]:
        return self.offset_s + self.first / self.hz, self.offset_s + (self.first + self.period) / self.hz

    @property
    def period_s(self) -> float:
        return self.period / self.hz

    def clip_time_s(self, t_s: np.ndarray) -> np.ndarray:
        """The clip's clock (s) at rollout times ``t_s``."""
        steps = np.asarray(t_s, dtype=float) * self.hz
        if self.cyclic:
            steps = np.mod(steps, self.period)
        return self.offset_s + (self.first + steps) / self.hz


@dataclass(frozen=True)
class PolicyRollout:
    """One deterministic episode: ``motion`` (the simulated humanoid per control step), ``phase`` (its
    reference clip and where in it each step was), ``contacts`` ``(T, 2)`` (right, left foot on the floor
    at the end of each step), ``notes`` (the env's notes on its clip), ``label`` (what the policy is:
    "zoo entry imitation/ppo", "run <folder>", "model <file>"), ``env_id`` (the env it was trained on)."""

    motion: ReferenceMotion
    phase: ClipPhase
    contacts: np.ndarray
    label: str
    env_id: str
    notes: tuple[str, ...] = ()


def policy_label(spec: str) -> tuple[str, Path | None]:
    """("zoo entry <name>" | "run <folder>" | "model <file>", the path or None for a zoo entry)."""
    path = Path(spec).expanduser()
    if path.exists():
        return (f"model {path.name}" if path.suffix.lower() == ".zip" else f"run {path.resolve().name}"), path
    return f"zoo entry {spec.strip('/')}", None


def roll_out(spec: str, which: str = "final") -> PolicyRollout:
    """Roll out the policy ``spec`` (a run directory - its ``which`` weights -, a model ``.zip`` or a zoo
    entry name such as ``imitation/ppo``) from the start of its first clip."""
    from sportsim import runs, zoo  # torch and SB3: imported only for policies

    label, path = policy_label(spec)
    if path is not None:
        location = runs.locate_model(path, which)
    else:
        entry = next((e for e in zoo.load_manifest() if e.name == spec.strip("/")), None)
        if entry is None:
            raise ConfigError(f"{spec}: no such file, run directory or zoo entry")
        location = zoo.locate(entry)
    loaded = runs.open_policy(location, "cpu")
    try:
        env_id = str(loaded.cfg.env.id)
        if env_id.rpartition("-")[0] != IMITATION_ID:
            raise ConfigError(f"{spec} is a policy for {env_id}; only {IMITATION_ID} policies move the humanoid")
        env = loaded.env
        sim = env.unwrapped
        obs, _ = env.reset(seed=0, options={"start_phase": 0.0, "clip": 0})
        feet = [sim.model.geom(f"{side}_foot").id for side in FEET]
        frames, contacts = [sim.data.qpos.copy()], [_foot_contacts(sim, feet)]
        for _ in range(sim.episode_steps):
            obs, _, terminated, truncated, _ = env.step(loaded.act(obs, True))
            frames.append(sim.data.qpos.copy())
            contacts.append(_foot_contacts(sim, feet))
            if terminated or truncated:
                break
        motion = motion_from_qpos(np.array(frames), sim.control_hz, sim.humanoid_height_m, sim.humanoid_mass_kg,
                                  sim.humanoid_sex, source=str(spec))
        phase = clip_phase(sim, loaded.cfg.env.get("kwargs", {}))
        return PolicyRollout(motion, phase, np.array(contacts), label, env_id, tuple(sim.track_notes))
    finally:
        loaded.close()


def _foot_contacts(sim: Any, feet: list[int]) -> list[bool]:
    pairs = sim.data.contact.geom[:sim.data.ncon]
    return [bool(np.any(pairs == g)) for g in feet]


def clip_phase(sim: Any, env_kwargs: Any) -> ClipPhase:
    """Where each step of ``sim``'s first track is on its clip's clock (module docstring)."""
    from sportsim.envs import imitation_params as ip
    from sportsim.mocap import load_clip

    motion_arg = env_kwargs.get("motion", "mocap/cmu_02_01_walk.bvh")
    entry = motion_arg if isinstance(motion_arg, str) else list(motion_arg)[0]
    reference = ip.resolve_motion_path(entry)
    track = sim.tracks[0]
    if reference.suffix.lower() == ".npz" and is_reference_motion(reference):
        offset_s = 0.0
    else:
        clip = load_clip(reference)
        start = env_kwargs.get("motion_start_frame")
        offset_s = (ip.calibration_frames(clip) if start is None else int(start)) / clip.fps
    first = 0
    if track.cyclic:
        loaded = ip.load_reference(reference, height_m=sim.humanoid_height_m, mass_kg=sim.humanoid_mass_kg,
                                   sex=sim.humanoid_sex, start_frame=env_kwargs.get("motion_start_frame"),
                                   end_frame=env_kwargs.get("motion_end_frame"),
                                   cache_dir=ip.default_cache_dir() if env_kwargs.get("motion_cache", True) else None,
                                   **({"body": sim.body} if hasattr(sim, "body") else {}))
        low = resample(loaded, sim.control_hz)
        distance = np.abs(low.qpos[:, 7:] - track.qpos[0, 7:]).max(axis=1)
        first = int(np.argmin(distance))
        if distance[first] > 1e-6:
            raise ConfigError(f"{reference.name}: could not find the env's looped cycle in the clip "
                              f"(closest pose {math.degrees(distance[first]):.1f} deg away)")
    return ClipPhase(reference, float(sim.control_hz), float(offset_s), first, int(track.period), bool(track.cyclic))


def policy_motion(spec: str, which: str = "final") -> tuple[ReferenceMotion, tuple[str, ...]]:
    """The rolled-out motion and the env's notes on its clip (:func:`roll_out`, for callers that need
    only the poses)."""
    rollout = roll_out(spec, which)
    return rollout.motion, rollout.notes


def motion_from_qpos(qpos: np.ndarray, fps: float, height_m: float, mass_kg: float, sex: str = "male",
                     source: str = "") -> ReferenceMotion:
    """A motion from humanoid qpos frames ``(T, 43)``: joint and end-effector positions by forward
    kinematics, qvel by central differences; no foot contacts or tracked source points."""
    model = humanoid.build_humanoid_model(height_m, mass_kg, sex)  # type: ignore[arg-type]
    if qpos.ndim != 2 or qpos.shape[1] != model.nq:
        raise ConfigError(f"{source}: expected humanoid poses of {model.nq} values, got shape {qpos.shape}")
    data = mujoco.MjData(model)
    positions = np.array([[point[name] for name in POINT_NAMES]
                          for point in (humanoid.kinematic_positions(model, q, data) for q in qpos)])
    n = len(qpos)
    qvel = np.zeros((n, model.nv))
    for k in range(n):
        lo, hi = max(k - 1, 0), min(k + 1, n - 1)
        if hi > lo:
            mujoco.mj_differentiatePos(model, qvel[k], (hi - lo) / fps, qpos[lo], qpos[hi])
    return ReferenceMotion(fps=fps, qpos=qpos, qvel=qvel, positions_m=positions,
                           foot_contacts=np.zeros((n, 2), dtype=bool), target_names=(),
                           target_positions_m=np.zeros((n, 0, 3)), height_m=height_m, mass_kg=mass_kg, sex=sex,
                           source=source, skeleton="policy", meta={"made_by": "sportsim.coach.rollout"})
