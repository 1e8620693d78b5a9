"""One credential's fixes across the files of a repository: all applied or none.

A credential moved to a secret is fixed in several places (the workflow's `env:` that provides
it, the script that reads it, every file that holds the same value).  If one of those fixes is
not applied (held back, suppressed, dropped), applying the others would leave a workflow that
points at a secret the script does not read, or a script that reads a variable no step sets.
A fix's credentials are its `Fix.secrets`; `split_credentials` names the values whose fixes are
not all applied, and the runner processes the repository again with every fix of those values
dropped (`blocked`), until no credential is split.
"""

from __future__ import annotations

from collections.abc import Iterable

from gha_fix.codemod.model import FileResult, Status

KEPT = "kept with the other fixes of the same credential"


def split_credentials(files: Iterable[FileResult]) -> dict[str, str]:
    """value → why its fixes are dropped, for each credential that a file fixes (one of its
    fixes there is applied) and another file does not (it has fixes of it, none applied); the
    reason names a fix not applied by file and line, never the value.  Within one file, the
    engine's `Fix.requires` keeps fixes together (and a fix applied may stand for another that
    is not: the safe part of a step's credentials, and all of them)."""
    applied: set[str] = set()
    not_applied: dict[str, str] = {}
    for file in files:
        done = {v for r in file.fixes if r.status is Status.APPLIED for v in r.fix.secrets}
        applied |= done
        for result in file.fixes:
            for value in set(result.fix.secrets) - done:
                where = f"{file.path}:{result.line} ({result.status.value})"
                not_applied.setdefault(value, where)
    return {value: f"{KEPT}: the one at {where} is not applied"
            for value, where in not_applied.items() if value in applied}


def own_reasons(first: Iterable[FileResult], last: Iterable[FileResult]) -> None:
    """A fix that failed by itself in the `first` run keeps its own reason in the `last` one
    (where it is dropped with its credential's other fixes)."""
    reasons = {(f.path, r.line, r.fix.message): r.reason for f in first for r in f.fixes
               if r.status is Status.FAILED and not r.reason.startswith(KEPT)}
    for file in last:
        for r in file.fixes:
            if r.reason.startswith(KEPT):
                r.reason = reasons.get((file.path, r.line, r.fix.message), r.reason)


def blocked_reason(secrets: Iterable[str], blocked: dict[str, str]) -> str | None:
    """Why a fix of these values is dropped, or None."""
    return next((blocked[v] for v in secrets if v in blocked), None)
