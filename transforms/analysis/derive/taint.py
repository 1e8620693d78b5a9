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

OCTOKIT_USE = re.compile(r"getOctokit\s*\(|new\s+[\w$.]*Octokit\w*\s*\(|\bauth\s*:|"
                         r"\bGitHub\s*\(|\bcreateOctokit\w*\s*\(")
VARIABLE = re.compile(r"(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[\w<>|\[\] ]+)?=\s*$")
PROPERTY = re.compile(r"(?:^|[{,])\s*['\"]?([A-Za-z_$][\w$-]*)['\"]?\s*:\s*$")
# a use that only tests the value: `if (!token)`, `token === ''`
TEST_USE = r"(?:!\s*(?:[\w$]+\.)*NAME(?![\w$])|(?<![\w$.-])NAME\s*(?:===?|!==?|\?\?|\|\||&&|\)))"
# the end of a module inside a bundle (webpack/ncc, esbuild): a variable's scope ends there
MODULE_END = re.compile(r"^;?// (?:CONCATENATED MODULE|node_modules/|src/)|^/\*\*\*/ \d+:", re.M)
MAX_SCOPE = 20000


def token_reads(token_inputs: list[str], token_env: list[str]) -> re.Pattern[str] | None:
    """Where code reads the token: `getInput('github-token'`, `process.env.GITHUB_TOKEN`."""
    parts = [r"getInput\s*\(\s*['\"`]" + re.escape(n) + r"['\"`]" for n in token_inputs]
    parts += [r"process\.env\s*(?:\.\s*" + re.escape(n) + r"\b|\[\s*['\"`]" + re.escape(n)
              + r"['\"`]\s*\])" for n in token_env]
    return re.compile("|".join(parts)) if parts else None


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
            variable, prop = VARIABLE.search(before), PROPERTY.search(before)
            if variable and _variable_fine(code, variable.group(1), match.end()):
                continue
            if prop and not variable and _property_fine(codes, prop.group(1)):
                continue
            reasons.append(f"{where}:{line_of(code, match.start())}: the token read here "
                           "may go somewhere other than an octokit client")
    return count, reasons
