"""`token-notes`: what `check` should say about a workflow's tokens and runners (notes only).

1. A personal token where the GITHUB_TOKEN would do.  A step passes a secret as its GitHub
   token (the input the knowledge base names as an action's token input, a `token_env`, `GH_TOKEN`
   / `GITHUB_TOKEN` in the environment, `actions/checkout`'s `token`), and the analysis,
   run again on the job with that secret replaced by the GITHUB_TOKEN, understands every step
   the change reaches and finds that it writes with scopes the GITHUB_TOKEN can have.  The
   personal token expires and the run then fails for nothing.  No note when the operation may
   reach another repository (`--repo`, an input naming a repository or owner, `repos/OWNER/NAME`,
   a URL to another repository, a script naming `owner:`/`repo:`, submodules), touches
   `.github/workflows`, depends on an input decided at run time (a registry), only reads (a
   personal token for reads is mostly for other repositories), or is one the analysis does not
   understand.  A write made with the GITHUB_TOKEN starts no other workflow (but
   workflow_dispatch and repository_dispatch): the note says that this may be why a personal
   token is there.
2. Self-hosted runners.  A job whose `runs-on` has the `self-hosted` label, or a label that is
   not one of GitHub's (then it *may* be: a larger runner's custom label looks the same), runs
   where a runner's registration can expire (`gha-fix diagnose` names that failure).  One note
   per workflow.  No personal-token notes in a reusable workflow: it runs with its caller's
   token, in its caller's repository.

Knowledge: `transforms/data/token_notes.yml`, each fact with its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform
from gha_fix.transforms import register
from gha_fix.transforms.analysis import (
    JobNeeds,
    Need,
    action_key,
    analyse_workflow,
    repo_knowledge,
    secret_names,
    string_values,
)
from gha_fix.transforms.knowledge_files import load
from gha_fix.transforms.lib.workflow import env_values, trigger_events

# where a step reaches another repository: `--repo X/Y`, `-R X/Y`, `repos/X/Y/`, a URL of one
_OTHER_REPO = re.compile(
    r"(?:--repo[= ]|-R[= ]?)\s*(?P<a>\S+)"
    r"|\brepos/(?P<b>[^/\s'\"`]+/[^/\s'\"`]+)"
    r"|github\.com[:/](?P<c>[\w.-]+/[\w.-]+)")
# a script naming the repository it calls: `owner: 'vuejs'`, `repo: "ecosystem-ci"`
_LITERAL_REPO = re.compile(r"\b(?:owner|repo)\s*:\s*['\"`]")
_REPO_INPUT = re.compile(r"repo|owner", re.IGNORECASE)
_THIS_REPO = re.compile(r"github\.repository\b|GITHUB_REPOSITORY|\{owner\}/\{repo\}|"
                        r":owner/:repo|context\.repo|repo\.owner")


@cache
def knowledge() -> dict[str, Any]:
    return dict(load("token_notes.yml"))


@register
class TokenNotes(Transform):
    id = "token-notes"
    summary = ("notes only: a personal token where the GITHUB_TOKEN would do; jobs on "
               "self-hosted runners")
    fix_safety = "no fixes"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        jobs = doc.data.get("jobs")
        if not isinstance(jobs, dict):
            return
        runner = self_hosted_note(jobs)
        if runner is not None:
            yield runner
        if "workflow_call" in trigger_events(doc.data):
            return  # a reusable workflow runs with its caller's token, in the caller's repository
        for job_id, job in jobs.items():
            if isinstance(job, dict) and isinstance(job.get("steps"), list):
                yield from personal_token_notes(doc, repo, str(job_id), job)


# 1. personal tokens ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenUse:
    """Step `index` passes secret `secret` as its GitHub token through `via`."""

    index: int
    secret: str
    via: str  # `with: token`, `env GH_TOKEN`
    checkout: bool = False  # actions/checkout keeping the credentials for later steps


def token_uses(workflow_env: Any, job: dict[str, Any], kb: dict[str, Any]) -> list[TokenUse]:
    """Where the job's steps pass a secret as their GitHub token (`kb`: the actions knowledge,
    the repository's own entries included)."""
    env_names = knowledge()["token_env"]["names"]
    uses: list[TokenUse] = []
    for index, step in enumerate(job["steps"]):
        if not isinstance(step, dict):
            continue
        with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
        env = env_values(workflow_env, job.get("env"), step.get("env"))
        places: list[tuple[str, Any]] = []
        checkout = False
        if isinstance(step.get("uses"), str):
            key = action_key(step["uses"])
            entry = kb.get(key) or {}
            if entry.get("token_input"):
                places.append((f"with: {entry['token_input']}", with_.get(entry["token_input"])))
            if entry.get("token_env"):
                places.append((f"env {entry['token_env']}", env.get(entry["token_env"])))
            checkout = key == "actions/checkout"
        elif isinstance(step.get("run"), str):
            places += [(f"env {name}", env.get(name)) for name in env_names]
        for via, value in places:
            for secret in secret_names(value):
                persist = str(with_.get("persist-credentials", "true")).lower() != "false"
                uses.append(TokenUse(index, secret, via, checkout and persist))
    return uses


def personal_token_notes(doc: Document, repo: RepoContext, job_id: str, job: dict[str, Any]
                         ) -> Iterator[Note]:
    workflow_env = doc.data.get("env")
    by_secret: dict[str, list[TokenUse]] = {}
    for use in token_uses(workflow_env, job, repo_knowledge(repo).actions):
        by_secret.setdefault(use.secret, []).append(use)
    if not by_secret:
        return
    before = analyse_workflow(doc, repo).get(job_id)
    if before is None or len(before.steps) != len(job["steps"]):
        return
    for secret, uses in by_secret.items():
        note = _note_for(doc, repo, job_id, job, secret, uses, before)
        if note is not None:
            yield note


def _note_for(doc: Document, repo: RepoContext, job_id: str, job: dict[str, Any], secret: str,
              uses: list[TokenUse], before: JobNeeds) -> Note | None:
    after = _with_github_token(doc, repo, job_id, job, secret)
    if after is None or len(after.steps) != len(before.steps):
        return None
    first = uses[0].index
    reached = sorted({u.index for u in uses} | {
        i for i, (old, new) in enumerate(zip(before.steps, after.steps, strict=True))
        if old.needs != new.needs or old.unknown != new.unknown})
    if any(after.steps[i].unknown for i in reached):
        return None  # an operation the analysis does not understand with the GITHUB_TOKEN
    steps = [job["steps"][i] for i in reached]
    if any(_elsewhere(step) for step in steps):
        return None
    needs = [n for i in reached for n in after.steps[i].needs]
    checkout = [u for u in uses if u.checkout]
    if checkout and first < len(job["steps"]) - 1:
        needs.append(Need("contents", "write", "a later push with the credentials "
                          "actions/checkout keeps"))
    if any(n.when is not None for n in needs):
        return None  # the need depends on an input decided at run time (a registry, ...)
    scopes = _strongest(needs)
    if "write" not in scopes.values():
        return None  # a personal token for reads is often for other repositories' reads
    what = list(dict.fromkeys(n.what for n in needs))
    shown = ", ".join(what[:3]) + (f" and {len(what) - 3} more" if len(what) > 3 else "")
    grant = ", ".join(f"{s}: {lvl}" for s, lvl in sorted(scopes.items()))
    via = ", ".join(dict.fromkeys(u.via for u in uses))
    message = (f"job {job_id}: secrets.{secret} is the GitHub token of {shown} ({via}), which "
               f"the GITHUB_TOKEN can do here with {grant}; a personal token expires and fails "
               "the run for nothing: use ${{ github.token }} and grant the scopes, unless the "
               "secret is there so that these writes start other workflows (the GITHUB_TOKEN's "
               f"events start none but {' and '.join(knowledge()['no_new_runs']['except'])})")
    return Note(TokenNotes.id, ("jobs", job_id, "steps", first), message)


def _with_github_token(doc: Document, repo: RepoContext, job_id: str, job: dict[str, Any],
                       secret: str) -> JobNeeds | None:
    """The job analysed again with `secrets.<secret>` read as the GITHUB_TOKEN everywhere."""
    from gha_fix.transforms.analysis import Analyser

    pattern = re.compile(rf"secrets\.{re.escape(secret)}\b|secrets\[\s*'{re.escape(secret)}'\s*\]")

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub("github.token", value)
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    metadata = None
    if repo.resolver is not None:
        from gha_fix.transforms.analysis.action_metadata import metadata_for

        metadata = metadata_for(repo.resolver)
    analyser = Analyser(repo, repo_knowledge(repo), metadata)
    return analyser.job(job_id, swap(job), swap(env_values(doc.data.get("env"))))


def _elsewhere(step: dict[str, Any]) -> bool:
    """Whether a step may reach another repository or the workflow files."""
    with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
    if action_key(str(step.get("uses", ""))) == "actions/checkout" and (
            str(with_.get("submodules", "false")).lower() not in ("false", "")):
        return True
    for name, value in with_.items():  # `repository:`, `repo:`, `target-repo:`, `owner:`
        if _REPO_INPUT.search(str(name)) and value not in (None, "") and (
                not _THIS_REPO.search(str(value))):
            return True
    key = action_key(str(step.get("uses", "")))
    run = str(step.get("run", ""))
    for tool in knowledge()["writes_elsewhere"]:
        if key == tool.get("action") or (
                tool.get("command") and re.search(rf"\b{re.escape(tool['command'])}\b", run)):
            return True
    texts = string_values(step)
    if any(re.search(knowledge()["workflow_files"]["pattern"], t) for t in texts):
        return True
    for text in texts:
        if _LITERAL_REPO.search(text):
            return True
        for match in _OTHER_REPO.finditer(text):
            target = match.group("a") or match.group("b") or match.group("c") or ""
            if not _THIS_REPO.search(target):
                return True
    return False


def _strongest(needs: list[Need]) -> dict[str, str]:
    order = {"read": 1, "write": 2}
    out: dict[str, str] = {}
    for need in needs:
        if order[need.level] > order.get(out.get(need.scope, ""), 0):
            out[need.scope] = need.level
    return out


# 2. self-hosted runners -----------------------------------------------------------------------
def self_hosted_note(jobs: dict[str, Any]) -> Note | None:
    """One note for the workflow: the first job on a self-hosted runner (or that may be)."""
    maybe: tuple[str, str] | None = None
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            continue
        for labels in runner_labels(job):
            verdict = self_hosted(labels)
            if verdict == "yes":
                return _runner_note(str(job_id), labels, certain=True)
            if verdict == "maybe" and maybe is None:
                maybe = (str(job_id), ", ".join(labels))
    if maybe is None:
        return None
    return _runner_note(maybe[0], maybe[1].split(", "), certain=False)


def _runner_note(job_id: str, labels: list[str], certain: bool) -> Note:
    days = knowledge()["runner_removal"]["days"]
    shown = ", ".join(labels)
    where = "runs on a self-hosted runner" if certain else (
        "may run on a self-hosted runner (or it is a larger runner's or a runner service's label)")
    return Note(TokenNotes.id, ("jobs", job_id), (
        f"job {job_id} {where} (runs-on: {shown}): a self-hosted runner offline for {days} days "
        "is removed, and a deleted or expired registration fails the jobs that wait for it "
        "(`gha-fix diagnose` says runner-registration: register the runner again)"))


def runner_labels(job: dict[str, Any]) -> list[list[str]]:
    """The label sets a job may run on; none when they are chosen at run time (an expression
    gha-fix cannot resolve).  `${{ matrix.X }}` is resolved from the job's literal matrix."""
    runs_on = job.get("runs-on")
    if isinstance(runs_on, dict):
        if "group" in runs_on:  # a runner group: self-hosted, or larger GitHub-hosted runners
            return [[f"group: {runs_on['group']}", *_strings(runs_on.get("labels"))]]
        runs_on = runs_on.get("labels")
    if isinstance(runs_on, str):
        match = re.fullmatch(r"\s*\$\{\{\s*matrix\.([\w-]+)\s*\}\}\s*", runs_on)
        if match:
            return [[value] for value in _matrix_values(job, match.group(1))]
        return [] if "${{" in runs_on else [[runs_on.strip()]]
    labels = _strings(runs_on)
    if not labels or any("${{" in label for label in labels):
        return []
    return [labels]


def _matrix_values(job: dict[str, Any], name: str) -> list[str]:
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if not isinstance(matrix, dict):
        return []
    values = matrix.get(name)
    found = [v for v in values if isinstance(v, str)] if isinstance(values, list) else []
    for item in matrix.get("include") or []:
        if isinstance(item, dict) and isinstance(item.get(name), str):
            found.append(item[name])
    if (values is not None and not isinstance(values, list)) or any("${{" in v for v in found):
        return []
    return list(dict.fromkeys(found))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    return []


def self_hosted(labels: list[str]) -> str:
    """`yes` (the self-hosted label), `maybe` (a label that is not GitHub's, a runner group)
    or `no` (GitHub-hosted labels only)."""
    data = knowledge()
    if any(label.lower() == data["self_hosted"]["label"] for label in labels):
        return "yes"
    hosted = [re.compile(p, re.IGNORECASE) for p in data["github_hosted"]["patterns"]]
    if all(any(p.fullmatch(label) for p in hosted) for label in labels):
        return "no"
    return "maybe"
