"""`secrets`: plaintext credentials in workflows and their Python scripts → `${{ secrets.NAME }}`.

Why: a token pasted into a workflow can be read by anyone who can read the repository; secret
scanners revoke it, and from then on the workflow fails with 401/403.  This transform finds
credentials and moves them to GitHub secrets, without ever printing a value:

- where: `env:` (workflow, job, step, container, services), step `with:` inputs, reusable-workflow
  `secrets:`, `container.credentials` and `services.*.credentials`, `run:` scripts (bash, sh,
  pwsh/powershell, cmd and `shell: python`), and Python files: those under `.github/` and those
  a `run:` step runs with `python path/to/x.py`.
- what: the rule table `data/secret_rules.yml` (known token formats, each with its source) and a
  name-based rule: a key that says "secret" (`*_TOKEN`, `*PASSWORD*`, `*API_KEY*`, ...) holding
  a literal, high-entropy value.  Expressions, empty values, placeholders, URLs, numbers, paths,
  shell variables and the throwaway passwords of service containers (`services.*.env` values,
  wherever else they are repeated) are not secrets and stay byte-exact.
- fix: a YAML literal becomes `${{ secrets.NAME }}`; in a `run:` script the value moves to the
  step's `env:` and the script references it in its shell's syntax (`${NAME}`, `${env:NAME}`,
  `%NAME%`); in Python (libcst, the rest of the file byte-exact) a string literal becomes
  `os.environ["NAME"]` and each step that runs the script gets `env: NAME: ${{ secrets.NAME }}`.
  NAME comes from the key, the action input or the token type; one value gets one NAME per repo;
  a PAT is never switched to the built-in GITHUB_TOKEN (its scopes differ).
- safety: a known format is a safe fix; a name-based hit is reported and replaced only with
  --unsafe-fixes.  Every fix says how to create the secret (`gh secret set NAME --repo O/R`) and
  that the old value must be rotated: it stays in git history (file:line).  Values go into
  `Fix.secrets`, so every output channel masks them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from gha_fix.codemod.document import Document, YamlPath
from gha_fix.codemod.edits import Operation, ReplaceValue, SetKey
from gha_fix.codemod.model import FileEdit, Fix, Note, Safety, SecretToCreate
from gha_fix.codemod.repo import RepoContext, relative
from gha_fix.codemod.transform import Transform
from gha_fix.transforms import register
from gha_fix.transforms.patterns import min_width, required_literal

DATA = Path(__file__).parent / "data" / "secret_rules.yml"
ID = "secrets"
_CACHE = "secrets:plan"
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_EXPR = "${{"


# --- the rule table ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    regex: re.Pattern[str]
    secret: str
    keys: re.Pattern[str] | None
    literal: str = ""  # text every match starts with ("ghp_"): a cheap test before the regex
    core: re.Pattern[str] | None = None  # the regex without its edges: faster over a whole file
    required: str = ""  # the longest text every match contains ("Q~", ".atlasv1.")


def literal_prefix(regex: str) -> str:
    """The plain characters a regex starts with (`ghp_[A-Z]...` → `ghp_`), or ''."""
    match = re.match(r"[A-Za-z0-9_~:/-]+", regex)
    literal = match.group() if match else ""
    # a quantifier applies to the last character: it is not certain to be there
    return literal[:-1] if literal and regex[len(literal):][:1] in ("?", "*", "{") else literal


@dataclass(frozen=True)
class Table:
    rules: tuple[Rule, ...]
    keys: re.Pattern[str]
    not_keys: re.Pattern[str]
    placeholders: frozenset[str]
    placeholder_regex: re.Pattern[str]
    not_values: re.Pattern[str]
    min_length: int
    min_entropy: float
    min_classes: int
    action_inputs: dict[str, dict[str, str]]
    any_keys: re.Pattern[str] | None = None  # the keys of every key-bound rule, in one regex
    any_literal: re.Pattern[str] | None = None  # every rule's literal prefix, in one regex
    shortest: int = 0  # no rule matches fewer characters: shorter strings are skipped

    @cached_property
    def keyed(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.keys is not None)

    @cached_property
    def prefixed(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.keys is None and r.literal)

    @cached_property
    def bare(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.keys is None and not r.literal)


@lru_cache(maxsize=1)
def table() -> Table:
    data = Document.from_file(DATA, "secret_rules.yml").data
    rules = []
    for raw in data["rules"]:
        keys = re.compile(raw["keys"]) if raw.get("keys") else None
        # a key-bound rule (no distinctive prefix) must match the whole value
        pattern = raw["regex"] if keys else rf"(?<![A-Za-z0-9_])(?:{raw['regex']})(?![A-Za-z0-9_])"
        rules.append(Rule(raw["id"], raw["name"], re.compile(pattern), raw["secret"], keys,
                          "" if keys else literal_prefix(raw["regex"]), re.compile(raw["regex"]),
                          required_literal(raw["regex"])))
    nb = data["name_based"]
    return Table(
        tuple(rules), re.compile(nb["keys"]), re.compile(nb["not_keys"]),
        frozenset(p.lower() for p in nb["placeholders"]), re.compile(nb["placeholder_regex"]),
        re.compile(nb["not_values"]),
        int(nb["min_length"]), float(nb["min_entropy"]), int(nb["min_classes"]),
        {k.lower(): dict(v or {}) for k, v in data["action_inputs"].items()},
        re.compile("|".join(f"(?:{r.keys.pattern.removeprefix('(?i)')})"
                            for r in rules if r.keys is not None), re.IGNORECASE),
        re.compile("|".join(re.escape(r.literal) for r in rules if r.literal) or r"(?!)"),
        min(min_width(r.regex.pattern) for r in rules),
    )


@lru_cache(maxsize=4096)  # the same few hundred keys, over and over
def normalize_key(key: str) -> str:
    """`apiToken`, `api-token`, `api.token` → `API_TOKEN`."""
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper()


@dataclass(frozen=True)
class Hit:
    """A secret inside a string: its span, the value and why it is one."""

    start: int
    end: int
    value: str
    label: str  # the token type, or the name-based reason
    type_name: str  # the secret name the token type suggests
    safe: bool  # known format (safe fix) or name-based (unsafe)


def known_tokens(text: str, key: str | None = None,
                 unkeyed: Sequence[Rule] | None = None) -> list[Hit]:
    """Known-format credentials in `text`, left to right, without overlaps.

    `unkeyed`: the rules without a key worth trying, when the caller knows (see `rules_in`)."""
    found: list[Hit] = []
    rules = table()
    if len(text) < rules.shortest:
        return found
    norm = normalize_key(key) if key else ""
    if unkeyed is not None:
        if not unkeyed and not norm:
            return found
        candidates = [r for r in unkeyed if not r.literal or r.literal in text]
    else:
        candidates = list(rules.bare)  # rules with neither a literal prefix nor a key
        if rules.any_literal is None or rules.any_literal.search(text) is not None:
            candidates += [r for r in rules.prefixed if r.literal in text]
    if norm and (rules.any_keys is None or rules.any_keys.search(norm) is not None):
        stripped = text.strip()
        for rule in rules.keyed:
            if rule.keys is not None and rule.keys.search(norm) and rule.regex.fullmatch(stripped):
                start = text.index(stripped)
                found.append(Hit(start, start + len(stripped), stripped, rule.name,
                                 rule.secret, True))
    for rule in candidates:
        for m in rule.regex.finditer(text):
            found.append(Hit(m.start(), m.end(), m.group(), rule.name, rule.secret, True))
    if not found:
        return found
    found.sort(key=lambda h: (h.start, -(h.end - h.start)))
    out: list[Hit] = []
    for hit in found:
        if not out or hit.start >= out[-1].end:
            out.append(hit)
    return out


def rules_in(text: str) -> list[Rule]:
    """The rules without a key that match somewhere in `text`: given the strings of a file
    joined, the only ones worth trying on each string (a match in a string is one in the
    whole, since the rules' edges are lookarounds that a line break satisfies)."""
    rules = table()
    return [r for r in (*rules.prefixed, *rules.bare)
            if r.required in text and (r.core or r.regex).search(text)]


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _classes(text: str) -> int:
    return sum(any(f(c) for c in text) for f in (
        str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum()))


_NUMBER = re.compile(r"[-+]?[0-9][0-9_.,]*\Z")
_REFERENCE = re.compile(r"\$\{?[A-Za-z_]|\$\(|%[A-Za-z_]\w*%|\benv\.|\bsecrets\.|\bvars\.")
_PATHLIKE = re.compile(r"(\.{0,2}/|~/|[A-Za-z]:\\)")


def name_based(key: str, value: str, test_values: Iterable[str] = ()) -> str | None:
    """The reason a literal under a secret-sounding key looks like a credential, or None."""
    t = table()
    norm = normalize_key(key)
    if not norm or not t.keys.search(norm) or t.not_keys.search(norm):
        return None
    if not value or value != value.strip() or any(ch.isspace() for ch in value):
        return None
    bare = value.strip("<>[]{}*\"'")
    if (_EXPR in value or _REFERENCE.search(value) or "://" in value or _NUMBER.match(value)
            or _PATHLIKE.match(value) or bare.lower() in t.placeholders
            or t.placeholder_regex.match(value) or t.not_values.match(value)
            or value in test_values):
        return None
    if len(value) < t.min_length or _classes(value) < t.min_classes:
        return None
    bits = entropy(value)
    if bits < t.min_entropy:
        return None
    return f"{key} holds a literal of {len(value)} chars, entropy {bits:.1f} bits/char"


def _name_hit(key: str, value: str, start: int = 0, tests: Iterable[str] = ()) -> Hit | None:
    reason = name_based(key, value, tests)
    if reason is None:
        return None
    return Hit(start, start + len(value), value, f"possible credential ({reason})",
               normalize_key(key), False)


def valid_name(name: str) -> bool:
    return bool(_VALID_NAME.match(name)) and not name.upper().startswith("GITHUB_")


# --- the repository: where `gh secret set` points, which names are taken -----------------------
@dataclass
class Plan:
    """Per repository: one NAME per secret value, and the Python files' findings."""

    slug: str
    names: dict[str, str] = field(default_factory=dict)
    python: dict[str, list[PyHit]] = field(default_factory=dict)  # rel path → hits

    def name_for(self, value: str, preferred: str, type_name: str) -> str:
        if value in self.names:
            return self.names[value]
        taken = set(self.names.values())
        candidates = [n for n in (normalize_key(preferred), type_name) if valid_name(n)]
        base = candidates[0] if candidates else type_name
        name = next((n for n in candidates if n not in taken), None)
        counter = 2
        while name is None or name in taken:
            name, counter = f"{base}_{counter}", counter + 1
        self.names[value] = name
        return name


def plan_for(repo: RepoContext) -> Plan:
    """Scan the whole repository once (names must agree across files)."""
    if _CACHE in repo.scratch:
        return repo.scratch[_CACHE]
    plan = Plan(repo.slug)
    repo.scratch[_CACHE] = plan
    scripts: set[str] = set()
    for path in repo.workflow_files():
        doc = repo.load(relative(repo.root, path))
        if doc is None:
            continue
        for site in scan_workflow(doc, repo):
            for hit in site.hits:
                plan.name_for(hit.value, site.preferred(hit), hit.type_name)
        scripts.update(rel for _, rel in python_runs(doc, repo))
    github = repo.root / ".github"
    if github.is_dir():
        scripts.update(relative(repo.root, p) for p in github.rglob("*.py")
                       if p.is_file() and repo.inside(p))
    for rel in sorted(scripts):
        try:
            source = (repo.root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        hits = python_hits(source)
        for hit in hits:
            plan.name_for(hit.value, hit.preferred, hit.type_name)
        if hits:
            plan.python[rel] = hits
    return plan


# --- the workflow -----------------------------------------------------------------------------
@dataclass
class Site:
    """A string in the workflow holding secrets."""

    kind: str  # env | with | secrets | credentials | run | other
    path: YamlPath
    key: str  # the env name / input / credential key ("" for run and other)
    value: str
    hits: list[Hit]
    action: str = ""  # `uses:` of the step, for `with:` names
    assigned: dict[int, str] = field(default_factory=dict)  # run: hit start → assigned variable
    python_names: dict[str, str] = field(default_factory=dict)  # shell python: value → variable

    def preferred(self, hit: Hit) -> str:
        if self.kind == "with":
            known = table().action_inputs.get(self.action.split("@")[0].lower(), {})
            if self.key in known:
                return known[self.key]
        if self.kind == "run" and self.key == "python":
            return self.python_names.get(hit.value, hit.type_name)
        if self.kind == "run":
            return self.assigned.get(hit.start, hit.type_name)
        whole = hit.start == 0 and hit.end == len(self.value)
        if (whole and self.kind in ("env", "secrets")) or not hit.safe:
            return self.key
        return hit.type_name


def _strings(node: Any, path: YamlPath) -> list[tuple[YamlPath, str]]:
    """(path, string) of every string under `node`, in document order."""
    found: list[tuple[YamlPath, str]] = []
    stack: list[tuple[YamlPath, Any]] = [(path, node)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            found.append((where, value))
        elif isinstance(value, dict):
            stack.extend(((*where, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(((*where, i), v) for i, v in reversed(list(enumerate(value))))
    return found


def _mapping(node: Any) -> dict:
    return node if isinstance(node, dict) else {}


def service_values(data: dict) -> set[str]:
    """The env values of service containers: throwaway test credentials, wherever repeated."""
    values: set[str] = set()
    for job in _mapping(data.get("jobs")).values():
        for service in _mapping(_mapping(job).get("services")).values():
            values.update(v for v in _mapping(_mapping(service).get("env")).values()
                          if isinstance(v, str))
    return values


def scan_workflow(doc: Document, repo: RepoContext | None = None) -> list[Site]:
    """The places in `doc` that hold credentials (kept per text on the repo context, since
    the plan of the whole repo and the fix of one file both need them)."""
    if repo is None:
        return _scan_workflow(doc)
    cache = repo.scratch.setdefault("secrets:scans", {})
    hit = cache.get(doc.path)
    if hit is None or hit[0] != doc.text:
        hit = cache[doc.path] = (doc.text, _scan_workflow(doc))
    return hit[1]


def _scan_workflow(doc: Document) -> list[Site]:
    data = doc.data
    tests = service_values(data)
    sites: list[Site] = []
    seen: set[YamlPath] = set()
    strings = _strings(data, ())
    unkeyed = rules_in("\n".join(value for _, value in strings))

    def mapping(kind: str, path: YamlPath, node: Any, named: bool = True, action: str = ""
                ) -> None:
        for key, value in _mapping(node).items():
            seen.add((*path, key))
            if not isinstance(value, str) or not isinstance(key, str):
                continue
            hits = known_tokens(value, key, unkeyed)
            if not hits and named:
                hit = _name_hit(key, value, 0, tests)
                hits = [hit] if hit else []
            if hits:
                sites.append(Site(kind, (*path, key), key, value, hits, action))

    mapping("env", ("env",), data.get("env"))
    for job_id, job in _mapping(data.get("jobs")).items():
        job = _mapping(job)
        base: YamlPath = ("jobs", job_id)
        mapping("env", (*base, "env"), job.get("env"))
        mapping("secrets", (*base, "secrets"), job.get("secrets"))
        mapping("with", (*base, "with"), job.get("with"))  # a reusable workflow's inputs
        container = _mapping(job.get("container"))
        mapping("env", (*base, "container", "env"), container.get("env"))
        mapping("credentials", (*base, "container", "credentials"), container.get("credentials"))
        for name, service in _mapping(job.get("services")).items():
            service = _mapping(service)
            where = (*base, "services", name)
            mapping("env", (*where, "env"), service.get("env"), named=False)  # test credentials
            mapping("credentials", (*where, "credentials"), service.get("credentials"))
        steps = job.get("steps")
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            step = _mapping(step)
            where = (*base, "steps", index)
            mapping("env", (*where, "env"), step.get("env"))
            uses = step.get("uses") if isinstance(step.get("uses"), str) else ""
            mapping("with", (*where, "with"), step.get("with"), action=uses)
            run = step.get("run")
            seen.add((*where, "run"))
            if isinstance(run, str):
                site = _run_site((*where, "run"), run, shell_of(data, job, step), tests,
                                 unkeyed)
                if site is not None:
                    sites.append(site)
    for path, value in strings:
        if path not in seen and (hits := known_tokens(value, str(path[-1]) if path else None,
                                                      unkeyed)):
            sites.append(Site("other", path, "", value, hits))
    return sites


# --- run: scripts -----------------------------------------------------------------------------
def shell_of(data: dict, job: dict, step: dict) -> str:
    """bash | sh | pwsh | cmd | python | other | unknown (a matrix may pick the OS)."""
    shell = step.get("shell")
    for defaults in (job.get("defaults"), data.get("defaults")):
        if shell is None:
            shell = _mapping(_mapping(defaults).get("run")).get("shell")
    if shell is None:
        runs_on = job.get("runs-on")
        text = str(runs_on)
        if _EXPR in text:
            return "unknown"
        return "pwsh" if "windows" in text.lower() else "bash"
    if not isinstance(shell, str) or _EXPR in shell:
        return "unknown"
    word = os.path.basename(shell.split()[0]) if shell.split() else ""
    word = {"powershell": "pwsh", "python3": "python"}.get(word, word)
    return word if word in ("bash", "sh", "pwsh", "cmd", "python") else "other"


_ASSIGN = {
    "bash": re.compile(r"(?<![\w$])(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)="
                       r"(?:\"([^\"$`\\]*)\"|'([^']*)'|([^\s;&|'\"$`()<>]+))"),
    "pwsh": re.compile(r"\$env:([A-Za-z_]\w*)\s*=\s*(?:\"([^\"$`]*)\"|'([^']*)')"),
    "cmd": re.compile(r"(?i)\bset\s+\"?([A-Za-z_]\w*)=([^\"\r\n&]+)"),
}
_ASSIGN["sh"] = _ASSIGN["bash"]


def _run_site(path: YamlPath, script: str, shell: str, tests: set[str],
              unkeyed: Sequence[Rule] | None = None) -> Site | None:
    if shell == "python":
        found = python_hits(script)
        hits = [Hit(0, 0, h.value, h.label, h.type_name, h.safe) for h in found]
        names = {h.value: h.preferred for h in reversed(found)}
        return Site("run", path, "python", script, hits, python_names=names) if hits else None
    hits = known_tokens(script, unkeyed=unkeyed)
    assigned: dict[int, str] = {}
    pattern = _ASSIGN.get(shell)
    for m in pattern.finditer(script) if pattern else ():
        group = next(g for g in range(2, (m.lastindex or 1) + 1) if m.group(g) is not None) \
            if m.lastindex and m.lastindex > 1 else None
        if group is None:
            continue
        start, value = m.start(group), m.group(group)
        known = [h for h in hits if h.start == start and h.end == start + len(value)]
        # e.g. AWS_SECRET_ACCESS_KEY=
        bound = [] if known else known_tokens(value, m.group(1), unkeyed)
        if bound and not any(h.start < start + len(value) and start < h.end for h in hits):
            hits += [dataclasses.replace(h, start=h.start + start, end=h.end + start)
                     for h in bound]
            assigned[start] = m.group(1)
        elif known:
            assigned[start] = m.group(1)
        elif not any(h.start < start + len(value) and start < h.end for h in hits):
            hit = _name_hit(m.group(1), value, start, tests)
            if hit is not None:
                hits.append(hit)
                assigned[start] = m.group(1)
    hits.sort(key=lambda h: h.start)
    return Site("run", path, shell, script, hits, assigned=assigned) if hits else None


def _quote_states(script: str, shell: str) -> list[str]:
    """For each character: "" (unquoted), "'" or '"' — a small lexer, enough for replacing."""
    states = []
    state = ""
    i = 0
    escape = "`" if shell == "pwsh" else "\\"
    while i < len(script):
        ch = script[i]
        states.append(state)
        if state != "'" and ch == escape and i + 1 < len(script):
            states.append(state)
            i += 2
            continue
        if state == "" and ch in "'\"":
            state = ch
        elif state == ch:
            if shell == "pwsh" and ch == "'" and script[i + 1 : i + 2] == "'":
                states.append(state)
                i += 2
                continue
            state = ""
        i += 1
    return states


def rewrite_script(script: str, shell: str, hits: list[Hit], names: Mapping[str, str]
                   ) -> str | None:
    """`script` with each hit replaced by a reference to its env variable, or None if unsafe."""
    if shell not in ("bash", "sh", "pwsh", "cmd"):
        return None  # a custom shell, or a matrix that may pick Windows or Linux
    before = script[: max(h.end for h in hits)]
    if shell in ("bash", "sh", "pwsh") and re.search(r"<<(?!<)", before):
        return None  # inside or after a heredoc: the lexer cannot tell what expands
    states = _quote_states(script, shell) if shell != "cmd" else []
    out, pos = [], 0
    for hit in hits:
        name = names[hit.value]
        state = states[hit.start] if states else ""
        if shell == "cmd":
            ref = f"%{name}%"
        elif shell == "pwsh":
            if state == "'":
                return None
            ref = f"${{env:{name}}}"
        elif state == "'":
            ref = f"'\"${{{name}}}\"'"  # close the single quotes, expand, reopen
        else:
            ref = f'"${{{name}}}"' if state == "" and any(c.isspace() for c in hit.value) \
                else f"${{{name}}}"
        out += [script[pos : hit.start], ref]
        pos = hit.end
    return "".join(out) + script[pos:]


_PY_RUN = re.compile(r"(?:^|[\s;&|(])(?:python[0-9.]*|py)\s+(?:-[A-Za-z]+\s+)*"
                     r"[\"']?([\w./-]+\.py)\b")


def python_runs(doc: Document, repo: RepoContext) -> Iterable[tuple[YamlPath, str]]:
    """(step path, repo-relative script) for every `python x.py` in a bash/sh/pwsh run step."""
    if ".py" not in doc.text:
        return
    data = doc.data
    for job_id, job in _mapping(data.get("jobs")).items():
        job = _mapping(job)
        steps = job.get("steps")
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            step = _mapping(step)
            run = step.get("run")
            if not isinstance(run, str):
                continue
            workdir = step.get("working-directory")
            for defaults in (job.get("defaults"), data.get("defaults")):
                if workdir is None:
                    workdir = _mapping(_mapping(defaults).get("run")).get("working-directory")
            if workdir is not None and (not isinstance(workdir, str) or _EXPR in workdir):
                continue  # cannot tell which file runs
            base = workdir or "."
            for m in _PY_RUN.finditer(run):
                rel = os.path.normpath(os.path.join(base, m.group(1))).replace(os.sep, "/")
                path = repo.root / rel
                if not rel.startswith("..") and path.is_file() and repo.inside(path):
                    yield ("jobs", job_id, "steps", index), rel


# --- Python -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PyHit:
    line: int
    column: int
    value: str
    label: str
    type_name: str
    preferred: str
    safe: bool
    whole: bool  # the literal is the token (else: an f-string keeps the rest)


# libcst only sees a file where a secret-sounding name meets a literal that may be a credential
_PY_SECRET_WORD = re.compile(r"(?i)token|secret|password|passwd|api_?key|access_?key")
_PY_LITERAL = re.compile(r"""(['"])([^'"\s]+)\1""")
_PY_WORD = re.compile(r"[A-Za-z_]\w*")
_PY_DICT_KEY = re.compile(r"""(['"])(\w+)\1\s*:""")


def _worth_parsing(source: str) -> bool:
    """A known token, or a line where a secret-sounding name meets a literal (on that line or
    the next, for wrapped calls) that the name rule would call a credential."""
    if known_tokens(source):
        return True
    if not _PY_SECRET_WORD.search(source):
        return False
    lines = source.splitlines()
    for number, line in enumerate(lines):
        if not _PY_SECRET_WORD.search(line):
            continue
        near = line + "\n" + (lines[number + 1] if number + 1 < len(lines) else "")
        literals = [m.group(2) for m in _PY_LITERAL.finditer(near)]
        words = {m.group() for m in _PY_WORD.finditer(_PY_LITERAL.sub(" ", line))}
        words.update(m.group(2) for m in _PY_DICT_KEY.finditer(line))
        if any(name_based(word, value) for word in words for value in literals):
            return True
    return False


def python_hits(source: str) -> list[PyHit]:
    hits, _ = _python(source, {}, lambda _hit: False)
    return hits


def rewrite_python(source: str, names: Mapping[str, str], accept: Callable[[PyHit], bool]
                   ) -> tuple[list[PyHit], str]:
    return _python(source, names, accept)


def _python(source: str, names: Mapping[str, str], accept: Callable[[PyHit], bool]
            ) -> tuple[list[PyHit], str]:
    """The secrets in string literals of `source`, and `source` with the accepted ones moved to
    `os.environ[...]` (libcst: everything else byte-exact)."""
    if not _worth_parsing(source):
        return [], source  # keep libcst (a fifth of a second to import) off the common path
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError:
        return [], source
    hits: list[PyHit] = []
    changed: list[PyHit] = []

    class Rewriter(cst.CSTTransformer):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self) -> None:
            super().__init__()
            self.key: list[str | None] = [None]

        def _push(self, key: str | None) -> None:
            self.key.append(key)

        def visit_Assign(self, node: cst.Assign) -> None:
            target = node.targets[0].target if len(node.targets) == 1 else None
            self._push(target.value if isinstance(target, cst.Name) else None)

        def leave_Assign(self, original: Any, updated: Any) -> Any:
            self.key.pop()
            return updated

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._push(node.target.value if isinstance(node.target, cst.Name) else None)

        def leave_AnnAssign(self, original: Any, updated: Any) -> Any:
            self.key.pop()
            return updated

        def visit_Arg(self, node: cst.Arg) -> None:
            self._push(node.keyword.value if node.keyword else None)

        def leave_Arg(self, original: Any, updated: Any) -> Any:
            self.key.pop()
            return updated

        def visit_DictElement(self, node: cst.DictElement) -> None:
            key = node.key.evaluated_value if isinstance(node.key, cst.SimpleString) else None
            self._push(key if isinstance(key, str) else None)

        def leave_DictElement(self, original: Any, updated: Any) -> Any:
            self.key.pop()
            return updated

        def leave_SimpleString(self, original: cst.SimpleString, updated: Any) -> Any:
            value = original.evaluated_value
            if not isinstance(value, str) or "b" in original.prefix.lower():
                return updated
            key = self.key[-1]
            pos = self.get_metadata(PositionProvider, original).start
            found = known_tokens(value, key)
            whole = len(found) == 1 and found[0].value == value
            if not found and key is not None:
                hit = _name_hit(key, value)
                found = [hit] if hit else []
                whole = bool(found)
            if not found:
                return updated
            plain = not original.prefix and "\\" not in original.value and \
                "{" not in original.value and "}" not in original.value
            if not whole and not plain:
                return updated  # an f-string would have to re-escape the rest: left alone
            these = [PyHit(pos.line, pos.column, h.value, h.label, h.type_name,
                           key if whole and key else h.type_name, h.safe, whole)
                     for h in found]
            hits.extend(these)
            if not all(accept(h) for h in these):
                return updated
            changed.extend(these)
            if whole:
                return _environ(cst, names[these[0].value], '"')
            quote = original.quote
            inner = original.value[len(quote) : -len(quote)]
            other = "'" if quote[0] == '"' else '"'
            for h in these:
                inner = inner.replace(h.value, f"{{os.environ[{other}{names[h.value]}{other}]}}")
            return cst.parse_expression(f"f{quote}{inner}{quote}")

    module = wrapper.visit(Rewriter())
    if changed and not _imports_os(module):
        module = _add_import_os(cst, module)
    return hits, module.code if changed else source


def _environ(cst: Any, name: str, quote: str) -> Any:
    return cst.parse_expression(f"os.environ[{quote}{name}{quote}]")


def _imports_os(module: Any) -> bool:
    import libcst as cst

    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                    isinstance(a.name, cst.Name) and a.name.value == "os" and a.asname is None
                    for a in small.names
                ):
                    return True
    return False


def _add_import_os(cst: Any, module: Any) -> Any:
    """`import os` after the docstring and `from __future__` imports."""
    body = list(module.body)
    index = 0
    for index, statement in enumerate(body):
        first = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        docstring = isinstance(first, cst.Expr) and isinstance(first.value, cst.SimpleString)
        future = isinstance(first, cst.ImportFrom) and isinstance(first.module, cst.Name) and \
            first.module.value == "__future__"
        if not (docstring and index == 0) and not future:
            break
    else:
        index = len(body)
    new = cst.parse_statement("import os\n")
    if index < len(body):  # take over the blank lines above the statement it now precedes
        following = body[index]
        new = new.with_changes(leading_lines=following.leading_lines)
        first = following.body[0] if isinstance(following, cst.SimpleStatementLine) else None
        spacing = () if isinstance(first, cst.Import | cst.ImportFrom) else (cst.EmptyLine(),)
        body[index] = following.with_changes(leading_lines=spacing)
    body.insert(index, new)
    return module.with_changes(body=body)


# --- the transform ----------------------------------------------------------------------------
_WHERE = {"env": "env", "with": "input", "secrets": "secrets", "credentials": "credentials"}


@register
class Secrets(Transform):
    id = ID
    summary = "plaintext credentials → ${{ secrets.NAME }} (known formats safe, name-based unsafe)"
    fix_safety = "safe (known token formats); unsafe (name-based)"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        items = list(self._run(doc, repo))
        # values only noted (left in place) are masked too: a diff's context lines may show them
        noted = tuple(dict.fromkeys(v for item in items if isinstance(item, Note)
                                    for v in item.secrets))
        for item in items:
            if isinstance(item, Fix) and noted:
                extra = tuple(v for v in noted if v not in item.secrets)
                item = dataclasses.replace(item, secrets=item.secrets + extra)
            yield item

    def _run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        plan = plan_for(repo)
        steps: dict[YamlPath, list[tuple[Hit, str]]] = {}  # step → (hit, NAME) needing env
        runs: dict[YamlPath, Site] = {}
        for site in scan_workflow(doc, repo):
            if site.kind == "other" or (site.kind == "with" and site.path[2] != "steps"):
                reason = ("expressions are not allowed here" if site.kind == "other" else
                          "a reusable workflow's `with:` cannot read secrets; use `secrets:`")
                for hit in site.hits:
                    yield Note(ID, site.path, f"plaintext {hit.label} at {_path(site.path)}: "
                               f"not replaced ({reason}); move it to a secret by hand and rotate "
                               f"it ({doc.path}:{_line(doc, site, hit)})", secrets=(hit.value,))
                continue
            names = {h.value: plan.name_for(h.value, site.preferred(h), h.type_name)
                     for h in site.hits}
            if site.kind == "run":
                runs[site.path[:-1]] = site
                steps.setdefault(site.path[:-1], []).extend(
                    (h, names[h.value]) for h in site.hits)
                continue
            for safe in (True, False):  # the safe hits, then (unsafe) all of them
                chosen = [h for h in site.hits if h.safe or not safe]
                if not chosen or (not safe and all(h.safe for h in site.hits)):
                    continue
                new = _substitute(site.value, chosen, names)
                yield self._fix(doc, site, chosen, names, plan, (ReplaceValue(site.path, new),),
                                f"{_WHERE[site.kind]} {site.key}")
        for step, rel in python_runs(doc, repo):
            for hit in plan.python.get(rel, []):
                name = plan.names[hit.value]
                steps.setdefault(step, []).append(
                    (Hit(0, 0, hit.value, hit.label, hit.type_name, hit.safe), name))
        for step, pairs in steps.items():
            yield from self._step_fixes(doc, step, pairs, runs.get(step), plan, repo)

    def _step_fixes(self, doc: Document, step: YamlPath, pairs: list[tuple[Hit, str]],
                    site: Site | None, plan: Plan, repo: RepoContext) -> Iterable[Fix | Note]:
        data = doc.data
        for part in step:
            data = data[part]
        env = data.get("env")
        env = env if isinstance(env, dict) else None
        if data.get("env") is not None and env is None:
            yield Note(ID, step, "the step's env: is not a mapping; secrets left in place")
            return
        # an env entry holding the literal itself is fine: its own fix replaces it by the ref
        clash = sorted({n for h, n in pairs
                        if env and env.get(n, _ref(n)) not in (_ref(n), h.value)})
        if clash:
            yield Note(ID, step, f"the step's env already sets {', '.join(clash)}; secrets "
                       "left in place")
            return
        for safe in (True, False):
            chosen = [(h, n) for h, n in pairs if h.safe or not safe]
            if not chosen or (not safe and all(h.safe for h, _ in pairs)):
                continue
            ops: list[Operation] = []
            names = {h.value: n for h, n in chosen}
            wanted = {n: _ref(n) for _, n in chosen if not (env and n in env)}
            if wanted and env is not None:
                ops += [SetKey((*step, "env"), n, v) for n, v in wanted.items()]
            elif wanted:
                ops.append(SetKey(step, "env", wanted, after=("with", "uses", "if", "id", "name"),
                                  before=("run",)))
            script_hits = [h for h, _ in chosen if site and h in site.hits]
            if site is not None and script_hits:
                if site.key == "python":
                    accepted = {h.value for h in script_hits}
                    _, new = rewrite_python(site.value, names,
                                            lambda h, ok=accepted: h.value in ok)
                else:
                    new = rewrite_script(site.value, site.key, script_hits, names)
                if new is None or new == site.value:
                    reason = ("in a pwsh single-quoted string, a heredoc or an unknown shell"
                              if site.key != "python" else "not a plain string literal")
                    for hit in script_hits:
                        yield Note(ID, site.path, f"plaintext {hit.label} in run: ({reason}):"
                                     f" not replaced; move it to a secret by hand and rotate it "
                                     f"({doc.path}:{_line(doc, site, hit)})", secrets=(hit.value,))
                    continue
                ops.append(ReplaceValue(site.path, new))
                where = "run: script"
            else:
                where = "python script"
            if not ops:
                continue
            hits = [h for h, _ in chosen]
            yield self._fix(doc, site or Site("run", step, "", "", []), hits, names, plan,
                            tuple(ops), where, step)

    def _fix(self, doc: Document, site: Site, hits: list[Hit], names: Mapping[str, str],
             plan: Plan, ops: tuple[Operation, ...], where: str, path: YamlPath | None = None
             ) -> Fix:
        entries = []
        for hit in hits:
            name = names[hit.value]
            entries.append(SecretToCreate(name, f"gh secret set {name} --repo {plan.slug}",
                                          _rotate(doc, site, hit, plan), hit.label, hit.value))
        unique = list({e.name: e for e in entries}.values())
        first = hits[0]
        label = first.label if len({h.label for h in hits}) == 1 else "credentials"
        refs = ", ".join(f"${{{{ secrets.{e.name} }}}}" for e in unique)
        creates = "; ".join(e.create for e in unique)
        rotates = ", ".join(dict.fromkeys(e.rotate for e in entries))
        message = (f"plaintext {label} in {where} → {refs}; create: {creates}; the old value "
                   f"must be rotated: it stays in git history ({rotates})")
        safety = Safety.SAFE if all(h.safe for h in hits) else Safety.UNSAFE
        details = {"secret": unique[0].name, "create": unique[0].create,
                   "rotate": unique[0].rotate,
                   "secrets": [{"secret": e.name, "create": e.create, "rotate": e.rotate,
                                "kind": e.kind} for e in unique]}
        return Fix(ID, path or site.path, message, ops, safety,
                   secrets=tuple(dict.fromkeys(h.value for h in hits)), creates=tuple(unique),
                   details=details)

    # --- other files of the repo (Python scripts) -------------------------------------------
    def run_repo(self, repo: RepoContext, allowed: Callable[[Fix], bool]) -> Iterable[FileEdit]:
        plan = plan_for(repo)
        for rel, hits in sorted(plan.python.items()):
            source = (repo.root / rel).read_text(encoding="utf-8")
            fixes = {id(h): self._py_fix(rel, h, plan) for h in hits}
            accepted = {id(h) for h in hits if allowed(fixes[id(h)])}
            keys = {(h.line, h.column, h.value) for h in hits if id(h) in accepted}
            _, new = rewrite_python(source, plan.names,
                                    lambda h, ok=keys: (h.line, h.column, h.value) in ok)
            if new != source:
                compile(new, rel, "exec")  # a rewrite that does not compile is a bug: fail loud
            yield FileEdit(rel, source, new, [(fixes[id(h)], h.line) for h in hits])

    def _py_fix(self, rel: str, hit: PyHit, plan: Plan) -> Fix:
        name = plan.names[hit.value]
        create = f"gh secret set {name} --repo {plan.slug}"
        rotate = f"{rel}:{hit.line}"
        message = (f"plaintext {hit.label} in a Python string → os.environ[\"{name}\"] (steps "
                   f"that run {rel} get env {name}: ${{{{ secrets.{name} }}}}); create: {create};"
                   f" the old value must be rotated: it stays in git history ({rotate})")
        entry = {"secret": name, "create": create, "rotate": rotate}
        return Fix(ID, (), message, (), Safety.SAFE if hit.safe else Safety.UNSAFE,
                   secrets=(hit.value,),
                   creates=(SecretToCreate(name, create, rotate, hit.label, hit.value),),
                   details={**entry, "secrets": [entry]})


def _ref(name: str) -> str:
    return f"${{{{ secrets.{name} }}}}"


def _substitute(value: str, hits: list[Hit], names: Mapping[str, str]) -> str:
    out, pos = [], 0
    for hit in hits:
        out += [value[pos : hit.start], _ref(names[hit.value])]
        pos = hit.end
    return "".join(out) + value[pos:]


def _path(path: YamlPath) -> str:
    return ".".join(str(p) for p in path)


def _line(doc: Document, site: Site, hit: Hit) -> int:
    """The line where the value is written (inside a block scalar, the line of the token)."""
    node = doc.node(site.path)
    if node is None:
        return doc.line_of(site.path)
    if getattr(node, "style", None) == "|" and site.value[hit.start : hit.end] == hit.value:
        # a literal block keeps its lines: line N of the value is N lines below the header
        return node.start_mark.line + 2 + site.value.count("\n", 0, hit.start)
    at = doc.text.find(hit.value.split("\n")[0], doc.offset(node.start_mark))
    if at < 0 or at > doc.offset(node.end_mark):
        return doc.line_of(site.path)
    return doc.text.count("\n", 0, at) + 1


def _rotate(doc: Document, site: Site, hit: Hit, plan: Plan) -> str:
    if hit not in site.hits:  # from a Python script the step runs
        for rel, hits in sorted(plan.python.items()):
            for py in hits:
                if py.value == hit.value:
                    return f"{rel}:{py.line}"
    if site.key == "python":  # a `shell: python` block: the line inside the block
        node = doc.node(site.path)
        py = next((p for p in python_hits(site.value) if p.value == hit.value), None)
        if node is not None and py is not None:
            return f"{doc.path}:{node.start_mark.line + 1 + py.line}"
    return f"{doc.path}:{_line(doc, site, hit)}"
