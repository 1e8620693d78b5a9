"""Where the credentials are: the sites in a workflow (env, inputs, secrets, credentials, `run:`
scripts, anywhere else), the Python scripts its steps run, and the per-repository plan that
gives each value one NAME across every file."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import Document, DocumentError, YamlPath
from gha_fix.codemod.repo import RepoContext, relative
from gha_fix.transforms.secrets.detect import (
    EXPR,
    Hit,
    Rule,
    known_tokens,
    name_hit,
    normalize_key,
    rules_in,
    table,
    valid_name,
)
from gha_fix.transforms.secrets.shell import script_hits

if TYPE_CHECKING:  # the Python scanner is imported when a repository has Python to scan
    from gha_fix.transforms.secrets.python import PyHit

_CACHE = "secrets:plan"


# --- the repository: where `gh secret set` points, which names are taken -----------------------
@dataclass
class Plan:
    """Per repository: one NAME per secret value, and the Python files' findings."""

    slug: str
    names: dict[str, str] = field(default_factory=dict)
    python: dict[str, list[PyHit]] = field(default_factory=dict)  # rel path → hits
    python_notes: dict[str, list[PyHit]] = field(default_factory=dict)  # hits left in place

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
        doc = repo.find_document(relative(repo.root, path))
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
            source = repo.read_text(rel)
        except DocumentError:  # not a regular UTF-8 file inside the repository
            continue
        from gha_fix.transforms.secrets.python import python_hits

        hits = python_hits(source)
        fixable = [h for h in hits if not h.note]
        for hit in fixable:
            plan.name_for(hit.value, hit.preferred, hit.type_name)
        if fixable:
            plan.python[rel] = fixable
        if len(fixable) < len(hits):
            plan.python_notes[rel] = [h for h in hits if h.note]
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
        if not hit.safe and not whole:  # the user info of a URL under the key
            return f"{self.key}_CREDENTIALS"
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


def mapping_of(node: Any) -> dict:
    return node if isinstance(node, dict) else {}


def service_values(data: dict) -> set[str]:
    """The env values of service containers: throwaway test credentials, wherever repeated."""
    values: set[str] = set()
    for job in mapping_of(data.get("jobs")).values():
        for service in mapping_of(mapping_of(job).get("services")).values():
            values.update(v for v in mapping_of(mapping_of(service).get("env")).values()
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
        for key, value in mapping_of(node).items():
            seen.add((*path, key))
            if not isinstance(value, str) or not isinstance(key, str):
                continue
            hits = known_tokens(value, key, unkeyed)
            if not hits and named:
                hit = name_hit(key, value, 0, tests)
                hits = [hit] if hit else []
            if hits:
                sites.append(Site(kind, (*path, key), key, value, hits, action))

    mapping("env", ("env",), data.get("env"))
    for job_id, job in mapping_of(data.get("jobs")).items():
        job = mapping_of(job)
        base: YamlPath = ("jobs", job_id)
        mapping("env", (*base, "env"), job.get("env"))
        mapping("secrets", (*base, "secrets"), job.get("secrets"))
        mapping("with", (*base, "with"), job.get("with"))  # a reusable workflow's inputs
        container = mapping_of(job.get("container"))
        mapping("env", (*base, "container", "env"), container.get("env"))
        mapping("credentials", (*base, "container", "credentials"), container.get("credentials"))
        for name, service in mapping_of(job.get("services")).items():
            service = mapping_of(service)
            where = (*base, "services", name)
            mapping("env", (*where, "env"), service.get("env"), named=False)  # test credentials
            mapping("credentials", (*where, "credentials"), service.get("credentials"))
        steps = job.get("steps")
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            step = mapping_of(step)
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



# --- run: steps -----------------------------------------------------------------------------
def shell_of(data: dict, job: dict, step: dict) -> str:
    """bash | sh | pwsh | cmd | python | other | unknown (a matrix may pick the OS)."""
    shell = step.get("shell")
    for defaults in (job.get("defaults"), data.get("defaults")):
        if shell is None:
            shell = mapping_of(mapping_of(defaults).get("run")).get("shell")
    if shell is None:
        runs_on = job.get("runs-on")
        text = str(runs_on)
        if EXPR in text:
            return "unknown"
        return "pwsh" if "windows" in text.lower() else "bash"
    if not isinstance(shell, str) or EXPR in shell:
        return "unknown"
    word = os.path.basename(shell.split()[0]) if shell.split() else ""
    word = {"powershell": "pwsh", "python3": "python"}.get(word, word)
    return word if word in ("bash", "sh", "pwsh", "cmd", "python") else "other"


def _run_site(path: YamlPath, script: str, shell: str, tests: set[str],
              unkeyed: Sequence[Rule] | None = None) -> Site | None:
    if shell == "python":
        from gha_fix.transforms.secrets.python import python_hits

        found = python_hits(script)
        hits = [Hit(h.start, h.end, h.value, h.label, h.type_name, h.safe, h.prefix)
                for h in found]
        names = {h.value: h.preferred for h in reversed(found)}
        return Site("run", path, "python", script, hits, python_names=names) if hits else None
    hits, assigned = script_hits(script, shell, tests, unkeyed)
    return Site("run", path, shell, script, hits, assigned=assigned) if hits else None


_PY_RUN = re.compile(r"(?:^|[\s;&|(])(?:python[0-9.]*|py)\s+(?:-[A-Za-z]+\s+)*"
                     r"[\"']?([\w./-]+\.py)\b")


def python_runs(doc: Document, repo: RepoContext) -> Iterable[tuple[YamlPath, str]]:
    """(step path, repo-relative script) for every `python x.py` in a bash/sh/pwsh run step."""
    if ".py" not in doc.text:
        return
    data = doc.data
    for job_id, job in mapping_of(data.get("jobs")).items():
        job = mapping_of(job)
        steps = job.get("steps")
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            step = mapping_of(step)
            run = step.get("run")
            if not isinstance(run, str):
                continue
            workdir = step.get("working-directory")
            for defaults in (job.get("defaults"), data.get("defaults")):
                if workdir is None:
                    workdir = mapping_of(mapping_of(defaults).get("run")).get("working-directory")
            if workdir is not None and (not isinstance(workdir, str) or EXPR in workdir):
                continue  # cannot tell which file runs
            base = workdir or "."
            for m in _PY_RUN.finditer(run):
                rel = os.path.normpath(os.path.join(base, m.group(1))).replace(os.sep, "/")
                path = repo.root / rel
                if not rel.startswith("..") and path.is_file() and repo.inside(path):
                    yield ("jobs", job_id, "steps", index), rel

