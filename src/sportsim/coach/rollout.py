"""A trained imitation policy as a movement: roll it out once on its reference clip and keep the
simulated humanoid's pose per control step as a :class:`~sportsim.mocap.retarget.ReferenceMotion`.

Only policies of ``sportsim/Imitation-v0`` move the sportsim humanoid; their env is made from the run's
own config (its ``motion`` is the reference clip), reset to the start of its first clip, and stepped with
deterministic actions until the episode ends (a fall, the clip's end or the time limit).
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from sportsim import humanoid
from sportsim.errors import ConfigError
from sportsim.mocap.retarget import POINT_NAMES, ReferenceMotion

IMITATION_ID = "sportsim/Imitation-v0"


def policy_motion(spec: str, which: str = "final") -> tuple[ReferenceMotion, tuple[str, ...]]:
    """Roll out the policy ``spec`` (a run directory - its ``which`` weights -, a model ``.zip`` or a zoo
    entry name such as ``imitation/ppo``); return the motion and the env's notes on its clip."""
    from sportsim import runs, zoo  # torch and SB3: imported only for policies

    path = Path(spec).expanduser()
    if path.exists():
        location = runs.locate_model(path, which)
    else:
        entry = next((e for e in zoo.load_manifest() if e.name == spec.strip("/")), None)
        if entry is None:
            raise ConfigError(f"{spec}: no such file, run directory or zoo entry")
        location = zoo.locate(entry)
    loaded = runs.open_policy(location, "cpu")
    try:
        env_id = str(loaded.cfg.env.id)
        if env_id != IMITATION_ID:
            raise ConfigError(f"{spec} is a policy for {env_id}; only {IMITATION_ID} policies move the humanoid")
        env = loaded.env
        sim = env.unwrapped
        obs, _ = env.reset(seed=0, options={"start_phase": 0.0, "clip": 0})
        frames = [sim.data.qpos.copy()]
        for _ in range(sim.episode_steps):
            obs, _, terminated, truncated, _ = env.step(loaded.act(obs, True))
            frames.append(sim.data.qpos.copy())
            if terminated or truncated:
                break
        motion = motion_from_qpos(np.array(frames), sim.control_hz, sim.humanoid_height_m, sim.humanoid_mass_kg,
                                  sim.humanoid_sex, source=str(spec))
        return motion, tuple(sim.track_notes)
    finally:
        loaded.close()


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
