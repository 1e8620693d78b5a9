"""Render results for people (text) and machines (json)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

from gha_fix.codemod.masks import Masker, redact_urls
from gha_fix.codemod.model import FileResult, FixResult, NoteResult, RepoResult, Status
from gha_fix.codemod.paths import display_path, in_repo

_SUFFIX = {
    Status.APPLIED: "",
    Status.HELD_BACK: " (unsafe fix held back: use --unsafe-fixes)",
    Status.SUPPRESSED: " (suppressed by a gha-fix: ignore comment)",
    Status.FAILED: " (fix dropped: {reason})",
}


def _lines(file: FileResult) -> list[tuple[int, int, FixResult | NoteResult]]:
    """A file's findings and notes by line (then in the order the transforms reported them)."""
    items: list[FixResult | NoteResult] = [*file.fixes, *file.notes]
    return sorted(((item.line, index, item) for index, item in enumerate(items)),
                  key=lambda entry: entry[:2])


def _sorted_files(repo: RepoResult) -> list[FileResult]:
    return sorted(repo.files, key=lambda file: file.path)


def text_lines(results: Sequence[RepoResult]) -> list[str]:
    """One `file:line: [transform] message` line a finding, by file and line; errors come
    separately.  Paths open from the current folder; every credential masked."""
    lines: list[str] = []
    masker = Masker.of_results(results)
    for repo in results:
        for file in _sorted_files(repo):
            where = in_repo(repo.root, file.path)
            for line, _, item in _lines(file):
                if isinstance(item, NoteResult):
                    text = f"{where}:{line}: [{item.note.transform}] {item.note.message}"
                    lines.append(masker.text(text))
                    continue
                suffix = _SUFFIX[item.status].format(reason=item.reason)
                if item.fix.safety.value == "unsafe" and item.status is Status.APPLIED:
                    suffix = " (unsafe fix)"
                text = f"{where}:{line}: [{item.fix.transform}] {item.fix.message}{suffix}"
                lines.append(masker.text(text))
    return lines


def error_lines(results: Sequence[RepoResult]) -> list[str]:
    """Every error, its path opening from the current folder (URL user info removed)."""
    out = []
    for repo in results:
        shown = display_path(repo.root)
        for error in repo.errors:
            if error.startswith((f"{repo.root}/", f"{repo.root}:")):
                out.append(shown + error[len(repo.root):])
            else:  # `path:line: reason`, the path relative to the repository
                out.append(error if shown == "." else f"{shown}/{error}")
    return [redact_urls(line) for line in out]


def status_name(status: Status, checking: bool = False) -> str:
    """A status as reports name it: in `check`, the fixes to apply are "due", not "applied"."""
    return "due" if checking and status is Status.APPLIED else status.value


def summary(results: Sequence[RepoResult], checking: bool = False) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    by_transform: Counter[str] = Counter()
    for repo in results:
        for fix in repo.fixes():
            statuses[status_name(fix.status, checking)] += 1
            if fix.status is Status.APPLIED:
                by_transform[fix.fix.transform] += 1
    return {
        "repos": len(results),
        "files": sum(len(r.files) for r in results),
        "files_changed": sum(1 for r in results for f in r.files if f.changed),
        "fixes": dict(statuses),
        f"{status_name(Status.APPLIED, checking)}_by_transform": dict(by_transform),
        "errors": sum(len(r.errors) for r in results),
    }


def summary_line(results: Sequence[RepoResult], verb: str) -> str:
    s = summary(results)
    fixes = s["fixes"]
    changed = f"{s['files_changed']} of {s['files']} files"
    parts = [f"{fixes.get('applied', 0)} fixes {verb} in {changed}"]
    if fixes.get("held-back"):
        parts.append(f"{fixes['held-back']} unsafe fixes held back (use --unsafe-fixes)")
    if fixes.get("failed"):
        parts.append(f"{fixes['failed']} fixes dropped (could not be applied safely)")
    if fixes.get("suppressed"):
        parts.append(f"{fixes['suppressed']} suppressed")
    if s["errors"]:
        parts.append(f"{s['errors']} errors")
    return "; ".join(parts)


def to_json(results: Sequence[RepoResult], checking: bool = False) -> str:
    """The `--format json` document; `checking`: fixes not applied yet are "due"."""
    repos = []
    for repo in results:
        files = []
        for file in repo.files:
            files.append({
                "path": file.path,
                "error": file.error,
                "changed": file.changed,
                "written": file.written,
                "fixes": [
                    {
                        "transform": r.fix.transform,
                        "line": r.line,
                        "message": r.fix.message,
                        "safety": r.fix.safety.value,
                        "status": status_name(r.status, checking),
                        "reason": r.reason or None,
                        **({"details": r.fix.details} if r.fix.details else {}),
                    }
                    for r in file.fixes
                ],
                "notes": [
                    {"transform": n.note.transform, "line": n.line, "message": n.note.message}
                    for n in file.notes
                ],
            })
        repos.append({"root": repo.root, "error": repo.error, "branch": repo.branch,
                      "messages": repo.messages, "files": files})
    document = {"summary": summary(results, checking), "repos": repos}
    return json.dumps(Masker.of_results(results).tree(document), indent=2)


def unknown_actions(results: Sequence[RepoResult]) -> list[dict[str, Any]]:
    """Actions the transforms did not know, across all repos: what to add to the config next.

    Read from `Note.unknown_actions` (a list of `owner/repo`); `count` is how many
    notes named the action, `repos` in how many repositories.
    """
    count: Counter[str] = Counter()
    repos: dict[str, set[str]] = {}
    for repo in results:
        for file in repo.files:
            for note in file.notes:
                for action in note.note.unknown_actions:
                    count[action] += 1
                    repos.setdefault(action, set()).add(repo.root)
    return [
        {"action": action, "count": n, "repos": len(repos[action])}
        for action, n in sorted(count.items(), key=lambda item: (-item[1], item[0]))
    ]


def repo_report(repo: RepoResult) -> dict[str, Any]:
    """One repository's line in `--report out.json`."""
    by_transform: Counter[str] = Counter(
        r.fix.transform for r in repo.fixes(Status.APPLIED)
    )
    return {
        "root": repo.root,
        "files": len(repo.files),
        "files_changed": [f.path for f in repo.files if f.changed],
        "fixes_by_transform": dict(sorted(by_transform.items())),
        "fixes_not_applied": dict(Counter(
            r.status.value for r in repo.fixes() if r.status is not Status.APPLIED
        )),
        "notes": sum(len(f.notes) for f in repo.files),
        "unknown_actions": {u["action"]: u["count"] for u in unknown_actions([repo])},
        "errors": repo.errors,
        "branch": repo.branch,
        "messages": repo.messages,
    }


def bulk_report(results: Sequence[RepoResult]) -> str:
    """The `--report` file: a summary, the unknown actions of the fleet, one entry per repo."""
    report = {
        "summary": summary(results),
        "unknown_actions": unknown_actions(results),
        "repos": [repo_report(r) for r in results],
    }
    return json.dumps(Masker.of_results(results).tree(report), indent=2)


def summary_table(results: Sequence[RepoResult]) -> Any:
    """A rich table: one row per repository with something to say, and the totals."""
    from rich.table import Table

    table = Table(title=f"gha-fix: {len(results)} repositories", show_footer=True,
                  title_justify="left")
    totals = summary(results)
    applied = totals["fixes"].get("applied", 0)
    table.add_column("repository", footer=f"{len(results)} repos")
    table.add_column("files", justify="right", footer=str(totals["files"]))
    table.add_column("changed", justify="right", footer=str(totals["files_changed"]))
    table.add_column("fixes", justify="right", footer=str(applied))
    table.add_column("notes", justify="right",
                     footer=str(sum(len(f.notes) for r in results for f in r.files)))
    table.add_column("errors", justify="right", footer=str(totals["errors"]))
    branches = any(r.branch for r in results)
    if branches:
        table.add_column("branch")
    quiet = 0
    try:  # rows name repos relative to their common folder: the part that differs
        base = os.path.commonpath([os.path.abspath(r.root) for r in results])
    except ValueError:
        base = ""
    for repo in results:
        fixes = len(repo.fixes(Status.APPLIED))
        notes = sum(len(f.notes) for f in repo.files)
        if not (fixes or notes or repo.errors or repo.branch):
            quiet += 1
            continue
        changed = sum(1 for f in repo.files if f.changed)
        name = os.path.relpath(os.path.abspath(repo.root), base) if base else repo.root
        table.add_row(name, str(len(repo.files)), str(changed), str(fixes), str(notes),
                      str(len(repo.errors)), *([repo.branch or ""] if branches else []))
    if quiet:
        table.caption = (f"{quiet} {'repository' if quiet == 1 else 'repositories'} with "
                         "nothing to report not listed")
    return table


def _escape(value: str, property_: bool = False) -> str:
    """Workflow-command escaping (actions/toolkit `escapeData` / `escapeProperty`)."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github_annotations(results: Sequence[RepoResult]) -> list[str]:
    """`::warning file=...,line=...::message` lines: GitHub shows them on the PR's files."""
    lines = []
    masker = Masker.of_results(results)
    for repo in results:
        for file in _sorted_files(repo):
            where = _escape(in_repo(repo.root, file.path), True)
            for line, _, item in _lines(file):
                if isinstance(item, NoteResult):
                    title = _escape(f"gha-fix {item.note.transform}", True)
                    message = masker.text(item.note.message)
                    lines.append(f"::notice file={where},line={line},title={title}::"
                                 f"{_escape(message)}")
                    continue
                if item.status is Status.SUPPRESSED:
                    continue
                suffix = _SUFFIX[item.status].format(reason=item.reason)
                message = masker.text(f"{item.fix.message}{suffix}")
                title = _escape(f"gha-fix {item.fix.transform}", True)
                lines.append(f"::warning file={where},line={line},title={title}::"
                             f"{_escape(message)}")
    for error in error_lines(results):
        lines.append(f"::error title=gha-fix::{_escape(error)}")
    return lines
