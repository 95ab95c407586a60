"""scripts/fetch_mocap_corpus.py rebuilds the corpus byte for byte from a local mirror, checks every
SHA-256, never overwrites a file that differs, and the committed manifest is well formed."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fetch_mocap_corpus.py"
spec = importlib.util.spec_from_file_location("fetch_mocap_corpus", SCRIPT)
fetch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch)
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def test_the_committed_manifest_is_well_formed() -> None:
    entries = fetch.load_manifest(fetch.MANIFEST)
    folders = {e["folder"] for e in entries}
    assert {"developed", "heldout", "heldout5", "heldout6", "mvnx3"} <= folders
    assert all(e["humanoid"] in ("yes", "no") for e in entries)
    assert sum(e["folder"] == "heldout6" and e["humanoid"] == "yes" for e in entries) >= 20


def _mirror(root: Path, data: bytes) -> str:
    """A bare mirror in the /work/.mirror layout (<owner>+<name>/repo) holding data/take.bvh; its commit."""
    work = root / "work"
    work.mkdir()
    (work / "data").mkdir()
    (work / "data" / "take.bvh").write_bytes(data)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(git + ["init", "-q", str(work)], check=True)
    subprocess.run(git + ["-C", str(work), "add", "."], check=True)
    subprocess.run(git + ["-C", str(work), "commit", "-q", "-m", "take"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(root / "mirrors" / "someone+takes" / "repo")],
                   check=True)
    return subprocess.run(["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


@needs_git
def test_files_come_from_the_mirror_checked_and_are_never_overwritten(tmp_path: Path, capsys) -> None:
    data = b"HIERARCHY\nROOT Hips\n"
    commit = _mirror(tmp_path, data)
    entry = {"folder": "round", "name": "take.bvh", "repo": "someone/takes", "commit": commit,
             "path": "data/take.bvh", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
             "exporter": "test", "licence": "MIT", "humanoid": "yes", "expected": "converts"}
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"files": [entry]}))
    dest = tmp_path / "corpus"
    args = ["--manifest", str(manifest), "--dest", str(dest), "--mirror-root", str(tmp_path / "mirrors"), "--offline"]

    assert fetch.main(args) == 0
    target = dest / "round" / "take.bvh"
    assert target.read_bytes() == data and "`take.bvh` | yes" in (dest / "round" / "SOURCES.md").read_text()
    assert fetch.main(args) == 0 and "present" in capsys.readouterr().out

    target.write_bytes(b"edited by hand")  # a differing file stays as it is
    assert fetch.main(args) == 1 and target.read_bytes() == b"edited by hand"
    assert "left as it is" in capsys.readouterr().err

    target.unlink()  # a pinned digest the mirror's bytes do not match: nothing written
    manifest.write_text(yaml.safe_dump({"files": [dict(entry, sha256="0" * 64)]}))
    assert fetch.main(args) == 1 and not target.exists()
    assert "not written" in capsys.readouterr().err
    assert not list((dest / "round").glob(".*.tmp"))  # no temporary file left behind


def test_a_malformed_manifest_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"files": [{"folder": "x", "name": "../escape.bvh"}]}))
    assert fetch.main(["--manifest", str(manifest), "--dest", str(tmp_path), "--offline"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
