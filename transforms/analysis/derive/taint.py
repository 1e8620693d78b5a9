"""Where the token goes in an action's code.  The call sites `code.py` maps only account for
the token when the token is handed to an octokit client and nowhere else: a token put in a
header, a git URL, a child process' environment or passed to another action makes the
action's needs unknowable from its call sites.

The reads of the token (`getInput('github-token')`, `process.env.GITHUB_TOKEN`) are followed
one step: into a variable (`const token = core.getInput(...)`) whose later uses in the same
module must all hand it to an octokit client (`getOctokit(token)`, `new Octokit({auth:
token})`) or only test it (`if (!token)`); into a property (`token: core.getInput(...)`) whose
uses in every file (`inputs.token`, `const { token } = ...`) must do the same.  Anything else
is a reason the action is not understood.
"""

from __future__ import annotations

import re

from gha_fix.transforms.analysis.derive.jslex import line_of

OCTOKIT_USE = re.compile(r"getOctokit\s*\(|new\s+[\w$.]*Octokit\w*\s*\(|"
                         r"\bnew\s+[\w$.]*GitHub\s*\(|\bcreateOctokit\w*\s*\(")
VARIABLE = re.compile(r"(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w<>|\[\] ]+)?=\s*$")
PROPERTY = re.compile(r"(?:^|[{,])\s*['\"]?([A-Za-z_$][\w$-]*)['\"]?\s*:\s*$")
# a use that only tests the value: `if (!token)`, `if (token)`, `token === ''` (not `token ||
# x` nor `token && x`: those hand the value on)
TEST_USE = (r"(?:!\s*(?:[\w$]+\.)*NAME(?![\w$(.\[])|(?<![\w$.-])NAME\s*(?:===?|!==?)"
            r"|\bif\s*\(\s*NAME\s*\))")
# the end of a module inside a bundle (webpack/ncc, esbuild): a variable's scope ends there
MODULE_END = re.compile(r"^;?// (?:CONCATENATED MODULE|node_modules/|src/)|^/\*\*\*/ \d+:", re.M)
MAX_SCOPE = 20000


def token_reads(token_inputs: list[str], token_env: list[str]) -> re.Pattern[str] | None:
    """Where code reads the token: `getInput('github-token'`, `process.env.GITHUB_TOKEN`."""
    parts = [r"getInput\s*\(\s*['\"`]" + re.escape(n) + r"['\"`]" for n in token_inputs]
    parts += [r"process\.env\s*(?:\.\s*" + re.escape(n) + r"\b|\[\s*['\"`]" + re.escape(n)
              + r"['\"`]\s*\])" for n in token_env]
    return re.compile("|".join(parts)) if parts else None


def _opening_brace(code: str, offset: int) -> int | None:
    depth = 0
    for i in range(offset - 1, max(0, offset - 5000), -1):
        if code[i] == "}":
            depth += 1
        elif code[i] == "{":
            if depth == 0:
                return i
            depth -= 1
    return None


def _returned_object(code: str, offset: int) -> bool:
    """The object literal around `offset` is handed back (`return {`, `=> ({`)."""
    brace = _opening_brace(code, offset)
    return brace is not None and re.search(r"(?:\breturn|=>\s*\(?)\s*$",
                                           code[max(0, brace - 40):brace]) is not None


def _octokit_options(code: str, offset: int) -> bool:
    """The object literal around `offset` is the options of an octokit client."""
    depth = 0
    for i in range(offset - 1, max(0, offset - 2000), -1):
        if code[i] == "}":
            depth += 1
        elif code[i] == "{":
            if depth == 0:
                head = code[max(0, i - 120):i]
                return re.search(r"(?:new\s+[\w$.]*Octokit\w*|getOctokit|new\s*\([^()]*"
                                 r"Octokit[^()]*\))\s*\(\s*$", head) is not None
            depth -= 1
    return False


def _line(code: str, offset: int) -> tuple[int, str]:
    start = code.rfind("\n", 0, offset) + 1
    end = code.find("\n", offset)
    return start, code[start:end if end >= 0 else len(code)]


def _fine(line: str, name: str) -> bool:
    """The line hands `name` to an octokit client, or only tests it."""
    if OCTOKIT_USE.search(line):
        return True
    rest = re.sub(TEST_USE.replace("NAME", re.escape(name)), "", line)
    return re.search(r"(?<![\w$-])" + re.escape(name) + r"(?![\w$-])", rest) is None


def _variable_fine(code: str, name: str, after: int) -> bool:
    end = MODULE_END.search(code, after)
    stop = min(end.start() if end else len(code), after + MAX_SCOPE)
    pattern = re.compile(r"(?<![\w$.-])" + re.escape(name) + r"(?![\w$-])")
    for use in pattern.finditer(code, after, stop):
        if not _fine(_line(code, use.start())[1], name):
            return False
    return True


def _property_fine(codes: dict[str, str], name: str) -> bool:
    member = re.compile(r"\.\s*" + re.escape(name) + r"(?![\w$-])|\[\s*['\"]" + re.escape(name)
                        + r"['\"]\s*\]")
    destructured = re.compile(r"\{[^{}=]*(?<![\w$-])" + re.escape(name)
                              + r"(?![\w$-])[^{}=]*\}\s*=")
    for code in codes.values():
        for use in member.finditer(code):
            line = _line(code, use.start())[1]
            if not _fine(line.replace(use.group(), " " + name, 1), name):
                return False
        for use in destructured.finditer(code):
            if not _variable_fine(code, name, use.end()):
                return False
    return True


def raw_token_uses(codes: dict[str, str], reads: re.Pattern[str]) -> tuple[int, list[str]]:
    """How often the code (path -> text, comments blanked) reads the token, and each read
    whose value may go somewhere other than an octokit client."""
    count = 0
    reasons: list[str] = []
    for where, code in codes.items():
        for match in reads.finditer(code):
            count += 1
            start, line = _line(code, match.start())
            if OCTOKIT_USE.search(line):
                continue
            before = re.sub(r"(?:await\s+)?[\w$.]*\s*$", "", line[:match.start() - start])
            if re.search(r"\bauth\s*:\s*$", before) and _octokit_options(code, match.start()):
                continue  # `new Octokit({\n  auth: core.getInput('token')`
            variable, prop = VARIABLE.search(before), PROPERTY.search(before)
            if variable and _variable_fine(code, variable.group(1), match.end()):
                continue
            if prop and not variable:
                holder = object_variable(code, match.start())
                if holder is not None and object_fine(codes, where, holder[1], holder[0],
                                                      prop.group(1)):
                    continue
                if holder is None and _returned_object(code, match.start()) and \
                        _property_fine(codes, prop.group(1)):
                    continue  # `return {token: ...}`: its property, wherever it is read
            reasons.append(f"{where}:{line_of(code, match.start())}: the token read here "
                           "may go somewhere other than an octokit client")
    return count, reasons


# --- an object literal holding the token: `const inputs = {token: core.getInput('token')}` ---

CLASS_HEAD = re.compile(r"\bclass\s+[\w$]+[^{]*\{")
SAFE_CALLEES = frozenset({"inspect", "debug", "info"})  # logging: the runner masks the token


def object_variable(code: str, offset: int) -> tuple[str, int] | None:
    """The variable an object literal around `offset` is assigned to (`const inputs = {`),
    and where it is declared."""
    depth = 0
    i = offset
    while i > 0 and offset - i < 5000:
        i -= 1
        if code[i] == "}":
            depth += 1
        elif code[i] == "{":
            if depth == 0:
                head = max(0, i - 200)
                found = VARIABLE.search(code[head:i].rstrip() + " ")
                return (found.group(1), head + found.start()) if found else None
            depth -= 1
    return None


def _call_of_argument(code: str, offset: int) -> tuple[str, int] | None:
    """(callee name, argument index) when `offset` stands as an argument of a call."""
    depth, index, i = 0, 0, offset
    while i > 0 and offset - i < 2000:
        i -= 1
        ch = code[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return None
                head = re.search(r"([A-Za-z_$][\w$]*)\s*\)?\s*$", code[max(0, i - 80):i])
                return (head.group(1), index) if head else None
            depth -= 1
        elif ch == "," and depth == 0:
            index += 1
    return None


def _block_end(code: str, start: int) -> int:
    """Where the block that holds `start` closes (or the end of the code)."""
    depth = 0
    for i in range(start, len(code)):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth < 0:
                return i
    return len(code)


def _parameter(codes: dict[str, str], callee: str,
               index: int) -> tuple[str, str, int, int] | None:
    """Parameter `index` of `callee`'s one definition: its name, the file, and the span of
    the function's body (None: no single definition, or no plain name)."""
    definition = re.compile(
        r"(?:function\s*\*?\s*" + re.escape(callee) + r"|(?<![\w$.])" + re.escape(callee)
        + r"\s*=\s*(?:async\s+)?(?:function\s*\*?\s*[\w$]*)?)\s*\(([^()]*)\)")
    found = [(where, m) for where, code in codes.items() for m in definition.finditer(code)]
    if not found:  # `new Callee(...)`: the constructor in its class's body
        head = re.compile(r"\bclass\s+" + re.escape(callee) + r"\b[^{]*\{")
        constructor = re.compile(r"\bconstructor\s*\(([^()]*)\)")
        for where, code in codes.items():
            for cls in head.finditer(code):
                match = constructor.search(code, cls.end(), _block_end(code, cls.end()))
                if match:
                    found.append((where, match))
    if len(found) != 1:
        return None
    where, match = found[0]
    params = [p.strip().split("=")[0].split(":")[0].strip().split()[-1:] or [""]
              for p in match.group(1).split(",")]
    params = [p[0].rstrip("?") for p in params]
    if index >= len(params) or not re.fullmatch(r"[A-Za-z_$][\w$]*", params[index]):
        return None
    body = codes[where].find("{", match.end())
    if body < 0:
        return None
    return params[index], where, body, _block_end(codes[where], body + 1)


def object_fine(codes: dict[str, str], where: str, declared: int, variable: str,
                prop: str) -> bool:
    """Every use of `<receiver>.<prop>` hands the token to an octokit client or tests it,
    the receivers being the object's variable (in the block it is declared in) and the
    parameters it is passed to (in their function's body); a receiver used any other way
    (assigned, returned, spread, passed to a function gha-fix cannot find) leaves it
    unknown."""
    receivers = [(variable, where, declared, _block_end(codes[where], declared))]
    seen: set[tuple[str, str, int]] = set()
    while receivers:
        name, file, start, end = receivers.pop()
        if (name, file, start) in seen:
            continue
        seen.add((name, file, start))
        code = codes[file]
        bare = re.compile(r"(?<![\w$.])" + r"\s*\.\s*".join(map(re.escape, name.split(".")))
                          + r"(?![\w$])")
        for use in bare.finditer(code, start, end):
            after = code[use.end():use.end() + 60]
            member = re.match(r"\s*(?:\.\s*([\w$]+)|\[\s*['\"]([\w$-]+)['\"]\s*\])", after)
            if member:
                if (member.group(1) or member.group(2)) == prop and \
                        not _fine(_line(code, use.start())[1].replace(
                            use.group() + after[:member.end()], " " + prop, 1), prop):
                    return False
                continue
            before = code[max(0, use.start() - 40):use.start()]
            if re.search(r"(?:const|let|var)\s+$", before) or re.match(r"\s*[=!]==?", after) \
                    or re.search(r"(?:!|typeof\s+|if\s*\(\s*)$", before):
                continue  # the declaration, or a test
            if re.match(r"\s*=(?![=>])", after):
                continue  # the receiver given a value (`this.options = options`): no leak
            kept = re.search(r"(?<![\w$.])this\s*\.\s*([\w$]+)\s*=\s*$", before)
            if kept and re.match(r"\s*[;,)\n]", after):  # kept on the instance: its class
                heads = list(CLASS_HEAD.finditer(code, 0, use.start()))
                if not heads:
                    return False
                body = heads[-1].end()
                receivers.append((f"this.{kept.group(1)}", file, body, _block_end(code, body)))
                continue
            if re.search(r"\breturn\s+$", before):  # handed back: follow the callers' results
                results = _results_of(codes, code, use.start(), prop)
                if results is None:
                    return False
                receivers += results
                continue
            call = _call_of_argument(code, use.start())
            if call is None:
                return False
            if call[0] in SAFE_CALLEES:
                continue
            param = _parameter(codes, call[0], call[1])
            if param is None:
                return False
            receivers.append(param)
    return True


FUNCTION_HEAD = re.compile(r"(?:function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\(|(?:const|let|var)\s+"
                           r"([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:async\s*)?(?:function\b|"
                           r"\([^()]*\)\s*(?::[^=>{;]+)?=>))")


def _results_of(codes: dict[str, str], code: str, offset: int,
                prop: str) -> list[tuple[str, str, int, int]] | None:
    """The variables the callers of the function returning at `offset` keep its result in
    (`const args = getArgs()`), each with its block; None when a caller does anything else
    with it, or the function cannot be named."""
    heads = list(FUNCTION_HEAD.finditer(code, max(0, offset - MAX_SCOPE), offset))
    if not heads:
        return None
    name = heads[-1].group(1) or heads[-1].group(2)
    call = re.compile(r"(?<![\w$.])" + re.escape(name) + r"\s*\(")
    out: list[tuple[str, str, int, int]] = []
    for where, text in codes.items():
        for use in call.finditer(text):
            before = text[max(0, use.start() - 120):use.start()]
            if re.search(r"(?:function\s*\*?\s*|(?:const|let|var)\s+)$", before) or \
                    re.search(re.escape(name) + r"\s*\([^()]*\)\s*(?::[^={]+)?\{",
                              text[use.start():use.start() + 200].split("\n")[0]):
                continue  # the definition
            kept = re.search(r"(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*"
                             r"(?:await\s+|yield\s+)?$", before)
            if kept:
                start = use.start() - len(before) + kept.start()
                out.append((kept.group(1), where, start, _block_end(text, start)))
                continue
            unpacked = re.search(r"\{([^{}=]*)\}\s*=\s*(?:await\s+|yield\s+)?$", before)
            if unpacked and prop in re.findall(r"[\w$]+", unpacked.group(1)) and \
                    _variable_fine(text, prop, use.end()):
                continue
            if unpacked and prop not in re.findall(r"[\w$]+", unpacked.group(1)):
                continue
            return None
    return out


# --- the client: its calls are only seen where the code that makes them is read -------------

CLIENT = re.compile(r"(?:(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?|(?<![\w$.])this\s*\."
                    r"\s*([\w$]+))\s*=\s*(?:await\s+)?(?:[\w$.]*getOctokit\s*\(|new\s+[\w$.]*"
                    r"Octokit\w*\s*\()")
BARE_IMPORT = re.compile(r"(?:\brequire\s*\(\s*|\bfrom\s+|\bimport\s+)(['\"])([^.'\"/][^'\"]*)\1")
NODE_BUILTINS = frozenset({
    "fs", "path", "os", "util", "child_process", "crypto", "stream", "events", "url", "http",
    "https", "zlib", "assert", "buffer", "process", "readline", "net", "tls", "timers",
    "string_decoder", "querystring", "worker_threads", "perf_hooks", "v8", "vm", "dns",
})


def unseen_packages(codes: dict[str, str]) -> list[str]:
    """Packages the code imports whose code is not among what was read (a bundle has none)."""
    out = {m.group(2) for code in codes.values() for m in BARE_IMPORT.finditer(code)}
    return sorted(p for p in out
                  if p.removeprefix("node:").split("/")[0] not in NODE_BUILTINS)


def clients_escape(codes: dict[str, str]) -> list[str]:
    """Where an octokit client made from the token goes where its calls cannot be seen: to a
    function of a package that was not read, another name, a value handed back unfollowed."""
    reasons: list[str] = []
    for where, code in codes.items():
        for match in CLIENT.finditer(code):
            if match.group(1):
                name, start = match.group(1), match.start()
            else:
                heads = list(CLASS_HEAD.finditer(code, 0, match.start()))
                if not heads:
                    reasons.append(f"{where}:{line_of(code, match.start())}: an octokit "
                                   "client kept outside a class")
                    continue
                name, start = f"this.{match.group(2)}", heads[-1].end()
            if not object_fine(codes, where, start, name, "\0"):
                reasons.append(f"{where}:{line_of(code, match.start())}: the octokit client "
                               "made here is handed to code gha-fix has not read")
    return reasons


# --- the token in the step's environment: child processes and packages may read it too ---

SPAWN = re.compile(r"(?<![\w$])(?:exec|execFile|execSync|execFileSync|spawn|spawnSync|"
                   r"getExecOutput|fork)\s*\)?\s*\(")
# packages that never read the GITHUB_TOKEN from the environment by themselves
ENV_SAFE_PACKAGES = frozenset({
    "@actions/core", "@actions/exec", "@actions/io", "@actions/glob", "@actions/tool-cache",
    "@actions/cache", "@actions/http-client", "@actions/github", "@octokit/plugin-retry",
    "@octokit/plugin-throttling", "@octokit/plugin-paginate-rest",
    "@octokit/plugin-rest-endpoint-methods", "@octokit/rest", "@octokit/core",
})


def env_route_reasons(codes: dict[str, str], token_env: list[str]) -> list[str]:
    """Why the call sites cannot settle an action that gets the token through its
    environment (`env: GITHUB_TOKEN: ...`): every process it starts inherits the variable,
    and a package whose code was not read may read it."""
    if not token_env:
        return []
    reasons: list[str] = []
    for where, code in codes.items():
        spawn = SPAWN.search(strip_blank(code))
        if spawn:
            reasons.append(f"{where}:{line_of(code, spawn.start())}: a process started here "
                           f"inherits {', '.join(token_env)} from the environment")
            break
    packages = [p for p in unseen_packages(codes)
                if p not in ENV_SAFE_PACKAGES and not p.startswith("@types/")]
    if packages:
        reasons.append(f"package {packages[0]} (not read) may read {token_env[0]} from the "
                       "environment")
    return reasons


def strip_blank(code: str) -> str:
    from gha_fix.transforms.analysis.derive.jslex import strip_comments

    return strip_comments(code, blank_strings=True)
