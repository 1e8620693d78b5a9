"""Render results for people (text) and machines (json)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gha_fix.codemod.diff import redact
from gha_fix.codemod.model import FileResult, RepoResult, Status

_SUFFIX = {
    Status.APPLIED: "",
    Status.HELD_BACK: " (unsafe fix held back: use --unsafe-fixes)",
    Status.SUPPRESSED: " (suppressed by a gha-fix: ignore comment)",
    Status.FAILED: " (fix dropped: {reason})",
}


def shown_path(repo: RepoResult, file: FileResult | None = None, many: bool = False) -> str:
    base = Path(repo.root)
    if file is None:
        return str(base)
    return str(base / file.path) if many else file.path


def text_lines(results: Sequence[RepoResult], checking: bool) -> list[str]:
    """One `file:line: [transform] message` line a finding; errors come separately."""
    many = len(results) > 1
    lines: list[str] = []
    for repo in results:
        for file in repo.files:
            where = shown_path(repo, file, many)
            for fix in file.fixes:
                suffix = _SUFFIX[fix.status].format(reason=fix.reason)
                if fix.fix.safety.value == "unsafe" and fix.status is Status.APPLIED:
                    suffix = " (unsafe fix)"
                line = f"{where}:{fix.line}: [{fix.fix.transform}] {fix.fix.message}{suffix}"
                lines.append(redact(line, fix.fix.secrets))
            for note in file.notes:
                lines.append(f"{where}:{note.line}: [{note.note.transform}] {note.note.message}")
    return lines


def error_lines(results: Sequence[RepoResult]) -> list[str]:
    many = len(results) > 1
    out = []
    for repo in results:
        prefix = f"{repo.root}/" if many else ""
        out += [f"{prefix}{e}" if not e.startswith(repo.root) else e for e in repo.errors]
    return out


def summary(results: Sequence[RepoResult]) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    by_transform: Counter[str] = Counter()
    for repo in results:
        for fix in repo.fixes():
            statuses[fix.status.value] += 1
            if fix.status is Status.APPLIED:
                by_transform[fix.fix.transform] += 1
    return {
        "repos": len(results),
        "files": sum(len(r.files) for r in results),
        "files_changed": sum(1 for r in results for f in r.files if f.changed),
        "fixes": dict(statuses),
        "applied_by_transform": dict(by_transform),
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


def to_json(results: Sequence[RepoResult]) -> str:
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
                        "message": redact(r.fix.message, r.fix.secrets),
                        "safety": r.fix.safety.value,
                        "status": r.status.value,
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
    secrets = [s for r in results for f in r.files for s in f.secrets]
    return redact(json.dumps({"summary": summary(results), "repos": repos}, indent=2), secrets)


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
    secrets = [s for r in results for f in r.files for s in f.secrets]
    report = {
        "summary": summary(results),
        "unknown_actions": unknown_actions(results),
        "repos": [repo_report(r) for r in results],
    }
    return redact(json.dumps(report, indent=2), secrets)


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
    many = len(results) > 1
    lines = []
    for repo in results:
        for file in repo.files:
            where = _escape(shown_path(repo, file, many), True)
            for fix in file.fixes:
                if fix.status is Status.SUPPRESSED:
                    continue
                suffix = _SUFFIX[fix.status].format(reason=fix.reason)
                message = redact(f"{fix.fix.message}{suffix}", fix.fix.secrets)
                title = _escape(f"gha-fix {fix.fix.transform}", True)
                lines.append(f"::warning file={where},line={fix.line},title={title}::"
                             f"{_escape(message)}")
            for note in file.notes:
                title = _escape(f"gha-fix {note.note.transform}", True)
                lines.append(f"::notice file={where},line={note.line},title={title}::"
                             f"{_escape(note.note.message)}")
    for error in error_lines(results):
        lines.append(f"::error title=gha-fix::{_escape(error)}")
    return lines
