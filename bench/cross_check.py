"""Cross-check: how much of a corpus never seen while building the knowledge is understood offline.

The corpus repositories are split into two halves, deterministically (ordered by a salted
SHA-256 of the folder name).  The knowledge base (`transforms/data/actions.yml`) is cut down to
the actions the first half uses, and the offline action index is built from the metadata files
of those actions only.  Then every job of the second half is analysed with no network, and
the share of jobs that are understood is reported, with and without the offline index.

The analysis is run with an `ActionMetadata` lookup over an offline `GitHubFiles` and the
index built here (transforms/analysis/action_metadata.py).

    python bench/cross_check.py [--corpus DIR] [--meta-dir DIR ...] [--list FILE] [--salt S]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from build_action_index import DEFAULT_META_DIRS, build_index  # noqa: E402
from corpus_actions import DEFAULT_CORPUS, USES, action_key  # noqa: E402

from gha_fix.codemod.document import Document, DocumentError  # noqa: E402
from gha_fix.codemod.github_files import GitHubFiles, ResolverError  # noqa: E402
from gha_fix.codemod.repo import RepoContext  # noqa: E402
from gha_fix.transforms.analysis.action_metadata import ActionMetadata  # noqa: E402

# --- the split ------------------------------------------------------------------------------


def corpus_repos(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if (p / ".github" / "workflows").is_dir())


def split(repos: list[Path], salt: str = "gha-fix") -> tuple[list[Path], list[Path]]:
    """Two halves that do not depend on the order or number of the other repositories."""
    ordered = sorted(repos, key=lambda p: hashlib.sha256(f"{salt}:{p.name}".encode()).hexdigest())
    half = (len(ordered) + 1) // 2
    return sorted(ordered[:half]), sorted(ordered[half:])


def repo_yaml_files(repo: Path) -> Iterable[Path]:
    gh = repo / ".github"
    yield from sorted((gh / "workflows").glob("*.y*ml"))
    if (gh / "actions").is_dir():
        yield from sorted(p for p in (gh / "actions").rglob("action.y*ml"))


def used_actions(repos: Iterable[Path]) -> set[str]:
    """`owner/repo[/path]` keys of every action and remote reusable workflow the repos use."""
    keys: set[str] = set()
    for repo in repos:
        for path in repo_yaml_files(repo):
            text = path.read_text(encoding="utf-8", errors="replace")
            keys.update(k for m in USES.finditer(text) if (k := action_key(m.group(1))))
    return keys


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Stats:
    jobs: int = 0
    understood: int = 0
    only_actions: int = 0  # unknown jobs whose every reason is an action / reusable workflow
    absent: int = 0  # unknown jobs that need a file absent from the corpus (not analysable)
    files: int = 0
    unparsed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    unknown_actions: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.understood / self.jobs if self.jobs else 0.0


JobAnalyser = Callable[[RepoContext], Any]  # repo -> object with .job(id, job, env)


def measure(repos: Iterable[Path], make_analyser: JobAnalyser) -> Stats:
    stats = Stats()
    for root in repos:
        repo = RepoContext(root)
        analyser = make_analyser(repo)
        for path in repo.workflow_files():
            stats.files += 1
            try:
                doc = Document.from_file(path, path.relative_to(root).as_posix())
            except DocumentError:
                stats.unparsed += 1
                continue
            jobs = doc.data.get("jobs")
            if not isinstance(jobs, dict):
                continue
            env = doc.data.get("env") if isinstance(doc.data.get("env"), dict) else {}
            for job_id, job in jobs.items():
                stats.jobs += 1
                try:
                    needs = analyser.job(str(job_id), job, env)
                except ResolverError as exc:  # cannot happen offline; kept for online runs
                    stats.warnings.append(str(exc))
                    needs = analyser.job(str(job_id), job, env)
                except RecursionError:  # an analysis bug must not hide the other numbers
                    stats.reasons["analysis error: RecursionError"] += 1
                    stats.crashed.append(f"{path.relative_to(root.parent)} job {job_id}")
                    continue
                if needs.understood:
                    stats.understood += 1
                else:
                    stats.absent += any(needs_absent_file(root, r) for r in needs.reasons())
                    kinds = {_reason_kind(r) for r in needs.reasons()}
                    stats.only_actions += kinds <= ACTION_REASONS
                    stats.reasons.update(_reason_kind(r) for r in needs.reasons())
                    stats.unknown_actions.update(set(needs.unknown_actions))
    return stats


ACTION_REASONS = {"gets the GITHUB_TOKEN", "malformed action metadata", "unknown action",
                  "remote reusable workflow"}


def needs_absent_file(root: Path, reason: str) -> bool:
    """A local action, or a script the token is passed to, that the corpus does not hold (it
    keeps only .github/workflows of each repository)."""
    if "not found or unreadable" in reason:
        return True
    match = re.search(r"cannot analyse \(([^)]*)\)", reason)
    return bool(match and "/" in match.group(1)
                and not (root / match.group(1).removeprefix("./")).exists())


def independent_keys(list_file: Path) -> list[str]:
    """The actions of the index list chosen without looking at the corpus."""
    keys = []
    for line in list_file.read_text().splitlines():
        slug, _, why = line.partition("#")
        if slug.strip() and ({"actionlint", "starter-workflows"} & set(re.split(r"[,\s]+", why))):
            keys.append(slug.strip().lower())
    return keys


def _reason_kind(reason: str) -> str:
    """`unknown action o/r@v1: ...` -> `unknown action`: groups reasons for the summary."""
    for marker in ("gets the GITHUB_TOKEN", "malformed action metadata", "unknown action",
                   "remote reusable workflow", "is not in the knowledge base",
                   "action chosen at run time", "cannot analyse", "not found or unreadable"):
        if marker in reason:
            return marker
    return reason[:70]


# --- the analysis, restricted and extended ------------------------------------------------


def restricted_knowledge(keys: set[str] | None) -> Any:
    from gha_fix.transforms.analysis import Knowledge, builtin_knowledge

    base = builtin_knowledge()
    if keys is None:
        return base
    actions = {k: v for k, v in base.actions.items() if k in keys}
    return Knowledge(actions, base.gh, base.rest, base.run_commands, base.inert)


def github_owned(keys: Any) -> set[str]:
    """GitHub's own actions (actions/*, github/*): in the knowledge base whatever a corpus uses."""
    return {k for k in keys if k.split("/", 1)[0] in ("actions", "github")}


def analyser_factory(knowledge: Any, resolver: ActionMetadata | None) -> JobAnalyser:
    from gha_fix.transforms.analysis import Analyser

    return lambda repo: Analyser(repo, knowledge, resolver)


def offline_resolver(index: dict[str, dict[str, Any]]) -> ActionMetadata:
    """No network and no user cache: the result depends on the repository alone."""
    return ActionMetadata(GitHubFiles(offline=True, use_cache=False), index=index)


# --- report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--meta-dir", type=Path, action="append",
                        help="folders of metadata files (default: the project's)")
    parser.add_argument("--list", type=Path, default=ROOT / "bench" / "index_actions.txt",
                        help="the index's action list, with why each action was chosen")
    parser.add_argument("--salt", default="gha-fix", help="changes the split")
    parser.add_argument("--reasons", type=int, default=12, help="top unknown reasons shown")
    args = parser.parse_args()

    try:
        from gha_fix.transforms.analysis import builtin_knowledge
    except ImportError:
        sys.exit("transforms.analysis is not there yet: nothing to measure")
    train, test = split(corpus_repos(args.corpus), args.salt)
    train_keys = used_actions(train)
    test_keys = used_actions(test)
    kb_all = builtin_knowledge()
    kb_train = restricted_knowledge(train_keys)
    meta_dirs = args.meta_dir or DEFAULT_META_DIRS
    index_all = build_index(meta_dirs)
    index_train = build_index(meta_dirs, keys=train_keys)
    # chosen without the corpus: actionlint's popular actions, GitHub's starter workflows
    independent = set(independent_keys(args.list)) & set(index_all)
    index_independent = {k: v for k, v in index_all.items() if k in independent}
    index_both = {**index_independent, **index_train}
    # a knowledge base that did not look at the second half may also hold GitHub's own
    # actions and the independently chosen ones
    kb_wide = restricted_knowledge(train_keys | github_owned(kb_all.actions) | independent)

    print(f"corpus {args.corpus}: {len(train)} repos to build from, {len(test)} to measure"
          f" (salt {args.salt!r})")
    print(f"actions used: {len(train_keys)} in the first half, {len(test_keys)} in the second,"
          f" {len(test_keys - train_keys)} of them only there")
    print(f"knowledge base: {len(kb_all.actions)} actions, {len(kb_train.actions)} kept;"
          f" offline index: {len(index_all)} actions, {len(index_train)} used by the first half,"
          f" {len(index_independent)} chosen independently of the corpus")
    configs = [
        ("knowledge base (half), offline", kb_train, None),
        ("knowledge base (half) + index (half), offline", kb_train, offline_resolver(index_train)),
        ("knowledge base (half) + independent index", kb_train,
         offline_resolver(index_independent)),
        ("knowledge base (half) + index (half) + independent", kb_train,
         offline_resolver(index_both)),
        ("same, knowledge base also GitHub's own + independent", kb_wide,
         offline_resolver(index_both)),
        ("for reference, everything: full KB + full index", kb_all, offline_resolver(index_all)),
    ]
    results = []
    for label, kb, resolver in configs:
        stats = measure(test, analyser_factory(kb, resolver))
        results.append(stats)
        print(f"  {label:52} {stats.understood:5}/{stats.jobs} jobs  {stats.share:6.1%}"
              f"   ({stats.only_actions} more blocked by actions alone)")
    print(f"  ({results[0].files} workflow files, {results[0].unparsed} unparsable)")
    best = results[4]
    absent = best.absent
    print(f"  jobs that need a file the corpus does not hold (a local action or script outside"
          f" .github/workflows): {absent}; without them, the last setting understands"
          f" {best.understood}/{best.jobs - absent}"
          f" = {best.understood / max(best.jobs - absent, 1):.1%}")
    print(f"  (the knowledge base keeps {len(kb_wide.actions)} actions in the last setting)")
    with_index = best
    for where in with_index.crashed:
        print(f"  analysis crashed (counted unknown): {where}")
    print("\nwhy jobs stay unknown with the index (top reasons):")
    for reason, n in with_index.reasons.most_common(args.reasons):
        print(f"  {n:5}  {reason}")
    print("\nunknown actions that block most jobs (with the index):")
    for key, n in with_index.unknown_actions.most_common(args.reasons):
        print(f"  {n:5}  {key}")


if __name__ == "__main__":
    main()
