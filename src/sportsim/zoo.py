"""The zoo of trained policies: one manifest, hash-checked entries, and the choice of the best entry.

``zoo/manifest.json`` lists every entry (a folder ``zoo/<env>[/<task>]/<algo>/`` made by
``scripts/zoo_add.py``): env id, task, algorithm, the offered weights (final or best), seed, training
steps and wall time, the measured evaluation and the SHA-256 of every file in the entry. Entries are
used only after their files match the manifest, and their weights are read without unpickling
(:func:`sportsim.runs.load_parameters`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sportsim import runs
from sportsim.errors import ConfigError, ModelFileError
from sportsim.fileio import sha256_file
from sportsim.paths import zoo_dir

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1
EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class ZooEntry:
    name: str  # the entry's folder relative to the zoo root, e.g. "halfpipe/ppo"
    env: str  # env config name (env=<name> on the command line)
    env_id: str
    task: str | None
    algo: str
    model: str  # "final" or "best": the weights the entry offers
    seed: int
    timesteps: int
    train_wall_s: float | None
    evaluation: dict[str, Any]
    files: dict[str, str]  # path relative to the entry -> SHA-256
    root: Path

    @property
    def path(self) -> Path:
        return self.root / self.name

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "root"}


def _entry_files(entry_dir: Path) -> dict[str, str]:
    return {p.relative_to(entry_dir).as_posix(): sha256_file(p)
            for p in sorted(entry_dir.rglob("*")) if p.is_file()}


def describe_entry(entry_dir: Path, root: Path) -> ZooEntry:
    """Build the manifest record of one entry folder from its config, evaluation and model manifest."""
    evaluation_file = entry_dir / EVALUATION_FILE
    try:
        evaluation = json.loads(evaluation_file.read_text(encoding="utf-8"))
        cfg = OmegaConf.load(entry_dir / runs.CONFIG_FILE)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"zoo entry {entry_dir}: cannot read {EVALUATION_FILE} / config.yaml ({exc})") from exc
    model = Path(evaluation["path"]).parent.name
    model_manifest = runs.read_manifest(entry_dir / model)
    return ZooEntry(
        name=entry_dir.relative_to(root).as_posix(), env=str(cfg.env.name), env_id=str(cfg.env.id),
        task=cfg.get("task"), algo=str(cfg.algo.name), model=model, seed=int(cfg.seed),
        timesteps=int(model_manifest["num_timesteps"]),
        train_wall_s=runs.read_manifest(entry_dir / runs.FINAL_DIR)["extra"].get("train_wall_s"),
        evaluation={k: evaluation[k] for k in ("episodes", "first_seed", "mean_return", "std_return",
                                                "success_rate") if k in evaluation},
        files=_entry_files(entry_dir), root=root,
    )


def write_manifest(root: Path) -> Path:
    """(Re)write ``root/manifest.json`` from every entry folder (one holding evaluation.json)."""
    entries = [describe_entry(p.parent, root) for p in sorted(root.rglob(EVALUATION_FILE))]
    data = {"format": MANIFEST_FORMAT, "entries": [e.as_json() for e in entries]}
    target = root / MANIFEST_FILE
    text = (json.dumps(data, indent=2) + "\n").encode()
    runs.atomic_write(target, lambda f: f.write(text))
    return target


def load_manifest(root: Path | None = None) -> list[ZooEntry]:
    root = zoo_dir() if root is None else root
    path = root / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format')!r}")
        return [ZooEntry(**entry, root=root) for entry in data["entries"]]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(f"{path}: not a readable zoo manifest ({exc})") from exc


def verify(entry: ZooEntry) -> None:
    """Check every file of the entry against the manifest's SHA-256 (tampered, truncated or missing)."""
    for rel, expected in entry.files.items():
        path = entry.path / rel
        if not path.is_file():
            raise ModelFileError(f"zoo entry {entry.name}: {rel} is missing")
        if sha256_file(path) != expected:
            raise ModelFileError(f"zoo entry {entry.name}: {rel} does not match its SHA-256 in the manifest "
                                 f"(modified or truncated); reinstall sportsim or re-add the entry")


def _matches(entry: ZooEntry, env: str) -> bool:
    return env in (entry.env, entry.env_id, entry.env_id.split("/")[-1])


def select(env: str, algo: str | None = None, task: str | None = None, root: Path | None = None) -> ZooEntry:
    """The best entry for ``env`` (optionally one algorithm / task): the newest env version that has one
    (``env=halfpipe`` means today's HalfPipe; name ``HalfPipe-v0`` for an older one), then the highest
    success rate, then return."""
    entries = load_manifest(root)
    candidates = [e for e in entries if _matches(e, env) and algo in (None, e.algo) and task in (None, e.task)]
    if not candidates:
        have = ", ".join(e.name for e in entries)
        wanted = "/".join(x for x in (env, task, algo) if x)
        raise ConfigError(f"no zoo entry for {wanted} (the zoo has: {have})")
    return max(candidates, key=lambda e: (env_version(e.env_id), e.evaluation.get("success_rate", 0.0),
                                          e.evaluation["mean_return"]))


def env_version(env_id: str) -> int:
    """The version number of a gymnasium id (``sportsim/HalfPipe-v1`` -> 1; 0 when it has none)."""
    _, _, version = env_id.rpartition("-v")
    return int(version) if version.isdigit() else 0


def locate(entry: ZooEntry) -> runs.ModelLocation:
    """The hash-checked entry's weights as a model location (its folder is laid out like a run dir)."""
    verify(entry)
    return runs.locate_model(entry.path, entry.model)
