"""Rebuild the third-party capture corpus (issue 14) from its manifest: every file byte for byte at its pinned commit.

The corpus files are other projects' data and are not committed here; ``tests/data/mocap_corpus_manifest.yaml``
pins each one (repository, commit, path, SHA-256, folder, exporter, licence, humanoid yes/no). This script
brings each file into ``<dest>/<folder>/<name>`` (default dest: ../shared/mocap/corpus, where
tests/test_mocap_corpus.py looks) and writes a ``SOURCES.md`` per folder from the manifest.

Where a file comes from, in order: a local bare mirror ``<mirror-root>/<owner>+<name>/repo`` (the layout the
``fetch`` tool leaves under /work/.mirror; read with ``git show <commit>:<path>``), else
``https://raw.githubusercontent.com/<owner>/<name>/<commit>/<path>`` (``--offline`` forbids the network).
Every file is checked against its SHA-256 before it is written; it is written to a temporary sibling and
renamed into place; a file already there with the right digest is left alone, one with another digest is
never overwritten (reported, exit 1).

Usage: python scripts/fetch_mocap_corpus.py [--folder heldout5 ...] [--dest DIR] [--mirror-root DIR] [--offline]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from sportsim import runs  # atomic_write: temporary sibling, fsync, os.replace

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "tests" / "data" / "mocap_corpus_manifest.yaml"
DEST = REPO.parent / "shared" / "mocap" / "corpus"
MIRRORS = Path("/work/.mirror")
FIELDS = ("folder", "name", "repo", "commit", "path", "sha256", "bytes", "exporter", "licence", "humanoid")
SOURCES_HEADER = "<!-- written by scripts/fetch_mocap_corpus.py from tests/data/mocap_corpus_manifest.yaml -->"
MAX_BYTES = 64 << 20  # no corpus file is near this; a larger download is not the pinned file


def load_manifest(path: Path) -> list[dict]:
    """The manifest's entries, each checked for every field, a 40-digit commit, a 64-digit digest and a plain
    file name (no folder parts: nothing is written outside its folder)."""
    entries = yaml.safe_load(path.read_text())["files"]
    seen = set()
    for e in entries:
        missing = [f for f in FIELDS if f not in e]
        if missing:
            raise ValueError(f"{path}: entry {e.get('name')!r} lacks {', '.join(missing)}")
        if len(e["commit"]) != 40 or len(e["sha256"]) != 64 or Path(e["name"]).name != e["name"]:
            raise ValueError(f"{path}: entry {e['name']!r}: commit, sha256 or name malformed")
        if Path(e["folder"]).name != e["folder"] or (e["folder"], e["name"]) in seen:
            raise ValueError(f"{path}: entry {e['name']!r}: folder malformed or file listed twice")
        seen.add((e["folder"], e["name"]))
    return entries


def _from_mirror(root: Path, e: dict) -> bytes | None:
    git_dir = root / e["repo"].replace("/", "+") / "repo"
    if (git_dir / ".git").is_dir():
        git_dir = git_dir / ".git"
    if not git_dir.is_dir():
        return None
    done = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{e['commit']}:{e['path']}"],
                          capture_output=True, check=False)
    return done.stdout if done.returncode == 0 else None


def _from_github(e: dict) -> bytes:
    url = (f"https://raw.githubusercontent.com/{e['repo']}/{e['commit']}/"
           f"{urllib.parse.quote(e['path'])}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - a fixed https host
            data = response.read(MAX_BYTES + 1)
    except OSError as exc:  # URLError, HTTPError, timeouts
        raise ValueError(f"{url}: {getattr(exc, 'reason', exc)}") from None
    if len(data) > MAX_BYTES:
        raise ValueError(f"{url}: larger than {MAX_BYTES} bytes")
    return data


def fetch_one(e: dict, dest: Path, mirror_root: Path | None, offline: bool) -> str:
    """'present', 'mirror' or 'github' on success; raises ValueError (one line) otherwise."""
    target = dest / e["folder"] / e["name"]
    if target.exists():
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        if digest == e["sha256"]:
            return "present"
        raise ValueError(f"{target}: exists with SHA-256 {digest[:16]}.., not the manifest's "
                         f"{e['sha256'][:16]}..; left as it is (move it away to fetch the pinned file)")
    data = _from_mirror(mirror_root, e) if mirror_root else None
    how = "mirror"
    if data is None:
        if offline:
            raise ValueError(f"{e['repo']}@{e['commit'][:12]}:{e['path']}: not in a local mirror and --offline")
        data, how = _from_github(e), "github"
    digest = hashlib.sha256(data).hexdigest()
    if digest != e["sha256"]:
        raise ValueError(f"{e['repo']}@{e['commit'][:12]}:{e['path']}: SHA-256 {digest[:16]}.. from {how}, "
                         f"the manifest pins {e['sha256'][:16]}..; not written")
    runs.atomic_write(target, lambda f: f.write(data))
    return how


def sources_md(folder: str, entries: list[dict]) -> str:
    lines = [SOURCES_HEADER, f"# corpus/{folder} - third-party capture files (issue 14)", "",
             "Byte-for-byte copies (`git show <commit>:<path>`) of files other public projects publish; not part "
             "of sportsim and not to be shipped: the licence column is the repository's as stated at that commit, "
             "and most repositories licence their code, not their data.", "",
             "| file | humanoid | exporter / skeleton | source repo @ commit | path in repo | licence (as stated) "
             "| bytes | sha256 |", "|---|---|---|---|---|---|---|---|"]
    for e in entries:
        lines.append(f"| `{e['name']}` | {e['humanoid']} | {e['exporter']} | github.com/{e['repo']} @ "
                     f"`{e['commit'][:12]}` | `{e['path']}` | {e['licence']} | {e['bytes']} | `{e['sha256'][:16]}` |")
    for key, title in (("note", "Notes"), ("expected", "Expected before the first run"), ("first_run", "First run")):
        notes = [f"- `{e['name']}`: {e[key]}" for e in entries if e.get(key)]
        if notes:
            lines += ["", f"{title}:", *notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--dest", type=Path, default=DEST)
    parser.add_argument("--mirror-root", type=Path, default=MIRRORS if MIRRORS.is_dir() else None)
    parser.add_argument("--folder", action="append", help="only these folders (repeatable)")
    parser.add_argument("--offline", action="store_true", help="local mirrors only, no download")
    args = parser.parse_args(argv)
    try:
        entries = load_manifest(args.manifest)
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        print(f"fetch_mocap_corpus: {exc}", file=sys.stderr)
        return 2
    folders = args.folder or sorted({e["folder"] for e in entries})
    failed = 0
    for folder in folders:
        chosen = [e for e in entries if e["folder"] == folder]
        if not chosen:
            print(f"fetch_mocap_corpus: no folder {folder!r} in {args.manifest}", file=sys.stderr)
            return 2
        for e in chosen:
            try:
                how = fetch_one(e, args.dest, args.mirror_root, args.offline)
            except (OSError, ValueError) as exc:
                failed += 1
                print(f"FAILED {folder}/{e['name']}: {exc}", file=sys.stderr)
                continue
            print(f"{how:8s} {folder}/{e['name']}")
        sources = args.dest / folder / "SOURCES.md"
        text = sources_md(folder, chosen)
        if sources.exists() and not sources.read_text().startswith(SOURCES_HEADER):
            print(f"kept     {sources} (not written by this script)", file=sys.stderr)
        elif not sources.exists() or sources.read_text() != text:
            runs.atomic_write(sources, lambda f: f.write(text.encode()))
    print(f"{sum(e['folder'] in folders for e in entries) - failed} files in place, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
