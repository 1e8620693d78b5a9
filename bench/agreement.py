"""Agreement of the deriver with the hand-written knowledge (issue #14, item 4).

For every entry of `transforms/data/actions.yml` whose repository is available as a git
checkout or bare mirror (`--mirrors DIR`: folders `owner+repo/repo` or `owner+repo`, as the
session's fetch tool lays them out), the action is derived from its files at the mirror's
HEAD (README, code; `derive.derive_local` over an exported tree) and compared with the
curated entry, scope by scope:

- curated: the entry's `permissions` (needs that always hold; `when:` needs left out);
- derived: the union of the needs read in the README and the code that hold without a
  condition, for an action the deriver understood; "unknown" otherwise.

Printed: a confusion table per scope (curated level x derived level, over understood
actions), the share understood, and every disagreement with its evidence, to be read one by
one.  The mirrors' HEAD may be newer than the version the curated entry was read from.

    python bench/agreement.py [--mirrors /work/.mirror] [--out bench/agreement.txt]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gha_fix.codemod.document import Document, DocumentError  # noqa: E402
from gha_fix.transforms import knowledge_files  # noqa: E402
from gha_fix.transforms.analysis.derive import DerivedEntry, derive_local  # noqa: E402

LEVELS = ("none", "read", "write")


def git_dir(mirrors: Path, owner: str, repo: str) -> Path | None:
    for name in (f"{owner}+{repo}", f"{owner}+{repo}".lower()):
        for candidate in (mirrors / name / "repo", mirrors / name):
            if (candidate / "HEAD").is_file() or (candidate / ".git").exists():
                return candidate
    return None


def export(git: Path, into: Path) -> tuple[str, list[str]]:
    """The tree at HEAD into `into`: the commit, and the files the mirror lacks (its largest
    blobs may be listed but absent)."""
    def run(*cmd: str) -> bytes:
        return subprocess.run(["git", "--git-dir", str(git), *cmd], capture_output=True,
                              check=True).stdout

    commit = run("rev-parse", "HEAD").decode().strip()
    absent: list[str] = []
    for line in run("ls-tree", "-r", "-z", "HEAD").split(b"\0"):
        if not line:
            continue
        meta, path = line.split(b"\t", 1)
        mode, kind, sha = meta.decode().split()
        if kind != "blob" or mode == "120000":
            continue
        name = path.decode("utf-8", "replace")
        try:
            data = run("cat-file", "blob", sha)
        except subprocess.CalledProcessError:
            absent.append(name)
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return commit, absent


def derive_entry(tree: Path, path: str) -> DerivedEntry | None:
    folder = path or "."
    for name in ("action.yml", "action.yaml"):
        file = tree / folder / name
        if file.is_file():
            try:
                meta = Document.from_text(str(file), file.read_text(encoding="utf-8")).data
            except (DocumentError, UnicodeDecodeError):
                return None
            return derive_local(tree, folder, meta)
    return None


def granted_as(entry: DerivedEntry, want: dict[str, str]) -> dict[str, str]:
    """The derived grant; a need that any of several scopes allows (labels on a pull
    request: issues or pull-requests) counts under each of them the curated entry grants at
    its level, else under its own scope."""
    order = {lv: i for i, lv in enumerate(LEVELS)}
    out: dict[str, str] = {}
    for need in entry.granted():
        if need.when is not None:
            continue
        scopes = [s for s in (need.scope, *need.alternatives)
                  if order[want.get(s, "none")] >= order[need.level]] or [need.scope]
        for scope in scopes:
            if order[need.level] > order[out.get(scope, "none")]:
                out[scope] = need.level
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    curated = {k: v for k, v in knowledge_files.load("actions.yml").items()
               if isinstance(v, dict) and ".github/workflows/" not in k}
    lines: list[str] = []
    confusion: dict[str, Counter[tuple[str, str]]] = {}
    understood = unknown = 0
    disagreements: list[str] = []
    unknowns: list[str] = []
    trees: dict[str, tuple[Path, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key in sorted(curated):
            owner, repo, *rest = key.split("/")
            git = git_dir(args.mirrors, owner, repo)
            if git is None:
                continue
            if f"{owner}/{repo}" not in trees:
                tree = Path(tmp) / f"{owner}+{repo}"
                tree.mkdir()
                commit, absent = export(git, tree)
                trees[f"{owner}/{repo}"] = (tree, commit)
                if absent:
                    lines.append(f"{owner}/{repo}@{commit[:12]}: absent from the mirror: "
                                 + ", ".join(absent[:5]))
            tree, commit = trees[f"{owner}/{repo}"]
            entry = derive_entry(tree, "/".join(rest))
            if entry is None:
                unknowns.append(f"{key}@{commit[:12]}: no action.yml at HEAD")
                unknown += 1
                continue
            if not entry.understood:
                unknown += 1
                unknowns.append(f"{key}@{commit[:12]}: {entry.unknown[0]}")
                continue
            understood += 1
            want = {s: lv for s, lv in (curated[key].get("permissions") or {}).items()}
            got = granted_as(entry, want)
            for scope in sorted(set(want) | set(got)):
                pair = (want.get(scope, "none"), got.get(scope, "none"))
                confusion.setdefault(scope, Counter())[pair] += 1
                if pair[0] != pair[1]:
                    evidence = "; ".join(f"{n.kind} {n.where}: {n.evidence}"
                                         for n in entry.needs if n.when is None and
                                         scope in (n.scope, *n.alternatives))[:300]
                    disagreements.append(f"{key}@{commit[:12]} {scope}: curated {pair[0]}, "
                                         f"derived {pair[1]} ({evidence or 'no need found'})")
    total = understood + unknown
    lines.append(f"actions.yml entries with a mirror: {total}; understood by the deriver: "
                 f"{understood} ({understood / max(total, 1):.0%}); unknown: {unknown}")
    lines.append("")
    lines.append("confusion per scope (rows: curated, columns: derived; understood actions, "
                 "scopes either side names)")
    for scope, counts in sorted(confusion.items()):
        lines.append(f"  {scope}")
        lines.append("    curated\\derived  " + "".join(f"{lv:>7}" for lv in LEVELS))
        for want in LEVELS:
            row = "".join(f"{counts.get((want, got), 0):>7}" for got in LEVELS)
            lines.append(f"    {want:<16} {row}")
    lines.append("")
    lines.append(f"disagreements ({len(disagreements)}):")
    lines += [f"  {d}" for d in disagreements]
    lines.append("")
    lines.append(f"not understood ({len(unknowns)}), first reason:")
    lines += [f"  {u[:220]}" for u in unknowns]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
