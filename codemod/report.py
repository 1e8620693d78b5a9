"""Render results for people (text) and machines (json)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codemod.diff import redact
from codemod.model import FileResult, RepoResult, Status

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
    parts = [f"{fixes.get('applied', 0)} fixes {verb} in {s['files_changed']} of {s['files']} files"]
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
