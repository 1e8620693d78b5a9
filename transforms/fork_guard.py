"""fork-guard: skip, on fork pull requests only, the jobs and steps that cannot work there.

Why: for `pull_request` (and `pull_request_review[_comment]`) runs from a fork, GitHub gives the
workflow a read-only GITHUB_TOKEN and no secrets, so a step that writes (comments, labels, pushes,
releases), asks for an OIDC token or uses a secret fails with `403 Resource not accessible by
integration` or an empty credential, and the whole check goes red for every outside contributor.
The fix adds `github.event.pull_request.head.repo.full_name == github.repository` to the `if:` of
the smallest scope that works (the steps, or the job when it depends on the credential as a
whole), leaving other events (`push`, `schedule`...) alone.  That is a safe fix: it only stops
what would fail anyway.

`pull_request_target` is the opposite trap: secrets and a write token, so a job that checks out
the pull request's head and runs anything from it hands both to whoever opened it.  That job gets
the same-repository guard plus `persist-credentials: false` on the checkout: an unsafe fix, since
it changes what runs for fork pull requests by design.

Existing guards are recognised by evaluating the `if:` conditions (three-valued: true, false,
unknown) for an outsider's fork pull request and for a same-repository one: a condition that is
false for the first and not for the second is "already guarded"; false for both means the job
never runs for pull requests.

An existing `if:` becomes `(existing) && (guard)`, in its own form (`${{ (x) && (guard) }}` when
it was written `${{ x }}`).  Status functions keep their meaning inside the parentheses: GitHub
adds the implicit `success() && (...)` only when no status function appears *anywhere* in the
expression ("A default status check of success() is applied unless you include one of these
functions", docs.github.com, Evaluate expressions, Status check functions; the runner walks the
whole tree: actions/runner src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs,
ConvertToIfCondition, `node.Traverse().Any(...)` for always/cancelled/failure/success).  So
`(always()) && (guard)` still runs after a failure, and a condition without one still gets it.

Secrets: a step *uses* a secret it passes to an action (`with:`, or `env:` of a `uses:` step),
writes in its script, or names (`$VAR`) through an `env:` variable; a credential that common
tools read implicitly (`transforms/data/fork_guard.yml`) counts too.  A secret only carried in
`env:` that nothing names may be optional (a remote-cache token): reported, not guarded.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from gha_fix.codemod.document import Document, YamlPath
from gha_fix.codemod.model import Fix, Note, Safety
from gha_fix.codemod.operations import SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform
from gha_fix.transforms import analysis, register

DATA_FILE = Path(__file__).parent / "data" / "fork_guard.yml"
SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
STATUS_FUNCTIONS = {"always", "success", "failure", "cancelled"}


@cache
def knowledge() -> dict[str, Any]:
    return Document.from_file(DATA_FILE, "fork_guard.yml").data


# --- a three-valued GitHub expression evaluator -----------------------------------------------
# Only definite answers matter: "this condition is false for a fork pull request" is what makes
# a guard; anything not known evaluates to UNKNOWN and never counts as a guard.

class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Sym:
    """A string whose value is not known, with what is known about it."""

    name: str
    prefix: str = ""  # it starts with this
    choices: frozenset[str] = frozenset()  # it is one of these (upper case), when not empty
    distinct: frozenset[str] = frozenset()  # names of Syms it is known to differ from
    foreign: bool = False  # an outsider's name: no workflow spells it out as a literal


class Secrets:
    """The `secrets` context: empty strings on a fork pull request, except the token."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


class ExprError(Exception):
    pass


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class Parser:
    """Precedence, lowest first: `||`, `&&`, `== !=`, `< <= > >=`, `!`, `.` `[]` calls."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def parse(self) -> tuple:
        node = self.binary(0)
        if self.pos != len(self.tokens):
            raise ExprError("trailing input")
        return node

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ExprError("unexpected end")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ExprError(f"expected {expected}")
        self.pos += 1
        return token

    LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def binary(self, level: int) -> tuple:
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take()[1]
            node = ("op", op, node, self.binary(level + 1))
        return node

    def unary(self) -> tuple:
        if self.peek() == "!":
            self.take()
            return ("not", self.unary())
        return self.postfix(self.primary())

    def primary(self) -> tuple:
        kind, text = self.take()
        if text == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "num":
            return ("lit", float(int(text, 16)) if text.startswith("0x") else float(text))
        if kind == "str":
            return ("lit", text[1:-1].replace("''", "'"))
        if kind == "name":
            low = text.lower()
            if low in ("true", "false"):
                return ("lit", low == "true")
            if low == "null":
                return ("lit", None)
            if self.peek() == "(":
                self.take()
                args = []
                while self.peek() != ")":
                    args.append(self.binary(0))
                    if self.peek() == ",":
                        self.take()
                self.take(")")
                return ("call", low, tuple(args))
            return ("ctx", low)
        raise ExprError(f"unexpected {text!r}")

    def postfix(self, node: tuple) -> tuple:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                text = self.take()[1]
                node = ("get", node, ("lit", "*" if text == "*" else text))
            else:
                index = ("lit", "*") if self.peek() == "*" and self.take() else self.binary(0)
                self.take("]")
                node = ("get", node, index)
        return node


@lru_cache(maxsize=4096)  # the same conditions come back in every job and file
def parse(text: str) -> tuple | None:
    try:
        return Parser(text).parse()
    except (ExprError, ValueError):
        return None


def has_status_function(node: tuple) -> bool:
    if node[0] == "call" and node[1] in STATUS_FUNCTIONS:
        return True
    return any(isinstance(part, tuple) and has_status_function(part) for part in node[1:]) or any(
        isinstance(part, list) and any(has_status_function(a) for a in part) for part in node[1:]
    )


def truth(value: Any) -> Any:
    """True, False or UNKNOWN."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, Sym):
        return True if value.prefix or (value.choices and "" not in value.choices) else UNKNOWN
    if isinstance(value, float):
        return value != 0 and value == value
    return bool(value) if not isinstance(value, dict | list) else True


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip() or 0) if not value.strip().startswith("0x") else float(
                int(value.strip(), 16))
        except ValueError:
            return float("nan")
    return float("nan")


def loose_equal(a: Any, b: Any) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, Sym) or isinstance(b, Sym):
        return _sym_equal(a, b) if isinstance(a, Sym) else _sym_equal(b, a)
    if type(a) is type(b) or (a is None and b is None):
        if isinstance(a, str):
            return a.upper() == b.upper()
        if isinstance(a, dict | list):
            return a is b
        return a == b
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return to_number(a) == to_number(b)


def _sym_equal(sym: Sym, other: Any) -> Any:
    if isinstance(other, Sym):
        if other.name == sym.name:
            return True
        return False if other.name in sym.distinct or sym.name in other.distinct else UNKNOWN
    if not isinstance(other, str):
        return UNKNOWN
    text = other.upper()
    if sym.foreign:
        return False
    if sym.choices:
        return UNKNOWN if text in sym.choices else False
    if sym.prefix and not text.startswith(sym.prefix.upper()):
        return False
    return UNKNOWN


def call(name: str, args: list[Any]) -> Any:
    if name == "always":
        return True
    if name in STATUS_FUNCTIONS or any(a is UNKNOWN for a in args):
        return UNKNOWN
    if name == "fromjson" and len(args) == 1 and isinstance(args[0], str):
        import json

        try:
            return _from_json(json.loads(args[0]))
        except ValueError:
            return UNKNOWN
    if name == "contains" and len(args) == 2:
        search, item = args
        if isinstance(search, list):
            results = {loose_equal(x, item) for x in search}
            if True in results:
                return True
            return UNKNOWN if UNKNOWN in results else False
        if isinstance(search, str) and isinstance(item, str):
            return item.upper() in search.upper()
        return UNKNOWN
    if name in ("startswith", "endswith") and len(args) == 2:
        text, part = args
        if isinstance(text, str) and isinstance(part, str):
            text, part = text.upper(), part.upper()
            return text.startswith(part) if name == "startswith" else text.endswith(part)
        if name == "startswith" and isinstance(text, Sym) and isinstance(part, str):
            prefix, part = text.prefix.upper(), part.upper()
            if prefix and prefix.startswith(part):
                return True
            if prefix and not part.startswith(prefix):
                return False
        return UNKNOWN
    return UNKNOWN


def _from_json(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return {k: _from_json(v) for k, v in value.items()}


def evaluate(node: tuple, ctx: dict[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ctx":
        return ctx.get(node[1], UNKNOWN)
    if kind == "not":
        value = truth(evaluate(node[1], ctx))
        return UNKNOWN if value is UNKNOWN else not value
    if kind == "call":
        return call(node[1], [evaluate(a, ctx) for a in node[2]])
    if kind == "get":
        return get(evaluate(node[1], ctx), evaluate(node[2], ctx))
    op, left = node[1], evaluate(node[2], ctx)
    if op in ("&&", "||"):
        first = truth(left)
        if first is (op == "||"):
            return left  # `a || b` with a truthy, `a && b` with a falsy: a
        right = evaluate(node[3], ctx)
        if first is not UNKNOWN:
            return right
        second = truth(right)
        if op == "&&":
            return False if second is False else UNKNOWN
        return True if second is True else UNKNOWN
    right = evaluate(node[3], ctx)
    if op in ("==", "!="):
        equal = loose_equal(left, right)
        return equal if equal is UNKNOWN or op == "==" else not equal
    if UNKNOWN in (left, right) or isinstance(left, Sym) or isinstance(right, Sym):
        return UNKNOWN
    a, b = (left.upper(), right.upper()) if isinstance(left, str) and isinstance(
        right, str) else (to_number(left), to_number(right))
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def get(obj: Any, key: Any) -> Any:
    if obj is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(obj, Secrets):
        name = str(key).upper()
        return Sym("github_token") if name == "GITHUB_TOKEN" else ""
    if key == "*":
        if isinstance(obj, list):
            return obj
        return list(obj.values()) if isinstance(obj, dict) else UNKNOWN
    if isinstance(obj, list):
        if isinstance(key, float) and key.is_integer():
            return obj[int(key)] if 0 <= key < len(obj) else None
        if all(isinstance(x, dict) for x in obj):  # a filter result: `labels.*.name`
            return [get(x, key) for x in obj]
        return UNKNOWN
    if isinstance(obj, dict):
        for name, value in obj.items():
            if isinstance(key, str) and name.lower() == key.lower():
                return value
        return UNKNOWN  # what the model does not know (an outsider's PR has no labels: [])
    if obj is None:
        return None
    return UNKNOWN


# --- the two pull requests a condition is evaluated for --------------------------------------
def pr_context(event: str, fork: bool, env: dict[str, Any]) -> dict[str, Any]:
    """What is known in an `if:` for a pull request by an outsider from a fork (fork=True) or
    by a member from a branch of the repository (fork=False)."""
    data = knowledge()
    head_name = Sym("head_full_name", distinct=frozenset({"repository"}), foreign=True) if (
        fork) else Sym("repository")
    owner = Sym("head_owner", distinct=frozenset({"repository_owner"}), foreign=True) if (
        fork) else Sym("repository_owner")
    associations = data["outsider_associations" if fork else "member_associations"]
    pull_request = {
        "head": {"repo": {"full_name": head_name, "fork": fork, "owner": {"login": owner}}},
        "base": {"repo": {"full_name": Sym("repository")}},
        "author_association": Sym("association", choices=frozenset(associations)),
    }
    event_data: dict[str, Any] = {"pull_request": pull_request}
    if fork:  # an outsider cannot label: no labels, and no `labeled` event of theirs
        pull_request["labels"] = []
        event_data["label"] = None
    github = {
        "event_name": event,
        "event": event_data,
        "ref": Sym("ref", prefix="refs/pull/"),
        "repository": Sym("repository"),
        "repository_owner": Sym("repository_owner"),
        "token": Sym("github_token"),
    }
    secrets = Secrets() if fork and event not in data["target_events"] else UNKNOWN
    return {"github": github, "secrets": secrets, "env": env}


def condition_of(value: Any) -> tuple | bool | None:
    """The parsed `if:` (None when it cannot be read, True when there is none)."""
    if value is None or value is True:
        return True
    if value is False:
        return ("lit", False)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("${{") and text.endswith("}}") and text.count("${{") == 1:
        text = text[3:-2]
    elif "${{" in text:
        return None
    return parse(text) if text.strip() else True


def runs(value: Any, ctx: dict[str, Any]) -> Any:
    """Whether an `if:` lets the job/step run in `ctx`: True, False or UNKNOWN."""
    node = condition_of(value)
    if node is True:
        return True
    if node is None or isinstance(node, bool):
        return UNKNOWN
    return truth(evaluate(node, ctx))


def env_values(*envs: Any) -> dict[str, Any]:
    """The `env` context from workflow and job `env:` (later ones win); expressions stay raw."""
    out: dict[str, Any] = {}
    for env in envs:
        if isinstance(env, dict):
            out.update({str(k): v for k, v in env.items()})
    return out


def resolve_env(env: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """Evaluate `NAME: ${{ expr }}` values (as strings), so `env.HAS_TOKEN == 'true'` is known."""
    out: dict[str, Any] = {}
    for name, value in env.items():
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, int | float):
            out[name] = str(value)
        elif isinstance(value, str):
            node = condition_of(value) if "${{" in value else ("lit", value)
            result = evaluate(node, ctx) if isinstance(node, tuple) else UNKNOWN
            if isinstance(result, bool):
                result = "true" if result else "false"
            out[name] = result if isinstance(result, str | Sym) or result is UNKNOWN else UNKNOWN
        else:
            out[name] = UNKNOWN
    return out


# --- what each step needs ----------------------------------------------------------------------
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_SECRET = re.compile(  # not `steps.get-secrets.outputs`
    r"(?<![\w.-])secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^']+)'\s*\])", re.I)
_FALLBACK = re.compile(r"\|\|\s*(?:github\.token|secrets\s*\.\s*github_token)\b", re.I)


def secrets_in(value: Any) -> set[str]:
    """Secret names (other than GITHUB_TOKEN) that `value` uses: presence tests
    (`secrets.X != ''`) and `secrets.X || github.token` fallbacks do not count."""
    found: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= secrets_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= secrets_in(item)
    elif isinstance(value, str):
        for expr in _EXPR.findall(value):
            if "==" in expr or "!=" in expr or _FALLBACK.search(expr):
                continue
            for m in _SECRET.finditer(expr):
                name = m.group(1) or m.group(2)
                if name.upper() != "GITHUB_TOKEN":
                    found.add(name)
    return found


def names_env(step: dict[str, Any], name: str) -> bool:
    """Whether a step's script or inputs name the environment variable `name`."""
    pattern = re.compile(
        rf"\$\{{?{re.escape(name)}\b|%{re.escape(name)}%|\$env:{re.escape(name)}\b"
        rf"|\benv\s*\.\s*{re.escape(name)}\b|\benv\[\s*'{re.escape(name)}'\s*\]"
    )
    texts = [step.get("run"), *analysis.string_values(step.get("with"))]
    return any(isinstance(t, str) and pattern.search(t) for t in texts)


def step_secrets(step: dict[str, Any], inherited: dict[str, list[str]]
                 ) -> tuple[list[str], list[str]]:
    """(secrets the step uses, secrets it only carries in `env:` for a script that does not
    name them: perhaps optional, like a remote-cache token)."""
    kb = knowledge()
    tolerant = matches(action_name(step), kb["tolerant_actions"])
    implicit = {n.upper() for n in kb["implicit_credentials"]}
    used: list[str] = []
    carried: list[str] = []
    if not tolerant:
        used += [f"uses secrets.{n}" for n in sorted(secrets_in(step.get("with")))]
    used += [f"uses secrets.{n}" for n in sorted(secrets_in(step.get("run")))]
    env = step.get("env") if isinstance(step.get("env"), dict) else {}
    for var, value in env.items():
        found = [f"secrets.{n} (env {var})" for n in sorted(secrets_in(value))]
        if "uses" in step:  # an action reads its environment
            used += [] if tolerant else [f"uses {f}" for f in found]
        elif names_env(step, str(var)) or str(var).upper() in implicit:
            used += [f"uses {f}" for f in found]
        else:
            carried += found
    for var, names in inherited.items():
        if var not in env and names_env(step, var):
            used += [f"uses secrets.{n} (env {var})" for n in names]
    return used, carried


def action_name(step: dict[str, Any]) -> str:
    uses = step.get("uses")
    return analysis.action_key(uses) if isinstance(uses, str) else ""


def matches(name: str, patterns: Iterable[str]) -> bool:
    return bool(name) and any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass
class Wants:
    """What a job needs that a fork pull request does not give, and the scope to guard."""

    whole: bool
    steps: list[StepNeed]
    reasons: list[str]
    comments: bool
    why: str  # why the whole job, when it is
    carried: dict[int | None, list[str]] = field(default_factory=dict)  # step (None: job)


@dataclass
class StepNeed:
    index: int
    reasons: list[str] = field(default_factory=list)
    comments: bool = False  # needs pull-requests/issues write: posting comments or labels
    credentials: bool = False  # a login step: the steps after it depend on it


def analyse(doc: Document, repo: RepoContext) -> dict[str, analysis.JobNeeds]:
    """The shared permissions analysis (empty if it fails: the secret-based guards go on)."""
    try:
        return analysis.analyse_workflow(doc, repo)
    except Exception:  # the analysis failing must not stop the secret-based guards
        return {}


_CONDITIONAL = re.compile(r"\(if ([\w-]+) is set so\)$")


def write_reasons(needs: analysis.StepNeeds | analysis.JobNeeds | None,
                  step: dict[str, Any] | None = None) -> tuple[list[str], bool]:
    """Why the step (or reusable-workflow job) needs a write token: `needs <scope>: write`.
    Needs that hold only when an input is set are dropped when that input is an expression
    that is false on a fork pull request (`push: ${{ github.event_name != 'pull_request' }}`)."""
    if needs is None:
        return [], False
    kb = knowledge()
    step = step or {}
    if matches(action_name(step), [*kb["tolerant_actions"], *kb["write_tolerant_actions"]]):
        return [], False
    with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
    reasons, comments = [], False
    for need in needs.needs:
        if need.scope in kb["fork_allowed_writes"]:
            continue
        if need.level != "write" and need.scope != "id-token":
            continue
        conditional = _CONDITIONAL.search(need.reason or "")
        if conditional and isinstance(with_.get(conditional.group(1)), str):
            ctx = pr_context("pull_request", True, {})
            value = with_[conditional.group(1)]
            node = condition_of(value) if "${{" in value else None
            if isinstance(node, tuple) and truth(evaluate(node, ctx)) is False:
                continue
        reasons.append(f"needs {need.scope}: write ({need.reason})" if need.reason
                       else f"needs {need.scope}: write")
        comments = comments or need.scope in kb["comment_scopes"]
    return reasons, comments


# --- the transform -----------------------------------------------------------------------------
def trigger_events(data: dict[str, Any]) -> list[str]:
    on = data.get("on", data.get(True))
    if isinstance(on, str):
        return [on]
    if isinstance(on, list):
        return [e for e in on if isinstance(e, str)]
    if isinstance(on, dict):
        return [e for e in on if isinstance(e, str)]
    return []


def guard_expression(guarded: list[str], others: bool) -> str:
    """The same-repository test, which other events (push...) pass untouched."""
    if not others:
        return SAME_REPO
    names = [f"github.event_name != '{e}'" for e in guarded]
    skip = names[0] if len(names) == 1 else "(" + " && ".join(names) + ")"
    return f"{skip} || {SAME_REPO}"


def combine(existing: Any, guard: str) -> str | None:
    """The new `if:` value: `(existing) && (guard)`, in the existing `${{ }}` form."""
    if existing is None or existing is True:
        return guard
    if not isinstance(existing, str):
        return None
    body = existing.strip()
    lead = existing[: len(existing) - len(existing.lstrip())]
    trail = existing[len(existing.rstrip()):]
    if not body:
        return guard
    if body.startswith("${{") and body.endswith("}}") and body.count("${{") == 1:
        inner = body[3:-2].strip()
        return f"{lead}${{{{ ({inner}) && ({guard}) }}}}{trail}"
    if "${{" in body:
        return None
    return f"{lead}({body}) && ({guard}){trail}"


@register
class ForkGuard(Transform):
    id = "fork-guard"
    summary = ("skip jobs/steps that need secrets or a write token on fork pull requests; "
               "guard pull_request_target jobs that run the pull request's code")
    fix_safety = "safe (fork pull requests); unsafe (pull_request_target head checkouts)"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        data = doc.data
        jobs = data.get("jobs")
        events = trigger_events(data)
        kb = knowledge()
        fork_events = [e for e in kb["fork_events"] if e in events]
        target_events = [e for e in kb["target_events"] if e in events]
        if not isinstance(jobs, dict) or not (fork_events or target_events):
            return
        yield from Workflow(doc, repo, events, fork_events, target_events).fixes()


class Workflow:
    """One workflow's jobs, walked in `needs:` order (a job after a skipped one is skipped)."""

    def __init__(self, doc: Document, repo: RepoContext, events: list[str],
                 fork_events: list[str], target_events: list[str]) -> None:
        self.doc = doc
        self.data = doc.data
        self.jobs: dict[str, Any] = {k: v for k, v in doc.data["jobs"].items()
                                     if isinstance(v, dict)}
        self.events = events
        self.fork_events = fork_events
        self.target_events = target_events
        self.needs = analyse(doc, repo) if fork_events else {}
        self.skipped: dict[str, bool] = {}  # job id -> skipped on fork PRs (by any guard)
        self.out: list[Fix | Note] = []

    def fixes(self) -> Iterator[Fix | Note]:
        handled = set()
        if self.target_events:
            for job_id in self.jobs:
                if self.target_job(job_id):
                    handled.add(job_id)
        if self.fork_events:
            for job_id in self.jobs:
                if job_id not in handled:
                    self.visit(job_id)
        yield from self.out

    # helpers ---------------------------------------------------------------------------------
    def env(self, job: dict[str, Any], step: dict[str, Any] | None, fork: bool, event: str
            ) -> dict[str, Any]:
        """The `env` context of an `if:`: workflow and job env, and for a step its own `env:`
        (the runner merges it before evaluating the condition: actions/runner
        src/Runner.Worker/StepsRunner.cs, "Evaluate and merge action's env block")."""
        raw = env_values(self.data.get("env"), job.get("env"), (step or {}).get("env"))
        return resolve_env(raw, pr_context(event, fork, {}))

    def verdict(self, value: Any, job: dict[str, Any], events: list[str],
                step: dict[str, Any] | None = None) -> str:
        """"runs", "guarded" (false for fork PRs only) or "never" (false for every PR)."""
        if condition_of(value) is True:
            return "runs"  # no `if:`: no context to build
        fork = [runs(value, pr_context(e, True, self.env(job, step, True, e))) for e in events]
        if any(v is not False for v in fork):
            return "runs"
        same = [runs(value, pr_context(e, False, self.env(job, step, False, e)))
                for e in events]
        return "never" if all(v is False for v in same) else "guarded"

    def guard(self, events: list[str]) -> str:
        others = any(e not in events for e in self.events)
        return guard_expression(events, others)

    def name(self, path: YamlPath) -> str:
        if len(path) == 2:
            return f"job '{path[1]}'"
        step = self.jobs[path[1]]["steps"][path[3]]
        label = step.get("name") or step.get("id") or step.get("uses") or f"#{path[3] + 1}"
        return f"step '{label}'"

    def set_if(self, path: YamlPath, existing: Any, guard: str) -> SetKey | Note:
        new = combine(existing, guard)
        if new is None:
            return Note("fork-guard", path, f"{self.name(path)}: `if:` mixes `${{{{ }}}}` and "
                        "text; add the same-repository guard by hand")
        if len(path) == 2:
            return SetKey(path, "if", new, after=("needs",), before=("runs-on", "uses", "steps"))
        return SetKey(path, "if", new, after=("id", "name"), before=("uses", "run"))

    # pull_request and friends ---------------------------------------------------------------
    def visit(self, job_id: str, stack: tuple[str, ...] = ()) -> bool:
        """Whether the job is skipped on fork pull requests (after guarding it if needed)."""
        if job_id in self.skipped:
            return self.skipped[job_id]
        self.skipped[job_id] = False  # cycles: GitHub rejects them; do not loop
        job = self.jobs[job_id]
        path: YamlPath = ("jobs", job_id)
        verdict = self.verdict(job.get("if"), job, self.fork_events)
        node = condition_of(job.get("if"))
        status = isinstance(node, tuple) and has_status_function(node)
        after_skipped = [n for n in _list(job.get("needs"))
                         if n in self.jobs and n not in stack and self.visit(n, (*stack, job_id))]
        if verdict == "never" or (after_skipped and not status):
            self.skipped[job_id] = True
            return True
        wants = self.job_wants(job_id, job)
        if wants is None:
            return False
        if verdict == "guarded":
            if wants.whole or wants.steps:
                self.out.append(Note("fork-guard", path, f"job '{job_id}': already guarded "
                                     "against fork pull requests"))
            self.skipped[job_id] = True
            return True
        if wants.whole:
            self.skipped[job_id] = self.add_guard(path, job.get("if"), wants.reasons,
                                                  wants.comments, wants.why)
            return self.skipped[job_id]
        carried = list(wants.carried.get(None, []))
        for index, secrets in wants.carried.items():
            carrier = job["steps"][index] if index is not None else None
            if carrier is not None and self.verdict(carrier.get("if"), job, self.fork_events,
                                                    carrier) == "runs":
                carried += secrets
        for step in wants.steps:
            step_path: YamlPath = (*path, "steps", step.index)
            value = job["steps"][step.index].get("if")
            state = self.verdict(value, job, self.fork_events, job["steps"][step.index])
            if state == "guarded":
                self.out.append(Note("fork-guard", step_path, f"{self.name(step_path)}: "
                                     "already guarded against fork pull requests"))
            elif state == "runs":
                self.add_guard(step_path, value, step.reasons, step.comments)
        if carried:
            self.out.append(Note("fork-guard", path, (
                f"job '{job_id}': not guarded for {', '.join(_unique(carried))}: empty on fork "
                "pull requests, but nothing shows a step needs it (it may be optional, like a "
                "cache token)")))
        return False

    def add_guard(self, path: YamlPath, existing: Any, reasons: list[str], comments: bool,
                  why_whole: str = "") -> bool:
        op = self.set_if(path, existing, self.guard(self.fork_events))
        if isinstance(op, Note):
            self.out.append(op)
            return False
        message = (f"{self.name(path)}: skipped on fork pull requests (read-only token, no "
                   f"secrets there): {', '.join(reasons)}")
        if why_whole:
            message += f"; guarded as a whole: {why_whole}"
        if comments:
            message += ("; to keep this for fork pull requests, do it from a separate "
                        "`workflow_run` workflow (two-workflow pattern)")
        self.out.append(Fix("fork-guard", path, message, (op,), Safety.SAFE,
                            details={"scope": "job" if len(path) == 2 else "step",
                                     "events": self.fork_events, "reasons": reasons}))
        return True

    def job_wants(self, job_id: str, job: dict[str, Any]) -> Wants | None:
        """What of this job cannot work on a fork pull request, and at which scope to guard."""
        kb = knowledge()
        job_needs = self.needs.get(job_id)
        if "uses" in job:  # a reusable workflow: the callee's needs, the secrets passed
            reasons, comments = write_reasons(job_needs)
            passed = [f"secrets.{n} (passed to {job['uses']})"
                      for n in sorted(secrets_in(job.get("secrets")))]
            if reasons:
                return Wants(True, [], reasons, comments, "it calls a reusable workflow")
            return Wants(False, [], [], False, "", {None: passed}) if passed else None
        steps = job.get("steps")
        if not isinstance(steps, list):
            return None
        by_index = {s.path[3]: s for s in job_needs.steps} if job_needs else {}
        inherited = env_values(self.data.get("env"), job.get("env"))
        inherited_secrets = {n: sorted(secrets_in(v)) for n, v in inherited.items()
                             if secrets_in(v)}
        known = {n.upper() for n in kb["implicit_credentials"]}
        deploys = "environment" in job  # environment secrets, protection rules: a deployment
        wanted: list[StepNeed] = []
        implicit: list[str] = []  # job-level credentials that steps read without naming them
        carried: dict[int | None, list[str]] = {}  # secrets nobody names: perhaps optional
        for name, secret_names in inherited_secrets.items():
            if any(isinstance(s, dict) and name not in (s.get("env") or {}) and names_env(s, name)
                   for s in steps):
                continue
            found = [f"secrets.{n} (env {name})" for n in secret_names]
            if name.upper() in known or deploys:
                implicit += [f"uses {f}" for f in found]
            else:
                carried.setdefault(None, []).extend(found)
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            if self.verdict(step.get("if"), job, self.fork_events, step) == "never":
                continue
            reasons, comments = write_reasons(by_index.get(index), step)
            used, step_carried = step_secrets(step, inherited_secrets)
            reasons += used + ([f"uses {c}" for c in step_carried] if deploys else [])
            if step_carried and not deploys:
                carried[index] = step_carried
            if reasons:
                credentials = matches(action_name(step), kb["credential_actions"])
                wanted.append(StepNeed(index, reasons, comments, credentials))
        if not wanted and not implicit:
            return Wants(False, [], [], False, "", carried) if carried else None
        all_reasons = _unique([*implicit, *(r for s in wanted for r in s.reasons)])
        comments = any(s.comments for s in wanted)
        work = [i for i, s in enumerate(steps) if isinstance(s, dict)
                and not matches(action_name(s), kb["setup_actions"])]
        wanted_ids = {s.index for s in wanted}
        last_credential = max((s.index for s in wanted if s.credentials), default=-1)
        why = ""
        if deploys:
            why = "it deploys to an environment"
        elif implicit:
            why = "its job-level env holds credentials that its tools read implicitly"
        elif last_credential >= 0 and any(i > last_credential and i not in wanted_ids
                                          for i in work):
            why = "the steps after the login step use its credentials"
        elif all(i in wanted_ids for i in work):
            why = "every step that does work needs it"
        return Wants(bool(why), wanted, all_reasons, comments, why, carried)

    # pull_request_target ---------------------------------------------------------------------
    def target_job(self, job_id: str) -> bool:
        """Guard a pull_request_target job that checks out and runs the PR's code."""
        job = self.jobs[job_id]
        steps = job.get("steps")
        if not isinstance(steps, list):
            return False
        checkout = head_checkout(steps)
        if checkout is None:
            return False
        path: YamlPath = ("jobs", job_id)
        index, runs_code = checkout
        if not runs_code:
            return False
        if "environment" in job:  # deployment protection rules can require an approval
            self.out.append(Note("fork-guard", path, f"job '{job_id}': runs the pull request's "
                                 "code on pull_request_target behind an environment; make sure "
                                 "that environment requires a reviewer"))
            return True
        events = [*self.fork_events, *self.target_events]
        verdict = self.verdict(job.get("if"), job, self.target_events)
        if verdict != "runs":
            if verdict == "guarded":
                self.out.append(Note("fork-guard", path, f"job '{job_id}': checks out the pull "
                                     "request's head; already guarded against fork pull requests"))
            return True
        op = self.set_if(path, job.get("if"), self.guard(events))
        if isinstance(op, Note):
            self.out.append(op)
            return True
        ops: list[Any] = [op]
        step = steps[index]
        step_path: YamlPath = (*path, "steps", index)
        with_ = step.get("with")
        if (action_name(step) == "actions/checkout" and isinstance(with_, dict)
                and with_.get("persist-credentials") is not False):
            ops.append(SetKey((*step_path, "with"), "persist-credentials", False))
        message = (f"job '{job_id}': runs the pull request's code on pull_request_target, with "
                   "secrets and a write token; limited to same-repository pull requests, "
                   "checkout with persist-credentials: false")
        self.out.append(Fix("fork-guard", path, message, tuple(ops), Safety.UNSAFE,
                            details={"scope": "job", "events": events,
                                     "checkout": list(step_path)}))
        return True


def head_checkout(steps: list[Any]) -> tuple[int, bool] | None:
    """(index of the step that checks out the PR's head, whether a later step runs its code)."""
    kb = knowledge()
    patterns = [re.compile(p, re.I) for p in kb["head_checkout"]]
    run_patterns = [re.compile(p, re.I) for p in kb["head_checkout_run"]]
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        folder = ""
        if action_name(step) == "actions/checkout" and isinstance(step.get("with"), dict):
            values = [step["with"].get("ref"), step["with"].get("repository")]
            found = any(isinstance(v, str) and any(p.search(v) for p in patterns)
                        for v in values)
            folder = str(step["with"].get("path") or "").strip("./")
        else:
            found = isinstance(step.get("run"), str) and any(
                p.search(step["run"]) for p in run_patterns)
        if found:
            later = [s for s in steps[index + 1:] if isinstance(s, dict)]
            return index, any(runs_pr_code(s, folder) for s in later)
    return None


_SEGMENT = re.compile(r"\n|;|&&|\|\||\||\$\(|`|\(|\)")


def runs_pr_code(step: dict[str, Any], folder: str) -> bool:
    """Whether a step after the head checkout may execute code from it.  A checkout into a side
    folder (`path: pr`) is data unless a step works inside it; scripts made only of commands
    that do not execute repository files (git, echo...) run nothing from it."""
    kb = knowledge()
    uses = step.get("uses")
    if isinstance(uses, str):
        local = uses.startswith("./") and (not folder or uses[2:].startswith(folder + "/"))
        return local or matches(action_name(step), kb["code_running_actions"])
    run = step.get("run")
    if not isinstance(run, str):
        return False
    if folder:
        workdir = str(step.get("working-directory") or "").strip("./")
        inside = workdir == folder or workdir.startswith(folder + "/") or re.search(
            rf"(?:\bcd\s+|\s|^)(?:\./)?{re.escape(folder)}/", run) or re.search(
            rf"\bcd\s+(?:\./)?{re.escape(folder)}\b", run)
        if not inside:
            return False
    safe = set(kb["inert_commands"])
    for segment in _SEGMENT.split(re.sub(r"\\\r?\n", " ", run)):
        words = [w for w in segment.split() if not re.match(r"[A-Za-z_][A-Za-z0-9_]*=", w)]
        while words and words[0] in ("if", "then", "else", "elif", "do", "while", "!"):
            words = words[1:]
        if words and not words[0].startswith("#") and words[0] not in safe:
            return True
    return False


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
