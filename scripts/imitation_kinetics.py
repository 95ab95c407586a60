"""Kinetics of an Imitation policy's frame-0 episode: per-physics-step CSV and the headline figures next to
walking norms, optionally at a second (smaller) physics step to show that the forces have converged.

    python scripts/imitation_kinetics.py <run dir | model .zip | zoo entry> [--which best]
        [--csv kinetics.csv] [--refine 4] [--clip 0] [--overwrite] [env.kwargs.KEY=VALUE ...]

The policy runs deterministically from frame 0 of its reference with ``kinetics=True`` (Imitation-v1;
the env's class docstring and :mod:`sportsim.kinetics` define every figure). ``--csv`` writes one row per
physics step (time, per-foot ground reaction force x/y/z in body weights raw and low-pass filtered, centre
of pressure, foot contact, the floor's force on each hand, every actuated dof's moment in N m/kg and power in W/kg), atomically and never
over an existing file unless ``--overwrite``. ``--refine N`` runs the episode again with the physics step
divided by N (same policy, same control rate) and prints how much each figure changed. Gait figures beside
the forces: stance slip of the simulated feet (median per complete stance, mm) and ankle plantarflexion at
push-off (deg; the reference's at its own toe-offs beside it). A skill with a flight phase (a jump) also
gets take-off and landing figures (:func:`sportsim.kinetics.jump_figures`: peak vertical force of both feet
and peak sagittal moments per phase). ``env.*=value`` settings change the policy's env first (as ``enjoy``
takes them), e.g. ``env.kwargs.integrator=discrete``. ``--clip N``: which clip of a multi-clip policy (the
walk+run: 0 the walk, 1 the run; default 0). The last line is one JSON object with everything printed.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from sportsim import humanoid, kinetics, runs
from sportsim.config import parse_env_overrides
from sportsim.mocap.retarget import foot_lowest_m, stance_slip_hover
from sportsim.errors import ConfigError, SportsimError
from sportsim.video import spans

# The acceptance bands (1.5x walking norms for the stride peaks of the moments, 3x for the positive
# work of Winter's joints; norms: sportsim.kinetics.WALKING_NORMS)
BANDS = {
    "grf_first_peak_bw": (0.95, 1.35), "grf_trough_bw": (0.55, 0.9), "grf_second_peak_bw": (0.95, 1.35),
    "stride_peak_hip_moment_nm_per_kg": (0.0, 2.0), "stride_peak_knee_moment_nm_per_kg": (0.0, 1.3),
    "stride_peak_ankle_moment_nm_per_kg": (0.0, 2.3), "stance_slip_mm": (0.0, 10.0),
    "positive_work_sagittal_legs_j_per_kg_m": (0.0, 2.91), "positive_work_sagittal_legs_filtered_j_per_kg_m": (0.0, 2.91),
    "ankle_plantarflexion_toe_off_deg": (8.0, 90.0),
}


def rollout(location: runs.ModelLocation, physics_dt_s: float | None,
            env_overrides: Sequence[Any] = (), clip: int = 0) -> tuple[dict[str, np.ndarray], float, float, dict]:
    """The frame-0 episode's kinetics series, its sample rate, the distance walked (m) and the last info
    (plus ``"gait"``: :func:`gait_figures` of the simulated walk and of the reference it tracked);
    ``env_overrides``: parsed ``env.*=value`` changes to the policy's env; ``clip``: which of its clips."""
    extra = {} if physics_dt_s is None else {"physics_dt_s": physics_dt_s}
    policy = runs.open_policy(location, rsi=False, kinetics=True, env_overrides=env_overrides, **extra)
    try:
        env = policy.env.unwrapped
        if not 0 <= clip < len(env.tracks):
            raise ConfigError(f"--clip {clip}: the policy's env has {len(env.tracks)} clip(s) "
                              f"({', '.join(t.name for t in env.tracks)})")
        obs, _ = policy.env.reset(seed=0, options={"clip": clip})
        start = env.data.qpos[0:2].copy()
        steps, info, qpos, contact = [], {}, [], []
        while True:
            obs, _, terminated, truncated, info = policy.env.step(policy.act(obs))
            steps.append(info["kinetics"])
            qpos.append(env.data.qpos.copy())
            contact.append(info["kinetics"]["foot_contact"][-1])
            if terminated or truncated:
                break
        sim_q, stance = np.array(qpos), np.array(contact, dtype=bool)
        distance = travelled_m(np.vstack([start, sim_q[:, 0:2]]), env.control_hz)
        reference_q = np.array(env.tracks[clip].qpos[1:len(qpos) + 1])
        # the reference's pivot slip over the simulated stances (what the policy was asked to hold still), its
        # push-off at its own toe-offs (a foot box's lowest corner within REFERENCE_CONTACT_M of the floor)
        reference_stance = foot_lowest_m(env.model, reference_q) < REFERENCE_CONTACT_M
        gait = gait_figures(env.model, sim_q, stance, env.control_hz)
        gait["reference_pivot_slip_mm"] = gait_figures(env.model, reference_q, stance, env.control_hz)["pivot_slip_mm"]
        gait["reference_ankle_plantarflexion_toe_off_deg"] = gait_figures(
            env.model, reference_q, reference_stance, env.control_hz)["ankle_plantarflexion_toe_off_deg"]
        info = {**info, "gait": gait}
        return kinetics.stack(steps), 1.0 / env.physics_dt_s, distance, info
    finally:
        policy.close()


PATH_SAMPLE_S = 1.0  # the distance travelled: the root's horizontal path sampled this often (about a stride)


def travelled_m(root_xy: np.ndarray, hz: float) -> float:
    """Distance travelled (m) by a root whose horizontal positions ``(T, 2)`` were sampled at ``hz``: the length
    of its path through one sample every :data:`PATH_SAMPLE_S` (and the last), so that the pelvis's sway within
    a stride does not count and a curving path is not cut short - the per-metre figures divide by it. (The
    straight line from start to end did: the SFU walk's looped cycle turns 38 deg, its 10 s walk is a circle
    back to within 1.2 m of its start, 8.6 m walked; DeepMimic's run covers 35.6 m for 33.4 m in a line.)"""
    every = max(1, int(round(PATH_SAMPLE_S * hz)))
    points = root_xy[::every]
    if (len(root_xy) - 1) % every:
        points = np.vstack([points, root_xy[-1:]])
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


def ankle_plantarflexion_deg(model: mujoco.MjModel, qpos: np.ndarray, side: str) -> np.ndarray:
    """``(T,)`` sagittal ankle angle (deg, + plantarflexion: rotation of the foot about the ankle's +y,
    :mod:`sportsim.coach.forces`' convention) of the ball joint ``<side>_ankle``, from its rotation matrix
    (``atan2(R[0, 2], R[2, 2])``: the foot's long axis against the shank in the sagittal plane)."""
    adr = model.jnt_qposadr[model.joint(f"{side}_ankle").id]
    out = np.empty(len(qpos))
    mat = np.empty(9)
    for t, q in enumerate(qpos):
        mujoco.mju_quat2Mat(mat, q[adr:adr + 4])
        out[t] = np.degrees(np.arctan2(mat[2], mat[8]))
    return out


REFERENCE_CONTACT_M = 0.01  # the reference's foot is on the floor when its lowest corner is this low
MIN_STANCE_S = 0.1  # a contact shorter than this (a swinging foot scuffing the floor) is not a stance
PUSH_OFF_WINDOW_S = (0.15, 0.05)  # push-off: the largest plantarflexion from this long before a toe-off to this after


def toe_offs(contact: np.ndarray, hz: float) -> np.ndarray:
    """Control steps at which a stance of at least :data:`MIN_STANCE_S` ends (its last step), of one foot's
    contact flags ``(T,)``: a brief touch of a swinging foot neither starts a stance nor ends one."""
    shortest = max(1, int(round(MIN_STANCE_S * hz)))
    return np.array([stop - 1 for start, stop in spans(contact) if stop - start >= shortest and stop < len(contact)],
                    dtype=int)


def gait_figures(model: mujoco.MjModel, qpos: np.ndarray, stance: np.ndarray, hz: float) -> dict[str, float]:
    """Pivot slip (median per complete stance, mm, :func:`sportsim.mocap.retarget.stance_slip_hover`'s
    pivot rule on control-step poses, both feet pooled by their medians - the measure the retargeted
    reference is held to; the simulated sole's slip on the floor is :func:`sportsim.kinetics.stance_slip_mm`)
    and ankle plantarflexion at push-off (the largest from 0.15 s before to 0.05 s after each toe-off,
    :data:`PUSH_OFF_WINDOW_S` - Winter's peak falls at toe-off; later, the swinging foot's own motion would
    count - median over toe-offs of stances of at least :data:`MIN_STANCE_S`, deg) of control-step poses
    ``qpos`` with foot contacts ``stance`` ``(T, 2)`` (right, left)."""
    slip = stance_slip_hover(model, qpos, stance)
    out = {"pivot_slip_mm": float(np.nanmedian([slip["right_slip_mm"], slip["left_slip_mm"]]))}
    before, after = (max(1, int(round(w * hz))) for w in PUSH_OFF_WINDOW_S)
    peaks = []
    for k, side in enumerate(("right", "left")):
        angle = ankle_plantarflexion_deg(model, qpos, side)
        peaks += [float(angle[max(0, t - before):t + after + 1].max()) for t in toe_offs(stance[:, k], hz) if t > 0]
    out["ankle_plantarflexion_toe_off_deg"] = float(np.median(peaks)) if peaks else float("nan")
    return out


def figures(series: dict[str, np.ndarray], rate_hz: float, distance_m: float) -> dict[str, float]:
    s = kinetics.summary(series, rate_hz, humanoid.ACTUATOR_NAMES, distance_m)
    s.update(kinetics.jump_figures(series, rate_hz, humanoid.ACTUATOR_NAMES))  # a skill with a flight phase
    hands = kinetics.hand_figures(series, rate_hz)  # a skill on the hands (per hand: the sides stay)
    out = {k: v for k, v in s.items() if not k.startswith(("right_", "left_"))}
    out.update(hands)
    for key in ("grf_first_peak_bw", "grf_trough_bw", "grf_second_peak_bw"):
        out[key] = float(np.nanmean([s[f"right_{key}"], s[f"left_{key}"]]))
        out[f"right_{key}"], out[f"left_{key}"] = s[f"right_{key}"], s[f"left_{key}"]
    out["stances"] = s["right_stances"] + s["left_stances"]
    out["distance_m"] = distance_m
    return out


def csv_bytes(series: dict[str, np.ndarray], rate_hz: float) -> bytes:
    grf_f = kinetics.lowpass(series["grf_bw"].reshape(len(series["grf_bw"]), -1), rate_hz)
    buf = io.StringIO()
    w = csv.writer(buf)
    header = ["time_s"]
    for side in ("right", "left"):
        header += [f"{side}_grf_{a}_bw" for a in "xyz"] + [f"{side}_grf_{a}_bw_filtered" for a in "xyz"]
        header += [f"{side}_cop_{a}_m" for a in "xyz"] + [f"{side}_contact"]
    for side in ("right", "left"):
        header += [f"{side}_hand_grf_{a}_bw" for a in "xyz"]
    header += [f"{n}_moment_nm_per_kg" for n in humanoid.ACTUATOR_NAMES]
    header += [f"{n}_power_w_per_kg" for n in humanoid.ACTUATOR_NAMES]
    w.writerow(header)
    for i in range(len(series["grf_bw"])):
        row = [f"{i / rate_hz:.5f}"]
        for k in range(2):
            row += [f"{v:.5f}" for v in series["grf_bw"][i, k]] + [f"{v:.5f}" for v in grf_f[i, 3 * k:3 * k + 3]]
            on = bool(series["foot_contact"][i, k])
            row += [f"{v:.5f}" if on else "" for v in series["cop_m"][i, k]]
            row.append(int(series["foot_contact"][i, k]))
        for k in range(2):
            row += [f"{v:.5f}" for v in series["hand_grf_bw"][i, k]]
        row += [f"{v:.5f}" for v in series["moment_nm_per_kg"][i]] + [f"{v:.5f}" for v in series["power_w_per_kg"][i]]
        w.writerow(row)
    return buf.getvalue().encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="run directory, model .zip or zoo entry folder")
    parser.add_argument("--which", default="best", choices=runs.MODEL_CHOICES)
    parser.add_argument("--csv", type=Path, default=None, help="write the per-physics-step series here")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--refine", type=int, default=0, help="also run at physics step / N and compare")
    parser.add_argument("--clip", type=int, default=0, help="which clip of a multi-clip policy (default 0)")
    parser.add_argument("env_overrides", nargs="*", metavar="env.KEY=VALUE",
                        help="change the policy's env first, e.g. env.kwargs.integrator=discrete")
    args = parser.parse_intermixed_args(argv)  # env.* settings before or after the options
    try:
        overrides = parse_env_overrides(args.env_overrides)
        location = runs.locate_model(args.model, args.which)
        series, rate, distance, info = rollout(location, None, overrides, args.clip)
        result = {"model": str(location.model_file), "clip": args.clip, "physics_rate_hz": rate, "fall": info.get("fall"),
                  "episode_s": info.get("time_s"), "mpjpe_mm": info.get("mpjpe_mm"),
                  "figures": {**figures(series, rate, distance), **info["gait"]}}
        if args.csv is not None:
            if args.csv.exists() and not args.overwrite:
                raise ConfigError(f"{args.csv} exists; pass --overwrite to replace it")
            data = csv_bytes(series, rate)
            try:
                runs.atomic_write(args.csv, lambda f: f.write(data))
            except OSError as exc:
                raise ConfigError(f"cannot write {args.csv}: {exc.strerror or exc}") from None
            result["csv"] = str(args.csv)
        if args.refine > 1:
            fine, fine_rate, fine_distance, fine_info = rollout(location, 1.0 / (rate * args.refine), overrides,
                                                                args.clip)
            result["refined"] = {"physics_rate_hz": fine_rate, "fall": fine_info.get("fall"),
                                 "figures": {**figures(fine, fine_rate, fine_distance), **fine_info["gait"]}}
    except SportsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    fig = result["figures"]
    print(f"{location.model_file}: {result['episode_s']:.2f} s, fall: {result['fall']}, "
          f"{fig['stances']} complete stances, {fig['distance_m']:.2f} m, filtered at {kinetics.GRF_CUTOFF_HZ:g} Hz")
    for key, value in fig.items():
        band = BANDS.get(key)
        norm = kinetics.WALKING_NORMS.get(key)
        note = (f"  (walking {norm:g}" if norm is not None else "  (") + (f"; band {band[0]:g}-{band[1]:g})" if band else ")")
        note = "" if note == "  ()" else note
        line = f"  {key:40s} {value:9.3f}{note}"
        if "refined" in result and isinstance(result["refined"]["figures"].get(key), float) and value:
            fine = result["refined"]["figures"][key]
            line += f"   at 1/{result['refined']['physics_rate_hz']:.0f} s: {fine:9.3f} ({100 * (fine - value) / abs(value):+.1f} %)"
        print(line)
    print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
