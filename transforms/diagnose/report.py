"""A diagnosis: what `gha-fix diagnose` prints, as text or as JSON (`diagnosis.schema.json`).

Nothing that looks like a credential is ever printed: logs mask secrets as `***`, but a log can
hold a token GitHub did not know to mask; every evidence line goes through the same detector
the `secrets` transform uses and shows `mask()`ed values.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from typing import Any

from gha_fix.codemod.masks import mask
from gha_fix.transforms.diagnose.grant import GrantPlan
from gha_fix.transforms.secrets.detect import known_tokens

SCHEMA_VERSION = 1


@dataclass
class Diagnosis:
    cause: str
    summary: str
    fix: str
    source: str  # where the cause and its fix are documented
    evidence: list[str] = field(default_factory=list)  # log lines, masked
    possible_causes: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=list)  # missing GITHUB_TOKEN scopes, scope:level
    alternative_scopes: list[str] = field(default_factory=list)  # either would also do
    scopes_from: str = ""  # what the scopes were read from
    secret: str | None = None  # the secret the step used as its token (cause about a token)
    token: str | None = None  # the step's input or env variable that held it
    workflow: str | None = None  # the workflow file, relative to the repository
    job: str | None = None  # the job id (or, without --repo, the name the log shows)
    step: str | None = None  # the step's name, or what it ran
    line: int | None = None  # the step's line in the workflow file
    patch: str | None = None
    patch_note: str | None = None  # why there is no patch, when the cause would take one
    notes: list[str] = field(default_factory=list)
    grant: GrantPlan | None = field(default=None, repr=False)  # the edit `--apply` makes

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SCHEMA_VERSION, "cause": self.cause, "summary": self.summary,
            "evidence": self.evidence, "possible_causes": self.possible_causes,
            "workflow": self.workflow, "job": self.job, "step": self.step, "line": self.line,
            "scopes": self.scopes, "alternative_scopes": self.alternative_scopes,
            "scopes_from": self.scopes_from or None, "secret": self.secret,
            "token": self.token, "fix": self.fix, "patch": self.patch,
            "patch_note": self.patch_note, "notes": self.notes, "source": self.source,
        }


def to_json(diagnosis: Diagnosis) -> str:
    return json.dumps(diagnosis.to_dict(), indent=2, ensure_ascii=False)


def text_lines(diagnosis: Diagnosis) -> list[str]:
    out = [f"cause: {diagnosis.cause} — {diagnosis.summary}"]
    if diagnosis.possible_causes:
        out.append(f"  or: {', '.join(diagnosis.possible_causes)} (the log cannot tell)")
    where = [p for p in (_located(diagnosis), diagnosis.step and f"step {diagnosis.step!r}")
             if p]
    if where:
        out.append(f"where: {', '.join(where)}")
    if diagnosis.scopes:
        others = f" (or {', '.join(diagnosis.alternative_scopes)})" \
            if diagnosis.alternative_scopes else ""
        basis = f", from {diagnosis.scopes_from}" if diagnosis.scopes_from else ""
        out.append(f"scopes: {', '.join(diagnosis.scopes)}{others}{basis}")
    if diagnosis.secret or diagnosis.token:
        out.append(f"token: {_token_words(diagnosis)}")
    if diagnosis.evidence:
        out.append("evidence:")
        out += [f"  | {line}" for line in diagnosis.evidence]
    out.append(f"fix: {diagnosis.fix}")
    out += [f"note: {note}" for note in diagnosis.notes]
    if diagnosis.patch_note:
        out.append(f"patch: {diagnosis.patch_note}")
    out.append(f"see: {diagnosis.source}")
    return out


def _located(diagnosis: Diagnosis) -> str:
    if diagnosis.workflow:
        line = f":{diagnosis.line}" if diagnosis.line else ""
        return f"{diagnosis.workflow}{line} job {diagnosis.job!r}"
    return f"job {diagnosis.job!r}" if diagnosis.job else ""


def _token_words(diagnosis: Diagnosis) -> str:
    if diagnosis.secret and diagnosis.token:
        return f"secrets.{diagnosis.secret} (as {diagnosis.token})"
    return f"secrets.{diagnosis.secret}" if diagnosis.secret else f"{diagnosis.token}"


def fill(template: str, **values: str) -> str:
    """`template` with the `{names}` it uses that are known; unknown ones read generically."""
    generic = {"scopes": "the missing scope", "secret": "the token's secret", "org": "",
               "host": "GitHub"}
    known = {k: v for k, v in values.items() if v}
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{n: known.get(n, generic.get(n, n.upper())) for n in names})


def masked(text: str) -> str:
    """`text` with every known-format credential shown as its `mask()`."""
    for hit in reversed(known_tokens(text)):
        text = text[:hit.start] + mask(hit.value, hit.prefix) + text[hit.end:]
    return text
