"""`gha-fix diagnose`: why a run failed, from its log — the cause, the evidence and the fix.

Offline: the log comes from a file or stdin (`gh run view RUN --log-failed`, a step's log
pasted from the web UI, or the downloaded log archive).  The modules, one job each:

- `logs`: the three log shapes -> lines that know their job, step and step header;
- `signatures`: the failure texts (`transforms/data/failure_signatures.yml`, each with its
  source), compiled and matched;
- `classify`: the lines -> the cause, its evidence and the details of the failed call;
- `scopes`: the failed call -> the GITHUB_TOKEN scopes it needed, through the analysis's own
  tables (`rest_endpoints.yml`, `gh_commands.yml`, `actions.yml`);
- `locate`: with a repository, the failing step in its workflows, the secret it used and, for a
  missing scope, a patch made with the engine's operations;
- `report`: the `Diagnosis` (JSON: `diagnosis.schema.json`) and its text, masked.

- `grant`: the workflow edit of a missing scope (the patch's, and `--apply`'s transform);
- `apply`: `--apply` runs that edit (or fork-guard's, on a fork's read-only token) through the
  engine, exactly as `gha-fix apply` runs its transforms.

Fetching a run's log (`--run`) only changes where the bytes come from
(`diagnose(read_log(...))`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gha_fix.codemod.repo import RepoContext
from gha_fix.transforms.diagnose.classify import TOKEN_CAUSES, Finding, classify
from gha_fix.transforms.diagnose.locate import Located, locate, patch
from gha_fix.transforms.diagnose.logs import LogError, LogLine, read_log
from gha_fix.transforms.diagnose.report import Diagnosis, fill, masked, text_lines, to_json
from gha_fix.transforms.diagnose.signatures import table

__all__ = ["Diagnosis", "LogError", "LogLine", "diagnose", "read_log", "text_lines", "to_json"]

_SCOPE_CAUSES = ("missing-scope", "fork-read-only", "dependabot-read-only")


def diagnose(lines: list[LogLine], repo: Path | None = None,
             adjust: Callable[[Finding], None] | None = None) -> Diagnosis:
    """The diagnosis of a failed run's log; `repo` ties it to the workflow that ran; `adjust`
    adds what the run's own record tells (`--run`: a fork's or Dependabot's token)."""
    finding = classify(lines)
    first = finding.failing
    located = locate(repo, first.job, first.step, first.header) if repo and first else None
    if located is not None and finding.cause == "missing-scope":
        _from_triggers(finding, located)
    if adjust is not None:
        adjust(finding)
    result = _diagnosis(finding, located, context(repo) if located is not None else None)
    if repo is not None and located is None and result.patch_note is not None:
        result.patch_note = ("the job the log names was not found in the repository's "
                             "workflows (one job, by its name or id, and its step)")
    return result


def context(root: Path) -> RepoContext:
    """What the analysis sees of the repository at `root` (its config; action metadata from
    the cache and the offline index only: diagnose works offline)."""
    from gha_fix.codemod.config import ConfigError
    from gha_fix.codemod.repo import origin_slug
    from gha_fix.codemod.runner import RunOptions, read_config, resolver_for

    options = RunOptions(offline=True)
    try:
        config = read_config(root, options)
    except ConfigError:  # `--apply` reports it; the preview goes without
        config = {}
    return RepoContext(root, config, slug=origin_slug(root), resolver=resolver_for(options))


def _from_triggers(finding: Finding, located: Located) -> None:
    """A missing scope in a workflow run on `pull_request` may be a fork's read-only token."""
    if "pull_request" in located.events and "fork-read-only" not in finding.possible:
        finding.possible.append("fork-read-only")


def _secret(finding: Finding, located: Located | None) -> str | None:
    """The secret a token-cause step used: from the workflow, else from an env variable shown
    masked (`GH_TOKEN: ***`), which is named after the secret more often than not."""
    if finding.cause not in TOKEN_CAUSES:
        return None
    if located and located.secrets:
        return located.secrets[0]
    return finding.token_env or None


def _diagnosis(finding: Finding, located: Located | None,
               repo: RepoContext | None = None) -> Diagnosis:
    cause = table().causes[finding.cause]
    first = finding.failing
    secret = _secret(finding, located)
    scopes = finding.scopes.needed if finding.cause in _SCOPE_CAUSES else []
    org = finding.extracted.get("org", "")
    values = {"scopes": ", ".join(scopes), "secret": secret or finding.token_name,
              "org": f" `{org}`" if org else "", "host": finding.extracted.get("host", "")}
    result = Diagnosis(
        finding.cause, fill(cause["summary"], **values), fill(cause["fix"], **values),
        cause["source"], [masked(line.text.strip()) for line in finding.evidence],
        list(finding.possible), scopes,
        finding.scopes.alternatives if scopes else [], finding.scopes.basis if scopes else "",
        secret, finding.token_name or None,
    )
    if located is not None:
        result.workflow, result.job, result.line = located.workflow, located.job_id, located.line
        result.step = located.step_name or (first.step if first else None) or None
    elif first is not None:
        result.job, result.step = first.job or None, first.step or first.header or None
    if secret and not (located and located.secrets):
        result.notes.append(f"secret named after the step's env variable {secret}: "
                            "check the workflow (or give --repo)")
    if finding.scopes.assumed_write and scopes:
        result.notes.append("the log does not show the request's method: a write is assumed")
    if finding.cause == "missing-scope" and not scopes:
        result.notes.append("the log does not show which call failed: the scope is not known")
    if finding.cause == "missing-scope" and scopes:
        result.patch, result.patch_note, result.grant = patch(located, scopes, repo) if (
            located) else (None, "give --repo (the repository the run belongs to) to locate "
                           "the job", None)
    return result
