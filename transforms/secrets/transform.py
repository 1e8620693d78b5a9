"""The `secrets` transform: the fixes and notes for the sites `scan` finds, and their messages
(what NAME, how to create it, where the old value must be rotated).  It decides *what*
changes; the engine renders, splices and verifies (YAML operations for workflows,
`ReplacePythonString` for Python scripts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from gha_fix.codemod.document import Document, YamlPath
from gha_fix.codemod.model import FileFix, FileNote, Fix, Note, Safety, SecretToCreate, Span
from gha_fix.codemod.operations import EditError, Operation, ReplaceValue, SetKey
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform
from gha_fix.transforms import register
from gha_fix.transforms.secrets.detect import Hit
from gha_fix.transforms.secrets.scan import Plan, Site, plan_for, python_runs, scan_workflow
from gha_fix.transforms.secrets.shell import rewrite_script
from gha_fix.transforms.secrets.spans import value_span

if TYPE_CHECKING:  # the Python side is imported when a repository has Python to fix
    from gha_fix.transforms.secrets.python import PyHit

ID = "secrets"
_WHERE = {"env": "env", "with": "input", "secrets": "secrets", "credentials": "credentials"}


@register
class SecretsTransform(Transform):
    id = ID
    summary = "plaintext credentials → ${{ secrets.NAME }} (known formats safe, name-based unsafe)"
    fix_safety = "safe (known token formats); unsafe (name-based)"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        """Fixes and notes, each with the spans of its values: every output masks the spans
        of every fix and note of a file (`FileResult.spans`), whichever output shows them."""
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
                               f"it ({doc.path}:{_line(doc, site, hit)})", secrets=(hit.value,),
                               spans=_spans(doc, site, [hit]))
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
            in_script = [h for h, _ in chosen if site and h in site.hits]
            if site is not None and in_script:
                if site.key == "python":
                    new = _rewrite_python_run(site.value, names, {h.value for h in in_script})
                else:
                    new = rewrite_script(site.value, site.key, in_script, names)
                if new is None or new == site.value:
                    reason = ("in a pwsh single-quoted string, a heredoc or an unknown shell"
                              if site.key != "python" else "not a plain string literal")
                    for hit in in_script:
                        yield Note(ID, site.path, f"plaintext {hit.label} in run: ({reason}):"
                                     f" not replaced; move it to a secret by hand and rotate it "
                                     f"({doc.path}:{_line(doc, site, hit)})", secrets=(hit.value,),
                                     spans=_spans(doc, site, [hit]))
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
                   secrets=tuple(dict.fromkeys(h.value for h in hits)),
                   spans=_spans(doc, site, hits), creates=tuple(unique), details=details)

    # --- other files of the repo (Python scripts) -------------------------------------------
    def run_files(self, repo: RepoContext) -> Iterable[FileFix | FileNote]:
        from gha_fix.transforms.secrets.python import environ_edits

        plan = plan_for(repo)
        for rel, hits in sorted(plan.python.items()):
            for hit in hits:
                yield FileFix(rel, hit.line, self._py_fix(rel, hit, plan),
                              environ_edits([hit], plan.names))
        for rel, hits in sorted(plan.python_notes.items()):
            for hit in hits:
                what = "remove it" if hit.note == "a comment" else "move it to a secret"
                yield FileNote(rel, hit.line, Note(
                    ID, (), f"plaintext {hit.label} in {hit.note}: not replaced (it cannot read "
                    f"an environment variable); {what} by hand and rotate it, it stays in git "
                    f"history ({rel}:{hit.line})", secrets=(hit.value,),
                    spans=(Span(hit.start, hit.end, hit.prefix),)))

    def _py_fix(self, rel: str, hit: PyHit, plan: Plan) -> Fix:
        name = plan.names[hit.value]
        create = f"gh secret set {name} --repo {plan.slug}"
        rotate = f"{rel}:{hit.line}"
        message = (f"plaintext {hit.label} in a Python string → os.environ[\"{name}\"] (steps "
                   f"that run {rel} get env {name}: ${{{{ secrets.{name} }}}}); create: {create};"
                   f" the old value must be rotated: it stays in git history ({rotate})")
        entry = {"secret": name, "create": create, "rotate": rotate}
        return Fix(ID, (), message, (), Safety.SAFE if hit.safe else Safety.UNSAFE,
                   secrets=(hit.value,), spans=(Span(hit.start, hit.end, hit.prefix),),
                   creates=(SecretToCreate(name, create, rotate, hit.label, hit.value),),
                   details={**entry, "secrets": [entry]})


def _rewrite_python_run(script: str, names: Mapping[str, str], values: set[str]) -> str | None:
    """A `shell: python` script with the literals holding `values` moved to `os.environ`
    (rendered and verified by the engine), or None if that cannot be done."""
    from gha_fix.codemod.python_edit import apply_python_edits
    from gha_fix.transforms.secrets.python import environ_edits, python_hits

    edits = environ_edits([h for h in python_hits(script) if h.value in values], names)
    try:
        return apply_python_edits(script, edits, "run: script")
    except EditError:
        return None


def _ref(name: str) -> str:
    return f"${{{{ secrets.{name} }}}}"


def _substitute(value: str, hits: list[Hit], names: Mapping[str, str]) -> str:
    out, pos = [], 0
    for hit in hits:
        out += [value[pos : hit.start], _ref(names[hit.value])]
        pos = hit.end
    return "".join(out) + value[pos:]


def _spans(doc: Document, site: Site, hits: list[Hit]) -> tuple[Span, ...]:
    """Where the hits of `site` (not those of a script the step runs) are written."""
    spans = (value_span(doc, site.path, site.value, h) for h in hits if h in site.hits)
    return tuple(s for s in spans if s is not None)


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
        from gha_fix.transforms.secrets.python import python_hits

        node = doc.node(site.path)
        py = next((p for p in python_hits(site.value) if p.value == hit.value), None)
        if node is not None and py is not None:
            return f"{doc.path}:{node.start_mark.line + 1 + py.line}"
    return f"{doc.path}:{_line(doc, site, hit)}"
