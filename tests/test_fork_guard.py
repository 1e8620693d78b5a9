"""fork-guard: what runs, not just what the text says.

Every golden case of tests/golden/fork-guard is run through the transform; the `if:` conditions
of the input and of the output are then evaluated concretely with the expression module
(transforms/lib/expressions.py, tested by tests/test_gh_expr.py) for a push, a same-repository
pull request and a fork pull request, and the tests assert which steps run: only fork pull
requests lose steps, and exactly the expected ones.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from test_golden import run_case

from gha_fix.codemod.document import Document
from gha_fix.transforms.analysis import InputCondition, Need, StepNeeds
from gha_fix.transforms.fork_guard.checkout import head_checkout
from gha_fix.transforms.fork_guard.context import pr_context, runs
from gha_fix.transforms.fork_guard.guard import SAME_REPO, combine, guard_expression, guarded_if
from gha_fix.transforms.fork_guard.needs import secrets_in, write_reasons
from gha_fix.transforms.lib import expressions
from gha_fix.transforms.lib.expressions import UNKNOWN, parse

GOLDEN = ROOT / "tests" / "golden" / "fork-guard"
REPOSITORY = "octo/app"


# --- a tiny workflow simulator ----------------------------------------------------------------
def context(scenario: str, event: str, secret_names: set[str]) -> dict[str, Any]:
    """`push`, `same` (a member's branch of the repository) or `fork` (an outsider's fork)."""
    github: dict[str, Any] = {"event_name": event, "repository": REPOSITORY,
                              "repository_owner": "octo", "actor": "someone", "event": {}}
    if scenario == "push":
        github.update(event_name="push", ref="refs/heads/main")
    else:
        fork = scenario == "fork"
        github["ref"] = "refs/pull/7/merge"
        github["head_ref"] = "feature"
        github["event"] = {"number": 7, "pull_request": {
            "number": 7, "draft": False, "labels": [],
            "author_association": "CONTRIBUTOR" if fork else "MEMBER",
            "head": {"sha": "abc", "ref": "feature",
                     "repo": {"full_name": "outsider/app" if fork else REPOSITORY,
                              "fork": fork}},
        }}
    no_secrets = scenario == "fork" and event != "pull_request_target"
    secrets = {"GITHUB_TOKEN": "ghs_test"} | (
        {} if no_secrets else {n: "set" for n in secret_names})
    return {"github": github, "secrets": secrets, "matrix": {"os": "ubuntu-latest"},
            "env": {}}


def env_of(ctx: dict[str, Any], *envs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for env in envs:
        for name, value in (env or {}).items():
            if isinstance(value, str) and value.strip().startswith("${{"):
                result = expressions.evaluate(expressions.condition(value).children[-1], ctx)
                value = expressions.string(result) if not isinstance(result, dict | list) else ""
            out[name] = value if isinstance(value, str) else expressions.string(value)
    return out


def label(step: dict[str, Any], index: int) -> str:
    return str(step.get("name") or step.get("run") or step.get("uses") or index)


def simulate(data: dict[str, Any], ctx: dict[str, Any], failing: frozenset[str] = frozenset()
             ) -> dict[str, list[str] | None]:
    """Job id -> labels of the steps that run (None: the job is skipped).  Steps whose label is
    in `failing` fail; every other step succeeds."""
    jobs = data["jobs"]
    results: dict[str, str] = {}
    ran: dict[str, list[str] | None] = {}

    def visit(job_id: str) -> str:
        if job_id in results:
            return results[job_id]
        job = jobs[job_id]
        needs = job.get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        outcomes = [visit(n) for n in needs]
        status = "success" if all(o == "success" for o in outcomes) else (
            "failure" if "failure" in outcomes else "skipped")
        job_ctx = {**ctx, "env": env_of(ctx, data.get("env"), job.get("env"))}
        if expressions.runs(job.get("if"), job_ctx, status) is not True:
            results[job_id], ran[job_id] = "skipped", None
            return "skipped"
        steps_ran: list[str] = []
        result = "success"
        for index, step in enumerate(job.get("steps") or []):
            # a step's own env is in its `if:` env context (actions/runner StepsRunner.cs)
            step_ctx = {**job_ctx, "env": {**job_ctx["env"], **env_of(ctx, step.get("env"))}}
            if expressions.runs(step.get("if"), step_ctx, result) is True:
                steps_ran.append(label(step, index))
                if label(step, index) in failing:
                    result = "failure"
        results[job_id], ran[job_id] = result, steps_ran
        return result

    for job_id in jobs:
        visit(job_id)
    return ran


def secret_names(text: str) -> set[str]:
    return set(re.findall(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", text))


def events_of(data: dict[str, Any]) -> list[str]:
    on = data["on"]
    return [on] if isinstance(on, str) else list(on)


def output_of(case: str, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    text = (GOLDEN / case / "input.yml").read_text()
    out, _ = run_case(GOLDEN / case, tmp_path)
    before = Document.from_text("in.yml", text).data
    after = Document.from_text("out.yml", out.decode()).data
    return before, after, text


def skipped_steps(before: dict[str, list[str] | None], after: dict[str, list[str] | None]
                  ) -> set[str]:
    """`job` (the whole job) or `job/step label` that ran before the fix and not after."""
    lost: set[str] = set()
    for job_id, steps in before.items():
        if steps is None:
            continue
        if after[job_id] is None:
            lost.add(job_id)
        else:
            lost |= {f"{job_id}/{s}" for s in steps if s not in (after[job_id] or [])}
    return lost


# case -> (PR event, steps/jobs a fork PR no longer runs, failing steps for the run)
EXPECTED: dict[str, tuple[str, set[str], frozenset[str]]] = {
    "comment-step-after-tests": ("pull_request", {"test/Post coverage comment"}, frozenset()),
    "job-secret-env": ("pull_request", {"preview", "announce"}, frozenset()),
    "push-and-pull-request": ("pull_request", {"test/Notify Slack"}, frozenset()),
    "existing-if-plain": ("pull_request", {"test/Publish benchmark", "test/Quoted condition"},
                          frozenset()),
    "existing-if-expression": ("pull_request", {"test/Label size", "test/Folded condition"},
                               frozenset()),
    # `npm test` fails: the always()/failure()/!cancelled() steps still run for members and
    # pushes, and not for forks
    "existing-if-status-functions": (
        "pull_request", {"test/Comment results", "test/Report failure", "test/Not cancelled"},
        frozenset({"npm test"})),
    # guards without the "other events pass" part where the condition already excludes push
    "existing-if-event-name": ("pull_request", {
        "test/Comment on the pull request", "test/Label unless pushed",
        "test/Announce on main or on pull requests"}, frozenset()),
    "already-guarded": ("pull_request", set(), frozenset()),
    "deploy-environment-and-oidc": ("pull_request", {"docs", "upload"}, frozenset()),
    "target-labeler": ("pull_request_target", set(), frozenset()),
    "target-head-checkout": ("pull_request_target", {"integration"}, frozenset()),
    "target-head-checkout-held-back": ("pull_request_target", set(), frozenset()),
    # issue #12 §3: a job others need (unsafe: its dependants go with it, the !cancelled() gate
    # still runs), or its steps when that is sound
    "needed-job-unsafe": ("pull_request", {"prepare", "unit", "docs"}, frozenset()),
    "needed-job-step-guards": ("pull_request", {"assets/Download licensed fonts"}, frozenset()),
    # an environment '' on pull requests is no deployment: only the step is guarded
    "environment-per-event": ("pull_request", {"site/Count the pages"}, frozenset()),
    # CodSpeed, Codecov, Nx Cloud work without their token
    "optional-secrets": ("pull_request", {"bench/Keep the history"}, frozenset()),
    # fetches the pull request's commits, diffs, labels: what it exists for on forks
    "target-fetch-labeler": ("pull_request_target", set(), frozenset()),
    "tool-named-secrets": ("pull_request", {"browsers/Real browsers",
                                            "browsers/Visual snapshots"}, frozenset()),
    # a job only Dependabot's pull requests run is no fork's: nothing to guard
    "bot-actor-only": ("pull_request", set(), frozenset()),
    # a test step with secrets in its env stays (its guard is unsafe); the upload is guarded
    "test-step-with-secrets": ("pull_request", {"examples/Publish the gallery"}, frozenset()),
}


def test_every_golden_case_has_expectations() -> None:
    assert {p.name for p in GOLDEN.iterdir() if (p / "input.yml").is_file()} == set(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_what_runs(case: str, tmp_path: Path) -> None:
    event, lost_on_fork, failing = EXPECTED[case]
    before, after, text = output_of(case, tmp_path)
    names = secret_names(text)
    events = [e for e in events_of(before) if e.startswith("pull_request")]
    for pr_event in {event, *events}:
        for scenario in ("push", "same", "fork"):
            if scenario == "push" and "push" not in events_of(before):
                continue
            for fails in (frozenset(), failing):
                ctx = context(scenario, pr_event, names)
                lost = skipped_steps(simulate(before, ctx, fails), simulate(after, ctx, fails))
                gained = skipped_steps(simulate(after, ctx, fails), simulate(before, ctx, fails))
                assert gained == set(), (scenario, pr_event)  # a guard never adds a step
                if scenario == "fork" and fails == failing:
                    assert lost == lost_on_fork, pr_event
                elif scenario == "fork":  # nothing fails: failure() steps never run anyway
                    assert lost <= lost_on_fork, pr_event
                else:
                    assert lost == set(), (scenario, pr_event)  # pushes, members: unchanged


def test_status_functions_keep_their_meaning(tmp_path: Path) -> None:
    """`always()` inside `(always()) && (guard)` still overrides the implicit success()."""
    _, after, text = output_of("existing-if-status-functions", tmp_path)
    ctx = context("same", "pull_request", secret_names(text))
    ran = simulate(after, ctx, frozenset({"npm test"}))["test"]
    assert ran == ["actions/checkout@v4", "npm test", "Comment results", "Report failure",
                   "Not cancelled"]
    ran = simulate(after, ctx)["test"]  # nothing fails: failure() is false
    assert ran == ["actions/checkout@v4", "npm test", "Comment results", "Not cancelled"]


# --- the pieces --------------------------------------------------------------------------------
@pytest.mark.parametrize(("existing", "expected"), [
    (None, "G"),
    (True, "G"),
    ("matrix.os == 'x'", "matrix.os == 'x' && G"),
    ("${{ matrix.os == 'x' }}", "${{ matrix.os == 'x' && G }}"),
    ("  ${{ always() }}\n", "  ${{ always() && G }}\n"),
    ("!cancelled()", "!cancelled() && G"),
    ("a && b", "a && b && G"),  # `(a && b) && G`: the same tree
    ("a == 1 ||\nb == 2\n", "(a == 1 ||\nb == 2) && G\n"),  # && binds tighter than ||
    ("a == (", "(a == () && G"),  # unreadable: parenthesised, GitHub will say why
    ("${{ a }} && ${{ b }}", None),
    (1, None),
])
def test_combine(existing: Any, expected: str | None) -> None:
    assert combine(existing, "G") == expected


def test_combine_parenthesises_a_guard_that_is_not_one_test() -> None:
    assert combine("a", "x || y") == "a && (x || y)"
    assert combine("a", "x && y") == "a && (x && y)"
    assert combine("a || b", "x == y") == "(a || b) && x == y"


@pytest.mark.parametrize(("existing", "events", "expected"), [
    # false for push whatever else holds: the guard need not let push through
    ("github.event_name == 'pull_request'", ["push", "pull_request"],
     f"github.event_name == 'pull_request' && {SAME_REPO}"),
    ("${{ github.event_name != 'push' && always() }}", ["push", "pull_request"],
     f"${{{{ github.event_name != 'push' && always() && {SAME_REPO} }}}}"),
    # true for push, unknown for workflow_dispatch (`null == false` is true): kept
    ("github.event_name != 'pull_request_target'", ["push", "pull_request"],
     f"github.event_name != 'pull_request_target' && "
     f"(github.event_name != 'pull_request' || {SAME_REPO})"),
    ("github.event.pull_request.draft == false", ["workflow_dispatch", "pull_request"],
     f"github.event.pull_request.draft == false && "
     f"(github.event_name != 'pull_request' || {SAME_REPO})"),
    # a reusable workflow sees its caller's event, whatever its name
    ("github.event_name != 'push'", ["push", "pull_request", "workflow_call"],
     f"github.event_name != 'push' && (github.event_name != 'pull_request' || {SAME_REPO})"),
    (None, ["push", "pull_request"], f"github.event_name != 'pull_request' || {SAME_REPO}"),
    (None, ["pull_request"], SAME_REPO),
])
def test_guarded_if(existing: Any, events: list[str], expected: str) -> None:
    assert guarded_if(existing, ["pull_request"], events) == expected


def test_guard_expression() -> None:
    assert guard_expression(["pull_request"], others=False) == SAME_REPO
    assert guard_expression(["pull_request"], others=True) == (
        f"github.event_name != 'pull_request' || {SAME_REPO}")
    assert guard_expression(["pull_request", "pull_request_review"], others=True) == (
        "(github.event_name != 'pull_request' && github.event_name != 'pull_request_review')"
        f" || {SAME_REPO}")


def test_secrets_in() -> None:
    assert secrets_in("${{ secrets.NPM_TOKEN }}") == {"NPM_TOKEN"}
    assert secrets_in("${{ secrets['my-key'] }}") == {"my-key"}
    assert secrets_in("${{ secrets.GITHUB_TOKEN }} ${{ github.token }}") == set()
    assert secrets_in("${{ secrets.PAT || github.token }}") == set()  # falls back to the token
    assert secrets_in("${{ secrets.SONAR_TOKEN != '' }}") == set()  # a presence test
    assert secrets_in("${{ fromJSON(steps.get-secrets.outputs.secrets).KEY }}") == set()
    assert secrets_in("echo secrets.NOT_AN_EXPRESSION") == set()
    assert secrets_in({"a": ["${{ secrets.A }}"], "b": "${{ secrets.B }}"}) == {"A", "B"}


# Three-valued evaluation (what fork-guard knows of a pull request) must agree with concrete
# evaluation (a real pull request) whenever it is sure.
CONDITIONS = [
    SAME_REPO,
    f"github.event_name != 'pull_request' || {SAME_REPO}",
    "!github.event.pull_request.head.repo.fork",
    "github.event.pull_request.head.repo.fork == false",
    "github.event.pull_request.head.repo.fork != true && github.actor != 'x'",
    "github.event.pull_request.head.repo.full_name == 'octo/app'",
    "contains(fromJSON('[\"OWNER\",\"MEMBER\"]'), github.event.pull_request.author_association)",
    "github.event.pull_request.author_association == 'MEMBER'",
    "github.event.pull_request.author_association != 'MEMBER'",
    "contains(github.event.pull_request.labels.*.name, 'safe to test')",
    "github.event_name == 'push'",
    "github.ref == 'refs/heads/main'",
    "startsWith(github.ref, 'refs/tags/')",
    "startsWith(github.ref, 'refs/pull/')",
    "github.repository == 'octo/app'",
    "github.event_name == 'pull_request' && github.event.pull_request.head.repo.fork",
    "always() && github.event_name == 'push'",
    "success() || github.event_name == 'push'",
    "matrix.os == 'ubuntu-latest'",
    "env.HAS_KEY == 'true'",
    "(github.event_name == 'push' || github.event_name == 'pull_request') && "
    "github.event.pull_request.head.repo.full_name == github.repository",
]


@pytest.mark.parametrize("condition", CONDITIONS)
def test_three_valued_evaluator_agrees_when_sure(condition: str) -> None:
    assert parse(condition) is not None
    for fork, scenario in ((True, "fork"), (False, "same")):
        env = {"HAS_KEY": "false" if fork else UNKNOWN}
        sure = runs(condition, pr_context("pull_request", fork, env))
        if sure is UNKNOWN:
            continue
        ctx = context(scenario, "pull_request", {"KEY"})
        ctx["env"] = {"HAS_KEY": "false"}
        # GitHub adds success() when there is no status function; the job is succeeding here
        assert expressions.runs(condition, ctx, "success") is sure, scenario


def test_three_valued_evaluator_is_sure_of_the_guards() -> None:
    fork = pr_context("pull_request", True, {})
    same = pr_context("pull_request", False, {})
    for condition in CONDITIONS[:7]:
        assert runs(condition, fork) is False, condition
    assert runs(SAME_REPO, same) is True
    assert runs("github.event_name == 'push'", same) is False
    assert runs("github.ref == 'refs/heads/main'", fork) is False
    assert runs("github.repository == 'octo/app'", fork) is UNKNOWN  # not a fork guard


# --- pull_request_target: what counts as running the pull request's code ------------------------
HEAD = {"uses": "actions/checkout@v4", "with": {"ref": "${{ github.event.pull_request.head.sha }}"}}


@pytest.mark.parametrize(("steps", "expected"), [
    ([HEAD, {"run": "npm ci && npm test"}], (0, True)),
    ([HEAD, {"uses": "./.github/actions/build"}], (0, True)),
    ([HEAD, {"uses": "docker/build-push-action@v6"}], (0, True)),
    ([HEAD, {"uses": "actions/labeler@v5"}], (0, False)),
    ([HEAD, {"run": "git diff --stat\necho done >> $GITHUB_OUTPUT"}], (0, False)),
    ([HEAD, {"run": "if [ -f x ]; then ./x; fi"}], (0, True)),
    ([{"run": "gh pr checkout ${{ github.event.number }}"}, {"run": "make"}], (0, True)),
    # checked out aside as data, read by the base branch's tools
    ([{**HEAD, "with": {**HEAD["with"], "path": "pr"}}, {"run": "make check DIR=pr"}],
     (0, False)),
    ([{**HEAD, "with": {**HEAD["with"], "path": "pr"}},
      {"run": "make", "working-directory": "pr"}], (0, True)),
    ([{"uses": "actions/checkout@v4"}, {"run": "make"}], None),  # the base branch
])
def test_head_checkout(steps: list, expected: tuple | None) -> None:
    assert head_checkout(steps) == expected


def test_conditional_write_needs_follow_the_input() -> None:
    needs = StepNeeds(("jobs", "j", "steps", 0), [
        Need("contents", "write", "some/action",
             when=InputCondition.of({"input": "publish", "set": True}))])
    pushing = {"uses": "some/action@v1", "with": {"publish": "true"}}
    not_on_prs = {"uses": "some/action@v1",
                  "with": {"publish": "${{ github.event_name != 'pull_request' }}"}}
    assert write_reasons(needs, pushing)[0] == [
        "needs contents: write (some/action, when its publish input is set)"]
    assert write_reasons(needs, not_on_prs)[0] == []
    # a need that holds when its input is NOT set: an input empty on fork PRs keeps it
    unset = StepNeeds(("jobs", "j", "steps", 0), [
        Need("id-token", "write", "some/action",
             when=InputCondition.of({"input": "token", "unset": True}))])
    empty_on_forks = {"uses": "some/action@v1",
                      "with": {"token": "${{ github.event_name != 'pull_request' && 'x' || '' }}"}}
    assert write_reasons(unset, empty_on_forks)[0] == [
        "needs id-token: write (some/action, when its token input is not set)"]
    comment = StepNeeds(("jobs", "j", "steps", 0), [Need("pull-requests", "write", "gh pr")])
    assert write_reasons(comment, {"run": "gh pr comment"}) == (
        ["needs pull-requests: write (gh pr)"], True)
    scan = StepNeeds(("jobs", "j", "steps", 0), [Need("security-events", "write", "codeql")])
    assert write_reasons(scan, {"uses": "github/codeql-action/analyze@v3"})[0] == []


def test_second_run_only_reports(tmp_path: Path) -> None:
    """Guards it added are recognised as existing guards: nothing more to do."""
    case = GOLDEN / "existing-if-status-functions"
    _, lines = run_case(case, tmp_path, (case / "expected.yml").read_bytes())
    assert lines == [f".github/workflows/workflow.yml:{n}: [fork-guard] step '{s}': already "
                     "guarded against fork pull requests"
                     for n, s in ((8, "Comment results"), (13, "Report failure"),
                                  (18, "Not cancelled"))]
