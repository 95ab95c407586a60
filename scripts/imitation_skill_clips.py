"""Check the clips of Imitation's skills before training on them: retargeting and a zero-action run.

    python scripts/imitation_skill_clips.py [jump kick ...] [--episodes 20] [--seed 0] [--body human|deepmimic]
                                            [--json out.json]

For every skill (``task``; default: all of :data:`sportsim.envs.imitation_params.SKILLS`) builds the env
as ``task=<skill>`` does (Imitation-v1's human body by default) and prints

* how the track was made (loop / played once, stands) and its length;
* the validation of the retargeted reference (:func:`sportsim.mocap.validate.validate`): stance slip and
  floating, foot penetration, joint-limit violations and anatomical range clamps, retarget error, spikes;
* ``--episodes`` zero-action episodes from random phases plus one from frame 0 (the PD servos alone track
  the reference): mean episode length, the fraction of each episode's stretch completed, how episodes
  ended (fall by contact / tracking error / end of clip / time limit), MPJPE, and whether any observation
  or reward was not finite.

The last line is everything as one JSON object (also written to ``--json``, never over an existing file).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from sportsim import runs
from sportsim.cli import run_cli
from sportsim.envs import imitation_params as ip
from sportsim.envs.imitation import ImitationEnv
from sportsim.errors import ConfigError
from sportsim.mocap.validate import validate

ZERO = np.zeros(28, dtype=np.float32)


def zero_action_episodes(env: ImitationEnv, episodes: int, seed: int) -> dict:
    """``episodes`` random-phase zero-action episodes and one from frame 0."""
    ends: Counter[str] = Counter()
    lengths, fractions, mpjpe, finite = [], [], [], True
    for i in range(episodes + 1):
        options = {"start_phase": 0.0} if i == episodes else None
        obs, _ = env.reset(seed=seed + i, options=options)
        finite &= bool(np.isfinite(obs).all())
        steps, errors = 0, []
        while True:
            obs, reward, terminated, truncated, info = env.step(ZERO)
            steps += 1
            errors.append(info["mpjpe_mm"])
            finite &= bool(np.isfinite(obs).all() and math.isfinite(reward))
            if terminated or truncated:
                break
        end = info["fall"] or ("clip end" if info["motion_ended"] else "time limit")
        if i == episodes:
            frame0 = {"steps": steps, "end": end, "clip_fraction_completed": info["clip_fraction_completed"],
                      "mpjpe_mm": float(np.mean(errors))}
        else:
            ends[end] += 1
            lengths.append(steps)
            fractions.append(info["clip_fraction_completed"])
            mpjpe.append(float(np.mean(errors)))
    return {"episodes": episodes, "mean_steps": float(np.mean(lengths)),
            "mean_clip_fraction_completed": float(np.mean(fractions)), "ends": dict(ends),
            "mpjpe_mm": float(np.mean(mpjpe)), "frame0": frame0, "all_finite": finite}


def check_skill(name: str, body: str, episodes: int, seed: int) -> dict:
    skill = ip.skill(name)
    assert skill is not None
    env = ImitationEnv(task=name, body=body)
    clips = []
    files = (skill.motion,) if isinstance(skill.motion, str) else skill.motion
    for i, (file, track) in enumerate(zip(files, env.tracks)):
        # as the env: the first clip at its performer's size, the others retargeted to that humanoid
        motion = ip.load_reference(ip.resolve_motion_path(file), height_m=None if i == 0 else env.humanoid_height_m,
                                   mass_kg=None if i == 0 else env.humanoid_mass_kg, sex="male",
                                   start_frame=skill.start_frame, end_frame=skill.end_frame,
                                   cache_dir=ip.default_cache_dir(), body=body)
        report = validate(motion, allow_lying=True)
        clips.append({"motion": file, "notes": track.notes, "steps": int(track.period),
                      "duration_s": track.period / env.control_hz,
                      "validation": {row.check: {"value": row.value, "status": row.status} for row in report.rows},
                      "validation_summary": report.summary()})
    return {"skill": name, "source": skill.source, "body": body, "humanoid_height_m": env.humanoid_height_m,
            "clips": clips, "zero_action": zero_action_episodes(env, episodes, seed)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("skills", nargs="*", default=list(ip.SKILLS), help="skills (default: all)")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--body", default="human", choices=("human", "deepmimic"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.json is not None and args.json.exists():
        raise ConfigError(f"--json {args.json}: the file exists (not overwritten); choose another name")
    results = []
    for name in args.skills:
        r = check_skill(name, args.body, args.episodes, args.seed)
        results.append(r)
        z = r["zero_action"]
        for clip in r["clips"]:
            print(f"== {name}: {clip['motion']} - {clip['notes']}; {clip['steps']} steps ({clip['duration_s']:.2f} s), "
                  f"humanoid {r['humanoid_height_m']:.3f} m")
            for check, row in clip["validation"].items():
                print(f"   {check:<22} {row['value']}  [{row['status']}]")
            print(f"   validation: {clip['validation_summary']}")
        print(f"   zero action, {z['episodes']} random-phase episodes: {z['mean_steps']:.1f} steps, "
              f"{100 * z['mean_clip_fraction_completed']:.0f} % of the stretch, ends {z['ends']}, MPJPE "
              f"{z['mpjpe_mm']:.0f} mm; frame 0: {z['frame0']['steps']} steps ({z['frame0']['end']}); "
              f"all finite: {z['all_finite']}")
    text = json.dumps({"skills": results})
    if args.json is not None:
        runs.atomic_write(args.json, lambda f: f.write((text + "\n").encode()))
    print(text)
    return 0


if __name__ == "__main__":
    run_cli(main)
