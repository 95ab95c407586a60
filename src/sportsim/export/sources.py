"""What an export starts from: a motion file made into the humanoid's motion, or a policy rolled out once
(see :mod:`sportsim.export`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sportsim import resolve
from sportsim.errors import ConfigError, MocapError
from sportsim.export.formats import ExportMotion

IMITATION_PREFIX = "sportsim/Imitation-"


@dataclass
class Loaded:
    """The motion to export and, for a policy source, the loaded policy and the observations it saw."""

    motion: ExportMotion
    policy: Any = None  # sportsim.runs.LoadedPolicy
    observations: list[np.ndarray] = field(default_factory=list)

    def close(self) -> None:
        if self.policy is not None:
            self.policy.close()


def load(spec: str | os.PathLike[str], *, which: str | None, episode_time_s: float | None, engine: str | None,
         seed: int, keep_policy: bool, kinetics: bool = True,
         mapping: str | os.PathLike[str] | None = None) -> Loaded:
    """The motion named by ``spec``: a reference ``.npz``, a capture file or a policy (``kinetics``: a
    policy's rollout measures ground reaction forces, where its env can; ``mapping``: a capture's
    skeleton mapping, :func:`sportsim.envs.imitation_params.load_reference`)."""
    text = os.fspath(spec)
    if text.startswith("deepmimic:"):  # DeepMimic's motions as pybullet ships them
        from sportsim.envs import imitation_params as ip  # noqa: PLC0415

        return Loaded(_from_capture(ip.resolve_motion_path(text), mapping))
    path = Path(text).expanduser()
    if path.suffix.lower() == ".npz" and path.is_file():
        reference = _reference_npz(path)
        if reference is not None:
            if mapping is not None:
                raise ConfigError(f"mapping={mapping}: {path} is a reference motion, already on the humanoid")
            return Loaded(_from_reference(reference, f"reference motion {path}"))
    found = resolve.policy_or_capture(text, which)
    if isinstance(found, Path):
        if engine not in (None, "mujoco"):
            raise ConfigError(f"engine={engine}: a motion file is exported as it is; engines run policies")
        return Loaded(_from_capture(found, mapping))
    if mapping is not None:
        raise ConfigError(f"mapping={mapping}: a skeleton mapping reads capture files; {text} is a policy "
                          "(its run's config names its motion and mapping)")
    return _rollout(found, episode_time_s=episode_time_s, engine=engine, seed=seed, keep_policy=keep_policy,
                    kinetics=kinetics)


def _reference_npz(path: Path):
    """A reference motion ``.npz`` (``python -m sportsim.mocap convert``), or None for another .npz."""
    from sportsim.mocap.reference_motion import ReferenceMotion  # noqa: PLC0415

    with np.load(path, allow_pickle=False) as npz:
        if "qpos" not in npz.files:
            return None  # a clip .npz: a capture
    return ReferenceMotion.load_npz(path)


def _humanoid_model(height_m: float, mass_kg: float, sex: str):
    from sportsim import humanoid  # noqa: PLC0415

    return humanoid.build_humanoid_model(height_m, mass_kg, sex)  # type: ignore[arg-type]


def _from_reference(reference, source: str) -> ExportMotion:
    model = _humanoid_model(reference.height_m, reference.mass_kg, reference.sex)
    qpos = np.asarray(reference.qpos, dtype=float)
    if qpos.shape[1] != model.nq:
        raise ConfigError(f"{source}: poses of {qpos.shape[1]} values, the humanoid has {model.nq}")
    notes = [f"source: {source}", f"humanoid: {reference.height_m:.3f} m, {reference.mass_kg:.1f} kg, {reference.sex}"]
    return ExportMotion(model, qpos, float(reference.fps), source, notes=notes)


def _from_capture(path: Path, mapping: str | os.PathLike[str] | None = None) -> ExportMotion:
    """A capture retargeted onto the humanoid as Imitation-v0 does (performer's size, motion cache)."""
    from sportsim.envs import imitation_params as ip  # noqa: PLC0415

    try:
        reference = ip.load_reference(path.resolve(), height_m=None, mass_kg=None, sex="male", start_frame=None,
                                      end_frame=None, cache_dir=ip.default_cache_dir(), mapping=mapping)
    except MocapError as exc:
        raise ConfigError(str(exc)) from None
    return _from_reference(reference, f"capture {path} retargeted onto the sportsim humanoid")


def _env_kwargs(env_id: str, engine: str | None, episode_time_s: float | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"rsi": False}
    if episode_time_s is not None:
        if not episode_time_s > 0:
            raise ConfigError(f"episode_time_s must be > 0, got {episode_time_s}")
        kwargs["episode_time_s"] = float(episode_time_s)
    if engine not in (None, "mujoco"):
        kwargs["engine"] = engine
    return kwargs


def _open(location, kwargs: dict[str, Any], kinetics: bool):
    """The policy with its env - with the env's ``kinetics`` measurement when asked for and the env
    offers it. An MLP policy is evaluated with NumPy (:mod:`sportsim.export.mlp`: no torch, no SB3),
    any other through SB3."""
    from sportsim import runs  # noqa: PLC0415
    from sportsim.export import mlp  # noqa: PLC0415

    def open_policy(**extra):
        return mlp.open_policy(location, **kwargs, **extra) or runs.open_policy(location, **kwargs, **extra)

    if kinetics:
        try:
            return open_policy(kinetics=True), True
        except ConfigError as exc:
            if "kinetics" not in str(exc):
                raise
    return open_policy(), False


def _rollout(ref, *, episode_time_s: float | None, engine: str | None, seed: int, keep_policy: bool,
             kinetics: bool = True) -> Loaded:
    """Roll out the policy once on its reference clip, from the start, with deterministic actions
    (``kinetics``: measure ground reaction forces, where the env can)."""
    from sportsim import runs  # noqa: PLC0415

    cfg = runs.load_config(ref.location.run_dir)
    env_id = str(cfg.env.id)
    if not env_id.startswith(IMITATION_PREFIX):
        raise ConfigError(f"{ref.spec} is a policy for {env_id}; only sportsim/Imitation policies move the "
                          f"humanoid (ONNX export of it alone: not supported yet)")
    policy, with_kinetics = _open(ref.location, _env_kwargs(env_id, engine, episode_time_s), kinetics)
    try:
        env, sim = policy.env, policy.env.unwrapped
        obs, _ = env.reset(seed=seed, options={"start_phase": 0.0, "clip": 0})
        frames, observations, grf, cop = [sim.data.qpos.copy()], [obs], [], []
        weight_n = sim.humanoid_mass_kg * float(np.linalg.norm(sim.model.opt.gravity))
        end = "the time limit"
        for _ in range(sim.episode_steps):
            obs, _, terminated, truncated, info = env.step(policy.act(obs, True))
            frames.append(sim.data.qpos.copy())
            observations.append(obs)
            if with_kinetics and "kinetics" in info:
                grf.append(info["kinetics"]["grf_bw"][-1] * weight_n)
                cop.append(info["kinetics"]["cop_m"][-1])
            if terminated or truncated:
                end = f"a fall ({info.get('fall')})" if info.get("fall") else "the end of the clip" \
                    if info.get("motion_ended") else "the time limit"
                break
    except BaseException:
        policy.close()
        raise
    engine_name = getattr(getattr(sim, "engine", None), "name", engine or "mujoco")
    notes = [f"source: {ref.describe()} rolled out on {', '.join(sim.track_notes)}",
             f"engine: {engine_name}; {len(frames) - 1} control steps at {sim.control_hz:g} Hz until {end}",
             f"humanoid: {sim.humanoid_height_m:.3f} m, {sim.humanoid_mass_kg:.1f} kg, {sim.humanoid_sex}"]
    motion = ExportMotion(sim.model, np.array(frames), float(sim.control_hz), ref.describe(), notes=notes)
    if grf:  # no forces were measured before the first step: its frame repeats the first measurement
        motion.grf_n = np.array([grf[0], *grf])
        motion.cop_m = np.array([cop[0], *cop])
        motion.notes.append("ground reaction forces: the env's kinetics (last physics step of each control step)")
    elif not kinetics:
        motion.notes.append("no ground reaction forces: no output format asked for them")
    else:
        motion.notes.append("no ground reaction forces: the env does not measure kinetics")
    if not keep_policy:
        policy.close()
        policy = None
    return Loaded(motion, policy, observations)
