"""A trained imitation policy as a movement: roll it out once on its reference clip and keep, per control
step, the simulated humanoid's pose (a :class:`~sportsim.mocap.reference_motion.ReferenceMotion`), where in its
reference clip the policy was (its phase, as a time on the clip's own clock), which feet touched the
floor, and its kinetics (the env's ``kinetics=True`` probe, :mod:`sportsim.kinetics`).

Only policies of ``sportsim/Imitation`` (any version) move the sportsim humanoid; their env is made from the run's
own config (its ``motion`` is the reference clip), reset to the start of its first clip, and stepped with
deterministic actions until the episode ends (a fall, the clip's end or the time limit).

Pairing with the clip: the env tracks, at each step, a reference pose from its clip (a looped cycle,
a window, stands held before and after); :meth:`ClipPhase.clip_frames` finds, for each step, the frame
of the capture (retargeted as the env retargets it) with that pose - the clip frame the policy was
imitating - without re-implementing how the env builds its track.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sportsim import humanoid, resolve
from sportsim import kinetics as kin
from sportsim.errors import ConfigError
from sportsim.mocap.reference_motion import POINT_NAMES, ReferenceMotion
from sportsim.resolve import PolicyRef

IMITATION_ID = "sportsim/Imitation"  # any version: v0, v1, ...
FEET = ("right", "left")  # column order of contact flags (as ReferenceMotion.foot_contacts)


@dataclass(frozen=True)
class ClipPhase:
    """Where a policy is in its reference clip: ``reference`` (the clip file, resolved), the env's
    reference pose at every rollout step (``qpos`` ``(T, nq)``: what the policy was imitating at that
    step, stands and loops included), ``hz`` (the control rate), and whether the env loops a cycle of
    ``period`` steps (``cyclic``)."""

    reference: Path
    hz: float
    cyclic: bool
    period: int
    qpos: np.ndarray

    @property
    def period_s(self) -> float:
        return self.period / self.hz

    def clip_frames(self, clip: ReferenceMotion, rollout_times_s: np.ndarray) -> tuple[np.ndarray, float]:
        """For each rollout time, the frame of ``clip`` (the same capture, retargeted as the env did) whose
        pose is the env's reference at that step: the nearest by the largest joint rotation difference
        (every ball joint and hinge; root excluded: a loop carries position and heading on). Returns the
        frames and the worst of those differences (deg) - a frame's worth of motion at most when ``clip``
        is the clip the policy imitated."""
        steps = np.clip(np.round(np.asarray(rollout_times_s) * self.hz).astype(int), 0, len(self.qpos) - 1)
        distance = _pose_distance_rad(self.qpos[steps], clip.qpos)  # (K, F)
        frames = np.argmin(distance, axis=1)
        return frames, float(np.degrees(distance[np.arange(len(frames)), frames].max()))


def _pose_distance_rad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))``: the largest rotation difference over the joints (balls and hinges) between
    humanoid poses ``a`` and ``b`` (qpos rows)."""
    out = np.zeros((len(a), len(b)))
    for joint in humanoid.JOINTS[1:]:
        adr = humanoid.qpos_address(joint.name)
        if joint.type == "ball":
            dot = np.abs(a[:, adr:adr + 4] @ b[:, adr:adr + 4].T)
            diff = 2.0 * np.arccos(np.clip(dot, 0.0, 1.0))
        else:
            diff = np.abs(a[:, adr][:, None] - b[:, adr][None, :])
        out = np.maximum(out, diff)
    return out


@dataclass(frozen=True)
class PolicyRollout:
    """One deterministic episode: ``motion`` (the simulated humanoid per control step), ``phase`` (its
    reference clip and where in it each step was), ``contacts`` ``(T, 2)`` (right, left foot on the floor
    at the end of each step), ``notes`` (the env's notes on its clip), ``label`` (what the policy is:
    "zoo entry imitation/walk/ppo", "run <folder>", "model <file>"), ``env_id`` (the env it was trained on),
    ``kinetics`` (:func:`sportsim.kinetics.stack` of the env's ``info["kinetics"]`` - ground reaction
    forces, joint moments and powers at every physics step, unfiltered - plus ``rate_hz``, that rate; the
    sample i is the end of physics step i + 1 of the rollout), ``reference_options`` (how its env retargets
    a capture into its reference: :func:`sportsim.mocap.retarget.retarget`'s ``plant_feet`` and
    ``anatomical_ranges``, both on for the v1 "human" body, off for v0's DeepMimic body)."""

    motion: ReferenceMotion
    phase: ClipPhase
    contacts: np.ndarray
    label: str
    env_id: str
    notes: tuple[str, ...] = ()
    kinetics: dict[str, np.ndarray] = field(default_factory=dict)
    reference_options: dict[str, bool] = field(default_factory=lambda: {"plant_feet": False, "anatomical_ranges": False})


def policy_label(ref: PolicyRef) -> str:
    """What a resolved policy is, for labels: "zoo entry <name>", "model <file>" or "run <folder>"."""
    if ref.entry is not None:
        return f"zoo entry {ref.entry.name}"
    if Path(ref.spec).suffix.lower() == ".zip":
        return f"model {Path(ref.spec).name}"
    return f"run {ref.location.run_dir.resolve().name}"


def roll_out(spec: str | PolicyRef, which: str | None = None) -> PolicyRollout:
    """Roll out the policy ``spec`` (any name :func:`sportsim.resolve.policy` takes - ``zoo:<entry>``, a
    run directory with its ``which`` weights, a model ``.zip`` - or a resolved :class:`PolicyRef`) from
    the start of its first clip."""
    from sportsim import runs  # torch and SB3: imported only for policies

    ref = spec if isinstance(spec, PolicyRef) else resolve.policy(spec, which)
    location, label = ref.location, policy_label(ref)
    env_id = str(runs.load_config(location.run_dir).env.id)
    if env_id.rpartition("-")[0] != IMITATION_ID:
        raise ConfigError(f"{ref.spec} is a policy for {env_id}; only {IMITATION_ID} policies move the humanoid")
    loaded = runs.open_policy(location, "cpu", kinetics=True)
    try:
        env = loaded.env
        sim = env.unwrapped
        obs, _ = env.reset(seed=0, options={"start_phase": 0.0, "clip": 0})
        feet = [sim.model.geom(f"{side}_foot").id for side in FEET]
        frames, contacts, forces = [sim.data.qpos.copy()], [_foot_contacts(sim, feet)], []
        for _ in range(sim.episode_steps):
            obs, _, terminated, truncated, info = env.step(loaded.act(obs, True))
            frames.append(sim.data.qpos.copy())
            contacts.append(_foot_contacts(sim, feet))
            forces.append(info["kinetics"])
            if terminated or truncated:
                break
        motion = motion_from_qpos(np.array(frames), sim.control_hz, sim.humanoid_height_m, sim.humanoid_mass_kg,
                                  sim.humanoid_sex, source=ref.spec)
        phase = clip_phase(sim, loaded.cfg.env.get("kwargs", {}), len(frames))
        kinetics = {**kin.stack(forces), "rate_hz": np.array(1.0 / sim.physics_dt_s)} if forces else {}
        human = getattr(sim, "body", "deepmimic") == "human"
        return PolicyRollout(motion, phase, np.array(contacts), label, env_id, tuple(sim.track_notes), kinetics,
                             {"plant_feet": human, "anatomical_ranges": human})
    finally:
        loaded.close()


def _foot_contacts(sim: Any, feet: list[int]) -> list[bool]:
    pairs = sim.data.contact.geom[:sim.data.ncon]
    return [bool(np.any(pairs == g)) for g in feet]


def clip_phase(sim: Any, env_kwargs: Any, steps: int) -> ClipPhase:
    """The env's reference clip (the ``motion`` argument, else its task's clip, else the default skill's)
    and its reference pose for rollout steps ``0 .. steps - 1`` (the episode started at step 0)."""
    from sportsim.envs import imitation_params as ip

    motion_arg = env_kwargs.get("motion")
    if motion_arg is None:
        skill = getattr(ip, "skill", lambda _: None)(env_kwargs.get("task"))
        skills = getattr(ip, "SKILLS", {})
        motion_arg = skill.motion if skill is not None else (skills[ip.DEFAULT_SKILL].motion if skills else
                                                             inspect.signature(type(sim).__init__).parameters["motion"].default)
    entry = motion_arg if isinstance(motion_arg, (str, os.PathLike)) else list(motion_arg)[0]
    track = sim.tracks[0]
    return ClipPhase(ip.resolve_motion_path(entry), float(sim.control_hz), bool(track.cyclic), int(track.period),
                     np.array(track.qpos[:steps]))


def policy_motion(spec: str, which: str | None = None) -> tuple[ReferenceMotion, tuple[str, ...]]:
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
