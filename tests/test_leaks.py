"""No credential in any output channel: every format, in every placement, through every command.

One repository holds a distinct credential for each (format, placement) pair that the secrets
transform can find: GitHub PATs (classic, fine-grained), npm, Slack, AWS key id and secret key,
a PEM private key, a name-based password with `\\`, `"` and non-ASCII characters, and the user
info of a URL; written as a plain value, in a `|` block, folded, double-quoted with escapes,
over continuation lines, in a bash script, in a `workflow_dispatch` default, in a heredoc, in
pwsh single quotes, and in a Python script (a string, a `\"\"\"` string, an escaped string, a
string in parts, a comment).  The CLI runs it through `check` (text, json, sarif, github,
`--report`), `apply --dry-run`, `apply --no-commit --report --secrets-file` and `apply`
committing in a git repository, with every transform on (others edit lines near the
credentials).  Every channel is searched for each value and for every 8-character piece of it,
decoded and as written in the file: stdout, stderr, the report, the commit message, the branch
name, the files written (no piece that was not in that file before), every file left in the
temporary folder, and the secrets file (nothing but its own entries).

Failed before the span masks (#13 items 1-3, 5, 8): the diff showed a `|` block's key lines, an
escaped token, a token over continuation lines; SARIF showed JSON-escaped passwords; masks
showed 4 characters of name-based secrets; URLs and Python comments were not found at all.

Fake values are generated at test time (no literal here that a push-protection scanner would
flag); they match the rules' regexes.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import shutil
import string
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gha_fix.codemod.cli import app

ALNUM = string.ascii_letters + string.digits
PIECE = 8


def _gen(kind: str, rnd: random.Random) -> str:
    def r(n: int, chars: str = ALNUM) -> str:
        return "".join(rnd.choice(chars) for _ in range(n))

    return {
        "pat": lambda: "ghp_" + r(36),
        "fine": lambda: "github_pat_" + r(22) + "_" + r(59),
        "npm": lambda: "npm_" + r(36),
        "slack": lambda: "xoxb-" + r(12, string.digits) + "-" + r(24),
        "akid": lambda: "AKIA" + r(16, string.ascii_uppercase + "234567"),
        "aws": lambda: r(40, ALNUM + "+"),
        "pem": lambda: "-----BEGIN RSA " + "PRIVATE KEY-----\n" + "\n".join(
            r(64, ALNUM + "+/") for _ in range(3)) + "\n-----END RSA " + "PRIVATE KEY-----",
        "password": lambda: r(6) + '"' + r(3) + "\\" + "ä" + r(6) + "é!",
        "url": lambda: "u" + r(7, string.ascii_lowercase) + ":" + r(18),
    }[kind]()


KINDS = ("pat", "fine", "npm", "slack", "akid", "aws", "pem", "password", "url")
# a key the value sits under (the AWS secret key and the password are found by their key)
SUFFIX = {"aws": "AWS_SECRET_ACCESS_KEY", "password": "PASSWORD", "url": "URL"}


@dataclass
class Cred:
    kind: str
    place: str
    value: str  # decoded
    key: str
    written: str = ""  # as written in the file (set by the renderer)

    @property
    def text(self) -> str:
        """The string that holds it (a URL holds its user info)."""
        return f"https://{self.value}@git.example.com/r.git" if self.kind == "url" else self.value


def _yaml_escapes(text: str, escape_first: bool = True) -> list[str]:
    """Each character as written in a YAML double-quoted scalar; `escape_first`: the 5th
    as `\\xNN`."""
    out = []
    for index, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) > 127:
            out.append(f"\\u{ord(ch):04x}")
        elif escape_first and index == 4:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return out


def _yaml_dq(text: str) -> str:
    return '"' + "".join(_yaml_escapes(text)) + '"'


def _py_literal(text: str, escape_first: bool = False) -> str:
    out = []
    for index, ch in enumerate(text):
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif escape_first and index == 4:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.split("\n"))


def _continued(text: str) -> str:
    """Double-quoted, broken over lines with an escaped line break (the value has no blank)."""
    chars = _yaml_escapes(text, escape_first=False)
    cut = len(chars) // 2
    return '"' + "".join(chars[:cut]) + "\\\n    " + "".join(chars[cut:]) + '"'


# placement → (where it is written: env | script | python, its renderer)
RENDER: dict[str, tuple[str, Callable[[Cred], str]]] = {
    "plain": ("env", lambda c: f"  {c.key}: {c.text}\n"),
    "block": ("env", lambda c: f"  {c.key}: |{'' if c.kind == 'pem' else '-'}\n"
                               f"{_indent(c.text, 4)}\n"),
    "folded": ("env", lambda c: f"  {c.key}: >-\n{_indent(c.text, 4)}\n"),
    "dquoted": ("env", lambda c: f"  {c.key}: {_yaml_dq(c.text)}\n"),
    "continued": ("env", lambda c: f"  {c.key}: {_continued(c.text)}\n"),
    "dispatch": ("input", lambda c: f"      {c.key.lower()}:\n        default: " + (
        f"|\n{_indent(c.text, 10)}\n" if "\n" in c.text else f"{c.text}\n")),
    # one line: the safe fix rewrites it, the unsafe values held back stay on it (SARIF's
    # replacement text shows that line)
    "bash": ("script", lambda c: f" {c.key}='{c.text}'"),
    "heredoc": ("script", lambda c: f"cat > creds <<EOF\n{c.key}='{c.text}'\nEOF\n"),
    "pwsh": ("script", lambda c: f"$env:{c.key} = '{c.text}'\n"),
    "py_string": ("python", lambda c: f"{c.key} = {_py_literal(c.text)}\n"),
    "py_triple": ("python", lambda c: f'{c.key} = """{c.text}"""\n'),
    "py_escaped": ("python", lambda c: f"{c.key} = {_py_literal(c.text, escape_first=True)}\n"),
    # split early: no part is a token by itself (one that is fails: see the all-or-nothing
    # test below)
    "py_split": ("python", lambda c: f"{c.key} = ({_py_literal(c.text[:6])}\n"
                                     f"    {_py_literal(c.text[6:])})\n"),
    "py_comment": ("python", lambda c: f"# {c.key}: {c.text}\n"),
}
# what cannot be found: a value that is a credential only under its key, where it has none;
# a PEM key on one line
UNFINDABLE = {("aws", "dispatch"), ("password", "dispatch"), ("aws", "py_comment"),
              ("password", "py_comment"), ("pem", "py_comment"), ("pem", "plain"),
              ("pem", "bash")}
PLACES = tuple(RENDER)


def _render(creds: list[Cred], where: str, place: str | None = None) -> str:
    return "".join(RENDER[c.place][1](c) for c in creds
                   if RENDER[c.place][0] == where and place in (None, c.place))


def credentials() -> list[Cred]:
    out = []
    for kind in KINDS:
        for place in PLACES:
            if (kind, place) in UNFINDABLE:
                continue
            value = _gen(kind, random.Random(f"{kind}/{place}"))
            key = f"{kind}_{place}".upper() + (f"_{SUFFIX[kind]}" if kind in SUFFIX else "")
            out.append(Cred(kind, place, value, key))
    return out


def leak_repo(root: Path, creds: list[Cred]) -> Path:
    """The repository: one workflow and the Python script its step runs."""
    env, inputs = _render(creds, "env"), _render(creds, "input")
    steps = ""
    for place in (p for p, (where, _) in RENDER.items() if where == "script"):
        script = _render(creds, "script", place)
        script = f"export{script}" if place == "bash" else script
        shell = "        shell: pwsh\n" if place == "pwsh" else ""
        steps += f"      - name: {place}\n{shell}        run: |\n{_indent(script.rstrip(), 10)}\n"
    workflow = (f"on:\n  push:\n  workflow_dispatch:\n    inputs:\n{inputs}env:\n{env}jobs:\n"
                "  leak:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - uses: actions/checkout@v4\n"
                f"{steps}      - run: python scripts/leak.py\n")
    script = "import os\n\n" + _render(creds, "python")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / ".github" / "workflows" / "ci.yml").write_text(workflow, encoding="utf-8")
    (root / "scripts" / "leak.py").write_text(script, encoding="utf-8")
    for cred in creds:
        python = RENDER[cred.place][0] == "python"
        cred.written = _written(cred, script if python else workflow)
    return root


def _written(cred: Cred, text: str) -> str:
    """The text the value occupies in the file, as written (escapes and line breaks included):
    after its key, from its first 4 characters (the 5th may be escaped) to its last 3
    letters or digits."""
    head = cred.value[:4]
    tail = [m.group() for m in re.finditer(r"[A-Za-z0-9]{3}", _ARMOR.sub("", cred.value))][-1]
    start = text.find(head, text.lower().find(cred.key.lower()) + len(cred.key))
    end = text.find(tail, start) + len(tail)
    assert 0 <= start < end < start + 3 * len(cred.value), cred.key
    return text[start:end]


def pieces(text: str) -> set[str]:
    return {text[i : i + PIECE] for i in range(len(text) - PIECE + 1)}


# a PEM key's armor is no secret (and its words name the secret: PRIVATE_KEY)
_ARMOR = re.compile(r"-+BEGIN RSA PRIVATE KEY-+|-+END RSA PRIVATE KEY-+")
_ARMOR_TEXT = "-----BEGIN RSA PRIVATE KEY----- -----END RSA PRIVATE KEY-----"


def _framing(piece: str) -> bool:
    """Too little of the value's text (quotes, blanks), or a piece of a PEM armor."""
    return len("".join(piece.split())) < 5 or any(
        piece[i : i + 5] in _ARMOR_TEXT for i in range(len(piece) - 4))


def all_pieces(creds: list[Cred]) -> dict[str, Cred]:
    found: dict[str, Cred] = {}
    for cred in creds:
        for form in (cred.value, cred.written):
            for piece in pieces(form):
                if not _framing(piece):
                    found.setdefault(piece, cred)
    return found


def leaks(text: str, wanted: dict[str, Cred]) -> list[str]:
    """`kind/place` of every credential a piece of which is in `text` (or, for JSON, in one
    of its strings decoded)."""
    texts = [text]
    with contextlib.suppress(ValueError):
        texts.append("\n".join(_strings(json.loads(text))))
    out = set()
    for one in texts:
        for piece in pieces(one) & wanted.keys():
            out.add(f"{wanted[piece].kind}/{wanted[piece].place}")
    return sorted(out)


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


@pytest.fixture(scope="module")
def creds() -> list[Cred]:
    return credentials()


@pytest.fixture
def world(tmp_path: Path, creds: list[Cred], monkeypatch: pytest.MonkeyPatch
          ) -> tuple[Path, Path, dict[str, Cred]]:
    """The repository (a git repository, committed) and a private temporary folder."""
    repo = leak_repo(tmp_path / "repo", creds)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for args in (["init", "-q", "-b", "main"], ["config", "commit.gpgsign", "false"],
                 ["remote", "add", "origin", "git@github.com:acme/widgets.git"],
                 ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return repo, tmp, all_pieces(creds)


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), args
    return result.stdout + result.stderr


def test_every_credential_is_found(creds: list[Cred], tmp_path: Path) -> None:
    """The leak test means something only if each credential is found (fixed or noted)."""
    from gha_fix.codemod.runner import RunOptions, process_repo

    repo = leak_repo(tmp_path / "repo", creds)
    result = process_repo(repo, RunOptions(unsafe_fixes=True))
    found = {" ".join(s.split()) for f in result.files for s in f.secrets}
    missing = [f"{c.kind}/{c.place}" for c in creds
               if not any(" ".join(c.value.split()) in s for s in found)]
    assert missing == []


@pytest.mark.parametrize("args", [
    ("check",), ("check", "--format", "json", "--unsafe-fixes"), ("check", "--format", "sarif"),
    ("check", "--format", "github"), ("apply", "--dry-run"),
    ("apply", "--dry-run", "--unsafe-fixes"),
], ids=lambda args: "-".join(a.strip("-") for a in args))
def test_no_leak_in_check_and_dry_run(world: tuple[Path, Path, dict[str, Cred]],
                                      args: tuple[str, ...]) -> None:
    repo, tmp, wanted = world
    report = tmp.parent / "report.json"
    out = cli(*args, "--report", str(report), str(repo))
    assert leaks(out, wanted) == []
    assert leaks(report.read_text(encoding="utf-8"), wanted) == []
    assert leaks(_leftovers(tmp), wanted) == []


def test_no_leak_when_applying(world: tuple[Path, Path, dict[str, Cred]],
                               creds: list[Cred]) -> None:
    """`apply --no-commit` with a report and a secrets file, then `apply` committing (on a
    copy): written files, the secrets file, the commit and its branch."""
    repo, tmp, wanted = world
    copy = tmp.parent / "copy"
    shutil.copytree(repo, copy)
    before = _files(repo)
    report, secrets = tmp.parent / "report.json", tmp.parent / "secrets.env"
    out = cli("apply", "--no-commit", "--unsafe-fixes", "--report", str(report),
              "--secrets-file", str(secrets), str(repo))
    assert "wrote" in out and leaks(out, wanted) == []
    assert leaks(report.read_text(encoding="utf-8"), wanted) == []
    _written_files_hold_no_new_piece(before, _files(repo), wanted)
    values = {" ".join(c.value.split()) for c in creds}  # a folded value reads with blanks
    entries = _dotenv(secrets.read_text(encoding="utf-8"))
    assert entries and {" ".join(v.split()) for v in entries.values()} <= values
    out = cli("apply", "--unsafe-fixes", str(copy))
    assert leaks(out, wanted) == []
    git = ["git", "-C", str(copy)]
    log = subprocess.run([*git, "log", "--all", "--format=%B%n%D"], capture_output=True,
                         text=True, check=True).stdout
    branches = subprocess.run([*git, "branch", "--list"], capture_output=True, text=True,
                              check=True).stdout
    assert "gha-fix" in branches and "Rotate" in log
    assert leaks(log + branches, wanted) == []
    _written_files_hold_no_new_piece(before, _files(copy), wanted)
    assert leaks(_leftovers(tmp), wanted) == []


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts}


def _written_files_hold_no_new_piece(before: dict[str, str], after: dict[str, str],
                                     wanted: dict[str, Cred]) -> None:
    assert set(after) == set(before)  # no file added (no temporary file left behind)
    for path, text in after.items():
        new = set(leaks(text, wanted)) - set(leaks(before[path], wanted))
        assert new == set(), path


def _leftovers(tmp: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in tmp.rglob("*") if p.is_file())


def _dotenv(text: str) -> dict[str, str]:
    entries = {}
    for line in text.splitlines():
        name, _, value = line.partition("=")
        if value.startswith('"'):
            value = json.loads(value)
        entries[name] = value
    return entries


def test_dotenv_reader_reads_the_secrets_file_format(tmp_path: Path) -> None:
    from gha_fix.codemod.secrets_file import write_secrets_file

    path = tmp_path / "s.env"
    write_secrets_file(path, tmp_path / "nowhere", {"A": 'x"y\\zä\nw', "B": "plain"})
    assert _dotenv(path.read_text(encoding="utf-8")) == {"A": 'x"y\\zä\nw', "B": "plain"}


# --- each defect of #13, alone ------------------------------------------------------------------
def _repo(root: Path, workflow: str, files: dict[str, str] | None = None) -> Path:
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(workflow, encoding="utf-8")
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _value(kind: str, seed: str = "") -> str:
    return _gen(kind, random.Random(f"{kind}/{seed}"))


def test_noted_credential_is_masked_in_another_transforms_diff(tmp_path: Path) -> None:
    """#13.2: a PEM key the secrets transform only notes (a `workflow_dispatch` default) sits
    next to the lines the permissions transform adds; the diff's context shows none of its
    lines.  Failed before: a multi-line value was masked by text replacement on the diff, whose
    lines start with a space."""
    pem = _value("pem")
    workflow = ("on:\n  workflow_dispatch:\n    inputs:\n      key:\n        default: |\n"
                f"{_indent(pem, 10)}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - run: echo hi\n")
    repo = _repo(tmp_path / "repo", workflow)
    out = cli("apply", "--dry-run", str(repo))
    assert "+permissions:" in out and "-----BEGIN" not in out
    assert leaks(out, all_pieces([Cred("pem", "heredoc", pem, "A", pem)])) == []


def test_urls_lose_their_user_info_in_messages_and_report(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """#13.5: `--push=https://user:TOKEN@host/...` (the push fails) shows the URL without its
    user info on stderr and in `--report`.  Failed before: printed as given."""
    token = _value("pat", "push")
    repo = _repo(tmp_path / "repo", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                 "    steps:\n      - run: echo hi\n")
    for args in (["init", "-q", "-b", "main"], ["config", "commit.gpgsign", "false"],
                 ["config", "user.name", "t"], ["config", "user.email", "t@example.com"],
                 ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    report = tmp_path / "report.json"
    from gha_fix.codemod.cli import _push_value

    args = _push_value(["apply", f"--push=https://deploy:{token}@127.0.0.1:9/x.git",
                        "--report", str(report), str(repo)])
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    out = cli(*args)
    assert "push" in out and "https://***@127.0.0.1:9/x.git" in out
    assert token not in out + report.read_text() and "deploy" not in out + report.read_text()


NPM_JOB = ("on: push\njobs:\n  p:\n    runs-on: ubuntu-latest\n    steps:\n"
           "      - run: npm publish\n        env:\n          NPM_TOKEN: {}\n")


def test_secrets_file_checks_come_before_any_work(tmp_path: Path) -> None:
    """#13.6: a folder holding two repositories (two NPM_TOKEN values) is refused before any
    work (failed before: "wrote 1 secrets", one value dropped); `--dry-run` writes nothing and
    names what it would write (failed before: wrote the file); a folder as the path is a
    one-line error before any work (failed before: a traceback after the commit)."""
    one = _repo(tmp_path / "all" / "one", NPM_JOB.format(_value("npm", "1")))
    two = _repo(tmp_path / "all" / "two", NPM_JOB.format(_value("npm", "2")))
    before = {p: p.read_text() for p in (one, two) for p in p.rglob("ci.yml")}
    out_file = tmp_path / "s.env"
    result = CliRunner().invoke(app, ["apply", "--no-commit", "--secrets-file", str(out_file),
                                      str(tmp_path / "all")])
    assert result.exit_code == 2 and "one repository" in result.stderr
    assert not out_file.exists() and {p: p.read_text() for p in before} == before
    result = CliRunner().invoke(app, ["apply", "--dry-run", "--secrets-file", str(out_file),
                                      str(one)])
    assert result.exit_code == 0 and not out_file.exists()
    assert "would write 1 secrets" in result.stderr and "NPM_TOKEN" in result.stderr
    folder = tmp_path / "folder"
    folder.mkdir()
    result = CliRunner().invoke(app, ["apply", "--no-commit", "--secrets-file", str(folder),
                                      str(one)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit | None)
    assert result.stderr.count("\n") == 1 and "is a folder" in result.stderr
    assert {p: p.read_text() for p in before} == before  # nothing done


SCRIPT_JOB = ("on: push\njobs:\n  a:{}\n    runs-on: ubuntu-latest\n    steps:\n"
              "      - run: python tools/x.py\n")


@pytest.mark.parametrize("case", ["suppressed-step", "split-string"])
def test_one_credentials_fixes_are_all_or_nothing(tmp_path: Path, case: str) -> None:
    """#13.7: the step's env and the script's read of one credential are applied together or
    not at all.  A suppressed job (the step gets no env) keeps the script's literal; a string in
    parts whose first part is a token (that fix fails) keeps the workflow as it was.  Failed
    before: the other side was applied (the script read a variable no step sets; the workflow
    pointed at a secret the script does not read)."""
    token = _value("slack", case)
    if case == "suppressed-step":
        workflow = SCRIPT_JOB.format("  # gha-fix: ignore[secrets]")
        script = f'import os\n\nTOKEN = "{token}"\n'
    else:
        workflow = SCRIPT_JOB.format("")
        script = f'import os\n\nTOKEN = ("{token}"\n         "-more")\n'
    repo = _repo(tmp_path / "repo", workflow, {"tools/x.py": script})
    out = cli("apply", "--no-commit", "--select", "secrets", str(repo))
    assert (repo / "tools/x.py").read_text() == script, out
    assert (repo / ".github/workflows/ci.yml").read_text() == workflow, out


def test_masks_show_no_character_of_a_name_based_secret(tmp_path: Path) -> None:
    """#13.8: a name-based password is masked without its first characters or its length (a
    known format keeps its short prefix only); credentials in URLs and in Python comments are
    found (reported, masked).  Failed before: `Rgna…(40 chars)`; URLs and comments not found."""
    password, url = _value("password", "8"), _value("url", "8")
    token = _value("pat", "8")
    workflow = ("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env:\n"
                f"      DB_PASSWORD: {password}\n      REMOTE: https://{url}@git.example.com/r\n"
                "    steps:\n      - run: python tools/x.py\n")
    script = f"import os\n\n# old token: {token}\nprint(1)\n"
    repo = _repo(tmp_path / "repo", workflow, {"tools/x.py": script})
    out = cli("apply", "--dry-run", "--unsafe-fixes", str(repo))
    assert "  DB_PASSWORD: …(masked)\n" in out and "chars)" not in out
    assert "https://…(masked)@git.example.com/r" in out
    text = cli("check", str(repo))
    assert "tools/x.py:3: [secrets] plaintext GitHub personal access token (classic) in a " \
           "comment: not replaced" in text
    assert "credentials in a URL" in text
    assert leaks(out + text, all_pieces([Cred("password", "", password, "A", password),
                                          Cred("url", "", url, "B", url),
                                          Cred("pat", "", token, "C", token)])) == []
