"""A log's lines -> the cause of the failure, with the evidence.

1. The failure lines: every `failure` signature that matches.  None: the cause is `unknown`.
2. The cause: the matched cause that ranks first in the table's `precedence`.
3. A missing scope in a run that a hint places on a fork or Dependabot is that read-only token
   instead; a hint that cannot tell (`possible`: a `pull_request` run) keeps the missing scope
   and names the other cause as possible.
4. The scopes: from the details on the failing step's lines (`scopes.py`).
5. The token: the step's input or environment variable shown masked (`token: ***`), for the
   causes about a token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gha_fix.transforms.diagnose.logs import LogLine
from gha_fix.transforms.diagnose.scopes import Scopes, scope_of
from gha_fix.transforms.diagnose.signatures import Match, matches, table

READ_ONLY = ("fork-read-only", "dependabot-read-only")
TOKEN_CAUSES = ("pat", "saml", "workflow-file-push")
MAX_EVIDENCE = 6


@dataclass
class Finding:
    """What the log alone says."""

    cause: str
    evidence: list[LogLine] = field(default_factory=list)
    possible: list[str] = field(default_factory=list)  # other causes the log cannot rule out
    scopes: Scopes = field(default_factory=Scopes)
    failing: LogLine | None = None  # the first failure line: its job, step and header
    token_name: str = ""  # the step's input or env variable that held the token
    token_env: str = ""  # the step's env variable shown masked (`GH_TOKEN: ***`), if any
    extracted: dict[str, str] = field(default_factory=dict)  # org, host, path, repository


def classify(lines: list[LogLine]) -> Finding:
    signatures = table()
    failures = matches(lines, signatures.of_kind("failure"))
    if not failures:
        return Finding("unknown")
    rank = {cause: i for i, cause in enumerate(signatures.precedence)}
    cause = min((m.signature.cause for m in failures), key=lambda c: rank.get(c, len(rank)))
    chosen = [m for m in failures if m.signature.cause == cause]
    first = chosen[0].line
    section = [line for line in lines if line.section == first.section]
    details = matches(section, signatures.of_kind("detail"))
    finding = Finding(cause, failing=first)
    for match in chosen:
        finding.extracted.update(match.groups)
    evidence = [m.line for m in chosen]
    if cause == "missing-scope":
        hints = matches(lines, signatures.of_kind("hint"))
        certain = [m for m in hints if not m.signature.possible]
        if certain:
            finding.cause = _first_cause(certain)
            evidence += [m.line for m in certain if m.signature.cause == finding.cause]
        else:
            finding.possible = _causes(hints)
            evidence += [m.line for m in hints]
        finding.scopes = scope_of(details, chosen, first.header)
        evidence += [m.line for m in details if m.signature.id != "step-token"]
    if cause in TOKEN_CAUSES:
        _token(finding, section, details)
    finding.evidence = _unique(evidence)[:MAX_EVIDENCE]
    return finding


def _first_cause(hints: list[Match]) -> str:
    """Dependabot before fork: a Dependabot branch lives in the repository itself."""
    found = _causes(hints)
    return next((c for c in READ_ONLY[::-1] if c in found), found[0])


def _causes(hints: list[Match]) -> list[str]:
    out: list[str] = []
    for match in hints:
        if match.signature.cause not in out:
            out.append(match.signature.cause)
    return out


def _token(finding: Finding, section: list[LogLine], details: list[Match]) -> None:
    """The token input or env variable of the failing step, from its masked `with:`/`env:`."""
    block = ""
    by_line = {m.line.number: m for m in details if m.signature.id == "step-token"}
    for line in section:
        stripped = line.text.strip()
        if stripped in ("with:", "env:"):
            block = stripped[:-1]
        match = by_line.get(line.number)
        if match is None:
            continue
        finding.token_name = finding.token_name or match.groups["token_name"]
        if block == "env" and not finding.token_env:
            finding.token_env = match.groups["token_name"]


def _unique(lines: list[LogLine]) -> list[LogLine]:
    seen: set[int] = set()
    out: list[LogLine] = []
    for line in sorted(lines, key=lambda x: x.number):
        if line.number not in seen:
            seen.add(line.number)
            out.append(line)
    return out
