"""`permissions`: give every job exactly the GITHUB_TOKEN scopes its steps need.

Why: a job whose token lacks a scope fails with `403 Resource not accessible by integration`
(a repo or org with the restricted default, or a `permissions:` block that forgot one); a
token with more scopes than needed is what an attacker inherits from a compromised step.

What it writes: a read-only top-level block (`contents: read`, or `{}` when no job reads the
repository) and a job-level block for each job that needs more, each write scope with a
trailing comment naming the step that needs it (`contents: write  # gh release create`).
Existing blocks get missing scopes added and unneeded ones removed.

When it cannot be sure (an unknown action, a script it cannot read, a remote reusable
workflow), the job is left as is and reported.  The top-level block is then not restricted,
unless every such job has a block of its own, or the top-level block is explicit: then those
jobs get a copy of it, in the same edit, and keep exactly what they had.  With no top-level
block, what such a job has depends on the repository's default, so nothing is written, unless
the config says the repository uses the restricted default (`repository_default: restricted`):
then those jobs get that default (`contents: read, packages: read`) as blocks of their own.
Restricting the top level relies on the blocks of the jobs that need more (`requires`): if
one of those is suppressed or dropped, the top level is left alone too.  Reusable workflows
(`workflow_call`) are left to their callers: a callee that asks for more fails to start.

Fix safety: adding blocks or scopes is safe; removing granted scopes is safe only because it
is done for jobs whose every step is understood; nothing is removed from other jobs.
Options (`permissions:` in .github/gha-fix.yml): `comments: false` drops the "why" comments;
`actions: {owner/repo: {permissions: {...}, token_input: ..., source: ...}}` adds knowledge;
`commands: {make release: {contents: write}, make: {}}` says what a script's command needs;
`repository_default: restricted` says what a job with no block gets (see above).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from gha_fix.codemod.document import Document, YamlPath
from gha_fix.codemod.model import Fix, Note
from gha_fix.codemod.operations import Commented, ReplaceValue, SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform
from gha_fix.transforms import register
from gha_fix.transforms.analysis import (
    LEVELS,
    SCOPES,
    JobNeeds,
    Knowledge,
    Need,
    action_key,
    analyse_workflow,
    repo_knowledge,
)
from gha_fix.transforms.knowledge_files import options_schema
from gha_fix.transforms.lib.workflow import trigger_events
from gha_fix.transforms.moved_comments import MovedComments

TOP_BEFORE = ("env", "defaults", "concurrency", "jobs")
JOB_AFTER = ("runs-on",)
JOB_BEFORE = ("environment", "concurrency", "outputs", "env", "defaults", "strategy",
              "container", "services", "timeout-minutes", "continue-on-error", "steps", "uses",
              "with", "secrets")


def granted(block: Any) -> dict[str, str] | None:
    """A `permissions:` value as {scope: level}; None for `read-all`/`write-all`/odd values."""
    if block is None:
        return None
    if isinstance(block, dict):
        return {str(k): str(v) for k, v in block.items() if str(v) in ("read", "write")}
    return None


def previous_grant(block: Any) -> dict[str, str]:
    """What a block grants, `read-all`/`write-all` spelt out (no block: nothing we rely on)."""
    if block in ("read-all", "write-all"):
        level = block.removesuffix("-all")
        return {scope: ("write" if scope == "id-token" else level) for scope in SCOPES
                if scope != "id-token" or level == "write"}
    return granted(block) or {}


def covers(grant: dict[str, str], needs: dict[str, str]) -> bool:
    return all(LEVELS.get(grant.get(s, "none"), 0) >= LEVELS[lvl] for s, lvl in needs.items())


# The GITHUB_TOKEN of a job with no block anywhere in a repository (or organisation) set to
# the restricted default: https://docs.github.com/en/actions/security-for-github-actions/
# security-guides/automatic-token-authentication (metadata: read is always there).
RESTRICTED = {"contents": "read", "packages": "read"}

LENT_REASONS = {
    "contents": "kept: a program here may push with the checkout's persisted token",
    "packages": "kept: a program here may publish with the registry login",
}


# reasons from a script's commands: what they need can be declared in the config
_SCRIPT_REASON = re.compile(r"command gha-fix cannot analyse|runs after actions/checkout kept|"
                            r"is not in the repository|no script |no rule for |no recipe ")


def kept_by_actions(job: dict, knowledge: Knowledge) -> Iterable[tuple[str, str]]:
    """(action, scope) for the `keeps:` of the knowledge base's entry of each action a job uses."""
    for step in job.get("steps") or []:
        uses = step.get("uses") if isinstance(step, dict) else None
        if isinstance(uses, str):
            for scope in knowledge.actions.get(action_key(uses), {}).get("keeps", ()):
                yield action_key(uses), scope


def writes(block: Any) -> bool:
    """Whether a `permissions:` value grants any write scope."""
    return block == "write-all" or "write" in (granted(block) or {}).values()


def describe(block: dict[str, str]) -> str:
    return ", ".join(f"{s}: {lvl}" for s, lvl in block.items()) or "{}"


@register
class Permissions(Transform):
    id = "permissions"
    summary = "minimal GITHUB_TOKEN permissions per job, computed from what its steps do"
    fix_safety = "safe (scopes are removed only from jobs whose every step is understood)"

    @classmethod
    def options_schema(cls) -> Mapping[str, Any]:
        """transforms/data/options/permissions.schema.json (scopes, levels, the repository
        default, the repository's own actions and commands)."""
        return options_schema("permissions")

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        data = doc.data
        jobs = data.get("jobs")
        if not isinstance(jobs, dict) or not jobs:
            return
        if "workflow_call" in trigger_events(data):
            yield Note(self.id, ("on",), "reusable workflow: its callers decide its "
                       "permissions (a callee asking for more fails to start); left as is")
            return
        analysis = analyse_workflow(doc, repo)
        own = {job_id: isinstance(job, dict) and "permissions" in job
               for job_id, job in jobs.items()}
        inheriting = [j for j in analysis if not own[j]]
        unknown = [j for j in inheriting if not analysis[j].understood]
        top = data.get("permissions")
        top_grant = granted(top)
        # what jobs get with no block anywhere: the repository's setting, unknown to gha-fix
        # unless the config says it (`repository_default: restricted`)
        # (checked by the options schema), else as read from GitHub (`repo.repository_default`)
        setting = self.options.get("repository_default") or repo.repository_default
        default = RESTRICTED if setting == "restricted" else None
        source = top if top is not None else default
        # jobs that are not understood keep that grant in blocks of their own (the same
        # grant, so nothing changes for them): the top level can then be read-only
        pinned = unknown if unknown and (writes(top) or (top is None and default)) else []

        new_top: dict[str, str] | None = top_grant
        top_fix: Fix | None = None
        moved = MovedComments()
        if not unknown or pinned:
            reads = any("contents" in analysis[j].scopes() for j in analysis)
            wanted = {"contents": "read"} if reads else {}
            # a read-only block stays: jobs that need more get blocks of their own
            keep = top_grant is not None and all(v == "read" for v in top_grant.values())
            if not keep and top_grant != wanted:
                new_top = wanted
                # what the user wrote about the scopes that move into job blocks goes along
                moved = MovedComments.of(doc, top, wanted)
                top_fix = self.top_fix(top, wanted, pinned, analysis, source, moved)
        job_fixes: list[Fix | Note] = []
        for job_id, needs in analysis.items():
            job = jobs[job_id]
            if not isinstance(job, dict):
                continue
            if not needs.understood:
                fix = self.add_missing(job_id, job.get("permissions"), needs) if (
                    own[job_id]) else None
                job_fixes.append(self.unknown_note(job_id, needs, fix))
                if fix is not None:
                    job_fixes.append(fix)
                continue
            needs = self.with_kept(doc, job_id, job, needs, top, repo_knowledge(repo))
            fix = self.job_fix(job_id, job, needs, new_top, previous_grant(top), moved)
            if fix is not None:
                job_fixes.append(fix)
        if top_fix is not None:  # restricting the top relies on the inheriting jobs' blocks
            relied = tuple(f.key for f in job_fixes if isinstance(f, Fix)
                           and f.path[1] in inheriting)
            top_fix, job_fixes = moved.place_above(top_fix, job_fixes)
            yield dataclasses.replace(top_fix, requires=relied)
        yield from job_fixes

    def with_kept(self, doc: Document, job_id: str, job: dict, needs: JobNeeds,
                  top: Any, knowledge: Knowledge) -> JobNeeds:
        """`needs` plus the grants a safe fix must not take away although no step is seen to
        use them: `id-token: write` in a job that runs programs gha-fix cannot see into (any
        of them may request an OIDC token), contents/packages: write where such a program runs
        after a checkout kept its token or a registry login (it may push), what the knowledge
        base says an action's grant `keeps`, and scopes whose line in the job's own block
        carries a comment saying why they are there."""
        own = job.get("permissions")
        previous = previous_grant(own if own is not None else top)
        scopes = needs.scopes(previous)
        kept: list[Need] = []
        if previous.get("id-token") == "write" and needs.opaque and "id-token" not in scopes:
            kept.append(Need("id-token", "write", "kept: a command here may request an OIDC token"))
        for action, scope in kept_by_actions(job, knowledge):
            if scope in previous and scope not in scopes:
                kept.append(Need(scope, previous[scope], f"kept: {action} may use it"))
        # with no block anywhere the job runs on the repository's default, read-write on
        # many repositories: what it lent is kept unless the config says the default is
        # the restricted one
        on_default = own is None and top is None
        permissive = on_default and self.options.get("repository_default") != "restricted"
        for scope in sorted(needs.lent):
            had = previous.get(scope) == "write" or permissive
            if had and scopes.get(scope) != "write":
                kept.append(Need(scope, "write", LENT_REASONS[scope]))
        for scope, level in (granted(own) or {}).items():
            key = doc.key_node(("jobs", job_id, "permissions", scope))
            said = key is not None and "#" in doc.line_text(key.start_mark.line)[
                key.start_mark.column:]
            if said and LEVELS[level] > LEVELS.get(scopes.get(scope, "none"), 0):
                kept.append(Need(scope, level, "kept: its comment says why"))
        if not kept:
            return needs
        return JobNeeds(needs.path, needs.steps, [*needs.needs, *kept], needs.unknown,
                        needs.unknown_actions, needs.lent)

    # fixes -----------------------------------------------------------------------------
    def value(self, block: dict[str, str], needs: JobNeeds | None,
              moved: MovedComments | None = None) -> dict[str, Any]:
        """A block to write, write scopes commented with the reason (unless turned off), and
        the comments of scopes that move here from the top level (`moved`)."""
        out: dict[str, Any] = {}
        for scope, level in block.items():
            reason = needs.reason_for(scope, level) if needs is not None else ""
            if level == "write" and reason and self.options.get("comments", True):
                out[scope] = Commented(level, reason)
            else:
                out[scope] = level
        return moved.carry(out) if moved is not None else out

    def top_fix(self, top: Any, wanted: dict[str, str], pinned: list[str],
                analysis: dict[str, JobNeeds], source: Any,
                moved: MovedComments | None = None) -> Fix:
        # one fix: the unknown jobs get their copy in the same edit that restricts the top
        ops: list[Any] = [self.pin(job_id, source, analysis[job_id], moved)
                          for job_id in pinned]
        if top is None:
            ops.append(SetKey((), "permissions", wanted, before=TOP_BEFORE))
            message = f"add a read-only top-level permissions block ({describe(wanted)})"
            kept = "the repository's restricted default"
        else:
            ops.append(ReplaceValue(("permissions",), wanted))
            was = top if isinstance(top, str) else describe(granted(top) or {})
            message = f"reduce top-level permissions ({was}) to {describe(wanted)}"
            kept = "it"
        if pinned:
            message += f"; jobs left as is keep {kept} in blocks of their own ({', '.join(pinned)})"
        path: YamlPath = ("permissions",) if top is not None else ()
        return Fix(self.id, path, message, tuple(ops), details={"pinned": list(pinned)})

    def pin(self, job_id: str, top: Any, needs: JobNeeds,
            moved: MovedComments | None = None) -> SetKey:
        """The job's own copy of the top-level block, plus what its known steps are missing
        (with the comments of the top-level scopes it copies: `moved`)."""
        if isinstance(top, str):
            value: Any = top
        else:
            grant = granted(top) or {}
            missing = {s: lvl for s, lvl in needs.scopes(grant).items()
                       if LEVELS.get(grant.get(s, "none"), 0) < LEVELS[lvl]}
            value = {**{str(k): v for k, v in top.items()},
                     **self.value(missing, needs)}
            if moved is not None:
                value = moved.carry(value)
        return SetKey(("jobs", job_id), "permissions", value, after=JOB_AFTER, before=JOB_BEFORE)

    def job_fix(self, job_id: str, job: dict, needs: JobNeeds,
                inherited: dict[str, str] | None, top_grant: dict[str, str],
                moved: MovedComments | None = None) -> Fix | None:
        """`inherited`: the top level after the fix; `top_grant`: before it, whose choice
        between alternatives (pull-requests: write for an issue endpoint on a PR) stays."""
        scopes = needs.scopes(granted(job.get("permissions")) or top_grant or inherited)
        wanted = dict(sorted(scopes.items()))
        path = ("jobs", job_id)
        if "permissions" not in job:
            if inherited is not None and covers(inherited, scopes) and (
                    not any(lvl == "write" for lvl in inherited.values())):
                return None
            op: Any = SetKey(path, "permissions", self.value(wanted, needs, moved),
                             after=JOB_AFTER, before=JOB_BEFORE)
            return Fix(self.id, path, f"job {job_id}: add permissions ({describe(wanted)})",
                       (op,), details={"permissions": wanted}, key=f"job {job_id}")
        current = job["permissions"]
        grant = granted(current)
        if grant is not None and grant == scopes and all(
                str(v) in ("read", "write", "none") for v in (current or {}).values()):
            return None  # the same grant (`contents: none` is `{}`): no rewrite
        if grant is not None:  # keep the block's order; new scopes go at the end
            ordered = {s: scopes[s] for s in grant if s in scopes}
            ordered.update({s: lvl for s, lvl in wanted.items() if s not in ordered})
            wanted = ordered
        was = current if isinstance(current, str) else describe(grant or {})
        op = ReplaceValue((*path, "permissions"), self.value(wanted, needs))
        message = f"job {job_id}: permissions ({was}) → what it needs ({describe(wanted)})"
        return Fix(self.id, path, message, (op,), details={"permissions": wanted},
                   key=f"job {job_id}")

    def add_missing(self, job_id: str, current: Any, needs: JobNeeds) -> Fix | None:
        """For a job not fully understood: only add the scopes its known steps need."""
        grant = granted(current)
        if grant is None:
            return None
        missing = {s: lvl for s, lvl in needs.scopes(grant).items()
                   if LEVELS.get(grant.get(s, "none"), 0) < LEVELS[lvl]}
        if not missing:
            return None
        path = ("jobs", job_id, "permissions")
        if not current:  # `permissions: {}`: the whole (empty) value is replaced
            ops: tuple[Any, ...] = (ReplaceValue(path, self.value(missing, needs)),)
        else:
            ops = tuple(SetKey(path, s, self.value({s: lvl}, needs)[s])
                        for s, lvl in missing.items())
        return Fix(self.id, ("jobs", job_id),
                   f"job {job_id}: add missing scopes ({describe(missing)})", ops,
                   details={"permissions": missing})

    def unknown_note(self, job_id: str, needs: JobNeeds, added: Fix | None = None) -> Note:
        """Why a job is not fully understood; "left as is" only when nothing of it changes
        (`added`: the fix adding the scopes its known steps need, which removes nothing)."""
        reason = needs.reasons()[0]
        hint = " (add it to .github/gha-fix.yml)" if needs.unknown_actions else ""
        if not hint and _SCRIPT_REASON.search(reason):
            hint = " (say what it needs under permissions: commands: in .github/gha-fix.yml)"
        more = len(needs.reasons()) - 1
        extra = f" and {more} more" if more > 0 else ""
        done = (": only the missing scopes are added, nothing is removed" if added is not None
                else " left as is")
        return Note(self.id, ("jobs", job_id),
                    f"job {job_id}{done}: {reason}{extra}{hint}",
                    unknown_actions=tuple(sorted(set(needs.unknown_actions))))
