"""`check --format sarif`: SARIF 2.1.0 that GitHub code scanning accepts.

One run; rule ids are transform ids; each fix due is a `warning` result with its location and a
SARIF `fix` (the replacement of the lines it changes, computed by applying that fix alone to
the original file); notes ("left as is") are `note` results; suppressed fixes carry an
`inSource` suppression; files that could not be read are tool execution notifications.
Secret values never appear: the replacement text is what the file would hold (a
`${{ secrets.X }}` reference, not the token), and every string of the document (messages,
replacements, notifications) is masked before it is serialised (`masks.Masker.tree`).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gha_fix.codemod.masks import Masker
from gha_fix.codemod.model import FileResult, FixResult, RepoResult, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gha-fix")
    except PackageNotFoundError:
        return "0.0.0"


def _rules(ids: set[str]) -> list[dict[str, Any]]:
    from gha_fix.transforms import REGISTRY

    rules = []
    for rule_id in sorted(ids | set(REGISTRY)):
        cls = REGISTRY.get(rule_id)
        summary = cls.summary if cls else rule_id
        rules.append({
            "id": rule_id,
            "name": rule_id.replace("-", " ").title().replace(" ", ""),
            "shortDescription": {"text": summary},
            "fullDescription": {"text": summary},
            "help": {"text": f"{summary}. Run `gha-fix apply` to fix it "
                             f"(`gha-fix transforms` lists the transforms)."},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"fixSafety": cls.fix_safety if cls else "safe"},
        })
    return rules


def _uri(repo: RepoResult, file: FileResult, many: bool) -> str:
    return (Path(repo.root) / file.path).as_posix() if many else file.path


def _replacements(file: FileResult, fix: FixResult) -> list[dict[str, Any]]:
    """Line replacements for `fix` applied alone to the original text ([] if it cannot be)."""
    from gha_fix.codemod.document import BOM, Document, DocumentError
    from gha_fix.codemod.operations import EditError
    from gha_fix.codemod.verify import apply_fix

    try:
        doc = Document.from_text(file.path, file.original.removeprefix(BOM))
        new = apply_fix(doc, fix.fix).text
    except (DocumentError, EditError, ValueError):
        return []
    before = doc.text.splitlines(keepends=True)
    after = new.splitlines(keepends=True)
    out = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        region: dict[str, Any] = {"startLine": i1 + 1, "startColumn": 1}
        if i2 > i1:
            region["endLine"] = i2 + 1 if i2 < len(before) else i2
            region["endColumn"] = 1 if i2 < len(before) else len(before[i2 - 1]) + 1
        else:  # a pure insertion: an empty region before line i1+1
            region["endLine"] = i1 + 1
            region["endColumn"] = 1
        out.append({
            "deletedRegion": region,
            "insertedContent": {"text": "".join(after[j1:j2])},
        })
    return out


def _artifact(uri: str) -> dict[str, Any]:
    """Relative to the checkout (what code scanning expects), or a file:// URI."""
    path = Path(uri)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": uri, "uriBaseId": "%SRCROOT%"}


def _location(uri: str, line: int) -> dict[str, Any]:
    return {"physicalLocation": {
        "artifactLocation": _artifact(uri),
        "region": {"startLine": max(line, 1)},
    }}


def to_sarif(results: Sequence[RepoResult]) -> dict[str, Any]:
    """The SARIF document, every credential of every file masked in its strings."""
    return Masker.of_results(results).tree(_sarif(results))


def _sarif(results: Sequence[RepoResult]) -> dict[str, Any]:
    many = len(results) > 1
    sarif_results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    ids: set[str] = set()
    for repo in results:
        for file in repo.files:
            uri = _uri(repo, file, many)
            for fix in file.fixes:
                ids.add(fix.fix.transform)
                message = fix.fix.message
                if fix.status is Status.HELD_BACK:
                    message += " (unsafe fix: apply with --unsafe-fixes)"
                elif fix.status is Status.FAILED:
                    message += f" (no automatic fix: {fix.reason})"
                result: dict[str, Any] = {
                    "ruleId": fix.fix.transform,
                    "level": "warning",
                    "message": {"text": message},
                    "locations": [_location(uri, fix.line)],
                }
                if fix.status is Status.SUPPRESSED:
                    result["suppressions"] = [{"kind": "inSource"}]
                if fix.status in (Status.APPLIED, Status.HELD_BACK):
                    changes = _replacements(file, fix)
                    if changes:
                        result["fixes"] = [{
                            "description": {"text": message},
                            "artifactChanges": [{
                                "artifactLocation": _artifact(uri),
                                "replacements": changes,
                            }],
                        }]
                sarif_results.append(result)
            for note in file.notes:
                ids.add(note.note.transform)
                sarif_results.append({
                    "ruleId": note.note.transform,
                    "level": "note",
                    "message": {"text": note.note.message},
                    "locations": [_location(uri, note.line)],
                })
        for error in repo.errors:
            notifications.append({"level": "error", "message": {"text": error}})
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gha-fix",
                "version": _version(),
                "rules": _rules(ids),
            }},
            "invocations": [{
                "executionSuccessful": not notifications,
                "toolExecutionNotifications": notifications,
            }],
            "results": sarif_results,
        }],
    }


def to_sarif_json(results: Sequence[RepoResult]) -> str:
    import json

    return json.dumps(to_sarif(results), indent=2)
