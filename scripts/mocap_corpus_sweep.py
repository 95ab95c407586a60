"""Every capture file of a corpus through the mocap commands and the corpus check, one line per file.

For each ``.bvh`` / ``.mvnx`` under the given folders (default: ../shared/mocap, its external/ and every
corpus/* folder): the exit status of ``python -m sportsim.mocap info`` and ``convert`` (run in this
process through the CLI's own error handling: 0 written, 2 refused with one line; anything escaping is
counted as a traceback), the refusal's line, and - for BVH files - the corpus test's check
(``tests/test_mocap_corpus.py``: converts with no mapping, stands upright, faces where its toes point,
keeps left and right), which is what a held-out round reports on its first run.

Usage: python scripts/mocap_corpus_sweep.py [FOLDER ...] [--no-check]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "mocap"


def _run(argv: list[str]) -> tuple[object, str]:
    from sportsim.cli import run_cli
    from sportsim.mocap.__main__ import main

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            run_cli(main, argv)
    except SystemExit as exc:
        lines = [line for line in err.getvalue().splitlines() if line.strip()]
        return exc.code, (lines[0] if lines and exc.code else "")
    except BaseException:  # noqa: BLE001 - the point: anything that escapes the CLI is a traceback
        return "TRACEBACK", traceback.format_exc().splitlines()[-1]
    return 0, ""


def _check(path: Path) -> str:
    sys.path.insert(0, str(REPO / "tests"))
    import test_mocap_corpus as corpus

    try:
        corpus.test_humanoid_converts_upright_facing_with_sides_kept(path)
    except AssertionError as exc:
        line = traceback.extract_tb(exc.__traceback__)[-1]
        return f"FAIL (test line {line.lineno}: {line.line})"
    except Exception as exc:  # noqa: BLE001 - a refusal (MocapError) is a result here
        return f"FAIL ({type(exc).__name__}: {str(exc).splitlines()[0][:100]})"
    return "pass"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--no-check", action="store_true", help="only the commands, not the corpus check")
    args = parser.parse_args()
    folders = args.folders or [SHARED, SHARED / "external", *sorted((SHARED / "corpus").glob("*"))]
    files = sorted(f for folder in folders for f in folder.glob("*") if f.suffix.lower() in (".bvh", ".mvnx"))
    tracebacks = 0
    with tempfile.TemporaryDirectory() as out:
        for path in files:
            info, _ = _run(["info", str(path)])
            convert, why = _run(["convert", str(path), str(Path(out) / f"{path.parent.name}_{path.name}.npz")])
            tracebacks += (info == "TRACEBACK") + (convert == "TRACEBACK")
            check = _check(path) if path.suffix.lower() == ".bvh" and not args.no_check else "-"
            print(f"{path.parent.name}/{path.name}\tinfo={info}\tconvert={convert}\tcheck={check}\t{why[:140]}",
                  flush=True)
    print(f"{len(files)} files, {tracebacks} tracebacks")
    return 1 if tracebacks else 0


if __name__ == "__main__":
    sys.exit(main())
