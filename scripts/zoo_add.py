"""Add a finished training run to the zoo: copy it, evaluate it on 100 episodes, write its card.

    python scripts/zoo_add.py <run dir> zoo/<env>[/<task>]/<algo> --command "python -m sportsim.train ..."

Copies ``config.yaml`` (exactly as trained), ``final/``, ``best/``, ``evaluations.npz`` and ``tb/``
(checkpoints are left out), then writes ``evaluation.json`` (100 deterministic episodes on seeds no
training or evaluation run used), ``learning_curve.png`` and ``card.md`` with the command, seed, steps,
training wall time, figures and file hashes, and rewrites ``zoo/manifest.json`` (the zoo root is the
first folder above the destination that holds a manifest, else ``--zoo-root``). ``--note notes.md`` adds
a section to the card (a run's training history, further evaluations). An existing destination is never
overwritten.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from sportsim import runs, zoo  # noqa: E402
from sportsim.evaluation import evaluate  # noqa: E402

COPIED = ("config.yaml", "final", "best", "evaluations.npz", "tb")


def learning_curve(evaluations: Path, out: Path, title: str) -> None:
    with np.load(evaluations, allow_pickle=False) as data:
        steps, returns = data["timesteps"], data["results"]
        success = data["successes"].mean(axis=1) if "successes" in data.files else None
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    ax.plot(steps, returns.mean(axis=1), color="tab:blue", label="mean evaluation return")
    ax.fill_between(steps, returns.min(axis=1), returns.max(axis=1), color="tab:blue", alpha=0.2)
    ax.set_xlabel("training timesteps")
    ax.set_ylabel("return", color="tab:blue")
    if success is not None:
        ax2 = ax.twinx()
        ax2.plot(steps, 100 * success, color="tab:green", label="success rate")
        ax2.set_ylabel("success (%)", color="tab:green")
        ax2.set_ylim(-5, 105)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _seconds(value: float | None) -> str:
    return "no success" if value is None else f"{value:.2f} s"


def _episode_figures(figures: dict) -> str:
    """Card rows for the per-episode figures the env reports (longest hold, circles, hand force...)."""
    rows = []
    for key in sorted(k[: -len("_median")] for k in figures if k.endswith("_median")):
        rows.append(f"| {key} (median / min / max over episodes) | {figures[key + '_median']:.3g} / "
                    f"{figures[key + '_min']:.3g} / {figures[key + '_max']:.3g} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--command", required=True, help="the exact training command that produced the run")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--model", choices=("final", "best"), default="final",
                        help="the policy the entry offers: the final weights or the best by evaluation")
    parser.add_argument("--zoo-root", type=Path, default=None, help="the zoo folder (default: found above dest)")
    parser.add_argument("--note", type=Path, default=None,
                        help="a Markdown file added to the card before its Hyperparameters section (training "
                             "history of a run continued from others, evaluations beyond the env's own)")
    args = parser.parse_args()
    root = args.zoo_root or next((p for p in args.dest.resolve().parents if (p / zoo.MANIFEST_FILE).is_file()), None)
    if root is None:
        sys.exit(f"sportsim: no {zoo.MANIFEST_FILE} above {args.dest}; pass --zoo-root")

    if args.note is not None and not args.note.is_file():
        sys.exit(f"sportsim: --note {args.note}: no such file")
    note = args.note.read_text(encoding="utf-8").strip() + "\n\n" if args.note is not None else ""
    if args.dest.exists():
        sys.exit(f"sportsim: {args.dest} already exists; remove it first if you mean to replace it")
    final = runs.read_manifest(args.run_dir / runs.FINAL_DIR)  # complete and hash-checked
    chosen_dir = runs.FINAL_DIR if args.model == "final" else runs.BEST_DIR
    chosen = runs.read_manifest(args.run_dir / chosen_dir)
    args.dest.mkdir(parents=True)
    for name in COPIED:
        source = args.run_dir / name
        if source.is_dir():
            shutil.copytree(source, args.dest / name)
        elif source.is_file():
            shutil.copy2(source, args.dest / name)

    cfg = OmegaConf.load(args.dest / "config.yaml")
    figures = evaluate(runs.locate_model(args.dest, args.model), args.episodes)
    figures["path"] = f"{chosen_dir}/{runs.MODEL_FILE}"  # relative to the zoo entry
    (args.dest / "evaluation.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    title = f"{cfg.env.id} - {cfg.algo.name.upper()} seed {cfg.seed}"
    learning_curve(args.dest / "evaluations.npz", args.dest / "learning_curve.png", title)

    wall = final["extra"].get("train_wall_s")
    hashes = "\n".join(f"| `{chosen_dir}/{name}` | {meta['bytes']} | `{meta['sha256']}` |"
                       for name, meta in chosen["files"].items())
    which = ("the final weights" if args.model == "final" else
             f"the best weights by evaluation during training (`best/`, saved at step {chosen['num_timesteps']}; "
             f"the final weights are in `final/`)")
    record_arg = "" if args.model == "final" else " model=best"
    algo = OmegaConf.to_yaml(cfg.algo).strip()
    card = f"""# {title}

Trained by the project's own command on {platform.machine()} CPUs:

```bash
{args.command}
```

| | |
|---|---|
| env | `{cfg.env.id}`, kwargs `{OmegaConf.to_container(cfg.env.kwargs)}` |
| algorithm | {cfg.algo.name.upper()} (stable-baselines3), `n_envs={cfg.n_envs}`, observation normalisation: {cfg.normalize.obs} |
| seed | {cfg.seed} |
| training steps | {final['num_timesteps']} |
| training wall time | {f'{wall:.0f} s' if wall is not None else 'not recorded'} |
| policy | {which} |
| evaluation | {figures['episodes']} episodes, deterministic, seeds {figures['first_seed']}..{figures['first_seed'] + figures['episodes'] - 1} |
| success rate | {figures['success_rate']:.0%} |
| return | {figures['mean_return']:.2f} +- {figures['std_return']:.2f} |
| falls | {figures['falls']} |
| median time to success | {_seconds(figures['median_time_to_success_s'])} |
{_episode_figures(figures)}

![learning curve](learning_curve.png)

Evaluation during training (`evaluations.npz`, {cfg.n_eval_episodes} episodes every {cfg.eval_freq} steps) is
plotted above; `tb/` holds the TensorBoard logs, `config.yaml` the full resolved configuration.

Watch it: `python -m sportsim.enjoy env={cfg.env.name}{f" task={cfg.task}" if cfg.get("task") else ""} algo={cfg.algo.name} video=true`
(hash-checked, 10 episodes, an MP4 under `videos/`), or `python -m sportsim.record {args.dest}{record_arg}`.

{note}## Hyperparameters

```yaml
{algo}
```

## Files

| file | bytes | SHA-256 |
|---|---|---|
{hashes}

Weights are loaded with `set_parameters` into a policy built from `config.yaml`; nothing is unpickled.
"""
    (args.dest / "card.md").write_text(card, encoding="utf-8")
    print(json.dumps(figures, indent=2))
    print(f"sportsim: updated {zoo.write_manifest(root)}")


if __name__ == "__main__":
    main()
