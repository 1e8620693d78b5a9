"""Corpus figures for the permissions transform (for the issue notes, not a test).

    python bench/permissions_report.py            # share of jobs fully understood, reasons
    python bench/permissions_report.py --zizmor   # + zizmor excessive-permissions before/after
    python bench/permissions_report.py --zizmor --repository-default restricted
                                                  # as if every repo declared that default

The zizmor run copies the corpus to a temporary folder, applies `permissions` there, and counts
`excessive-permissions` findings in the original and the fixed copy (`zizmor --offline`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gha_fix.codemod.document import Document, DocumentError  # noqa: E402
from gha_fix.codemod.repo import RepoContext  # noqa: E402
from gha_fix.codemod.runner import RunOptions, process_repo, read_config, resolver_for  # noqa: E402  # noqa: E402
from gha_fix.transforms import REGISTRY  # noqa: E402
from gha_fix.transforms.analysis import analyse_workflow  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from cross_check import needs_absent_file  # noqa: E402


def understood(corpus: Path) -> None:
    jobs = known = missing = 0
    reasons: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    derived: Counter[str] = Counter()  # the deriver's first reason, per action, per job
    for repo_dir in sorted(p for p in corpus.iterdir() if (p / ".github/workflows").is_dir()):
        repo = RepoContext(repo_dir, read_config(repo_dir, RunOptions()))
        repo.resolver = resolver_for(RunOptions(offline=True))  # cache + offline index
        for path in repo.workflow_files():
            try:
                doc = Document.from_file(path, path.name)
            except DocumentError:
                continue
            for needs in analyse_workflow(doc, repo).values():
                jobs += 1
                known += needs.understood
                # the corpus holds only .github/: local actions and scripts elsewhere are absent
                missing += any(needs_absent_file(repo_dir, r) for r in needs.reasons())
                for reason in needs.reasons()[:1]:
                    reasons[reason.split(":")[0].split("@")[0][:70]] += 1
                for reason in set(needs.reasons()):
                    if "do not settle" in reason:
                        action = reason.split(" gets the GITHUB_TOKEN")[0]
                        why = reason.split("needs: ", 1)[-1].removesuffix(
                            "; add it to .github/gha-fix.yml")
                        derived[f"{repo_dir.name}: {action}: {why}"[:150]] += 1
                actions.update(set(needs.unknown_actions))
    print(f"jobs: {jobs}, fully understood: {known} ({known / jobs:.1%})")
    print(f"jobs that need a local action or script the corpus does not hold: {missing}; "
          f"understood among the others: {known}/{jobs - missing} = "
          f"{known / (jobs - missing):.1%}")
    print("most common first reasons for unknown jobs:")
    for reason, count in reasons.most_common(25):
        print(f"  {count:4d}  {reason}")
    common = ", ".join(f"{a} ({c})" for a, c in actions.most_common(20))
    print("most common unknown actions:", common)
    print("actions the deriver read but could not settle (jobs, first reason):")
    for reason, count in derived.most_common(30):
        print(f"  {count:4d}  {reason}")


def zizmor_findings(folder: Path) -> tuple[list[tuple[str, str]], int]:
    """(file, annotation) of every excessive-permissions finding; and repos zizmor refused."""
    findings: list[tuple[str, str]] = []
    refused = 0
    for repo in sorted(p for p in folder.iterdir() if (p / ".github/workflows").is_dir()):
        out = subprocess.run(
            ["zizmor", "--offline", "--format", "json", "--no-progress", str(repo)],
            capture_output=True, text=True, check=False,
        )
        try:
            results = json.loads(out.stdout or "[]")
        except json.JSONDecodeError:
            refused += 1
            continue
        for finding in results:
            if finding.get("ident") != "excessive-permissions":
                continue
            location = finding["locations"][0]["symbolic"]
            path = location["key"]["Local"]["verbatim_path"]
            findings.append((str(Path(path).relative_to(folder)), location.get("annotation", "")))
    return findings, refused


def zizmor(corpus: Path, options: dict | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "corpus"
        shutil.copytree(corpus, copy)
        for p in copy.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        before, refused = zizmor_findings(copy)
        changed: set[str] = set()
        transform = REGISTRY["permissions"]
        for repo in sorted(p for p in copy.iterdir() if (p / ".github/workflows").is_dir()):
            result = process_repo(repo, RunOptions(write=True), [transform(options)])
            changed.update(f"{repo.name}/{f.path}" for f in result.files if f.changed)
        after, _ = zizmor_findings(copy)
    in_changed = [f for f in after if f[0] in changed]
    print(f"zizmor excessive-permissions findings: before {len(before)}, after {len(after)};"
          f" files changed by gha-fix: {len(changed)}; findings left in changed files:"
          f" {len(in_changed)}; repos zizmor refused: {refused}")
    for path, annotation in in_changed:
        print(f"  left in a changed file: {path}: {annotation}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--zizmor", action="store_true")
    parser.add_argument("--repository-default", choices=["restricted"],
                        help="as if every repo's config declared its default token setting")
    args = parser.parse_args()
    understood(args.corpus)
    if args.zizmor:
        default = args.repository_default
        zizmor(args.corpus, {"repository_default": default} if default else None)


if __name__ == "__main__":
    main()
