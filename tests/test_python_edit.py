"""The engine's Python edits (`codemod/python_edit.py`): rendering, splicing and verification.

Fake tokens are built by concatenation (see test_secrets.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gha_fix.codemod import python_edit
from gha_fix.codemod.operations import EditError
from gha_fix.codemod.python_edit import ReplacePythonString, apply_python_edits, apply_python_fixes

GHP = "ghp_" + "FAKE" * 9
NPM = "npm_" + "FAKE" * 9


def edit(line: int, column: int, value: str = GHP, name: str = "GH_PAT") -> ReplacePythonString:
    return ReplacePythonString(line, column, value, name)


@pytest.mark.parametrize(("source", "edits", "expected"), [
    # the literal is the value: a read; parentheses go with the literal
    (f'import os\nx = ( "{GHP}" )\n', [edit(2, 6)], 'import os\nx = os.environ["GH_PAT"]\n'),
    # among other text: an f-string in the other quote
    (f"import os\nx = 'token {GHP} and {NPM}'\n", [edit(2, 4), edit(2, 4, NPM, "NPM")],
     "import os\nx = f'token {os.environ[\"GH_PAT\"]} and {os.environ[\"NPM\"]}'\n"),
    # `import os` after the docstring and __future__ imports, the blank lines kept in place
    (f'"""Doc."""\nfrom __future__ import annotations\n\n# note\nX = "{GHP}"\n', [edit(5, 4)],
     '"""Doc."""\nfrom __future__ import annotations\n\n# note\nimport os\n\n'
     'X = os.environ["GH_PAT"]\n'),
    # before another import: no blank line; `import os as o` does not count; CRLF kept
    (f'import os as o\r\nX = "{GHP}"\r\n', [edit(2, 4)],
     'import os\r\nimport os as o\r\nX = os.environ["GH_PAT"]\r\n'),
    # a module docstring that is the token is no docstring any more: the import goes first
    (f'"{GHP}"\n', [edit(1, 0)], 'import os\n\nos.environ["GH_PAT"]\n'),
])
def test_rendering(source: str, edits: list[ReplacePythonString], expected: str) -> None:
    assert apply_python_edits(source, edits) == expected


@pytest.mark.parametrize(("source", "edits", "reason"), [
    (f'x = "a" "{GHP}"\n', [edit(1, 8)], "does not parse"),  # a read inside a concatenation
    (f'x = r"token {GHP}"\n', [edit(1, 4)], "not a plain string literal"),
    (f'x = "{GHP}"\n', [edit(1, 5)], "no string literal"),
    (f'x = "{GHP}"\n', [edit(1, 4, name="NOT-A-NAME")], "is not a variable name"),
    ('x = "token"\n', [edit(1, 4)], "does not hold the value"),
    (f'x = b"{GHP}"\n', [edit(1, 4)], "not a text string"),
])
def test_an_edit_that_cannot_be_rendered_fails(source: str, edits: list[ReplacePythonString],
                                               reason: str) -> None:
    with pytest.raises(EditError) as error:
        apply_python_edits(source, edits, "x.py")
    assert reason in str(error.value) and GHP not in str(error.value)


@pytest.mark.parametrize(("source", "old", "new", "reason"), [
    # a rendering that touches anything but the literal (here: a comment)
    (f'import os  # keep\nx = "{GHP}"\n', "# keep", "# kept", "changes more than the literals"),
    # an import that is not `import os`
    (f'x = "{GHP}"\n', "import os\n", "import re\n", "`import os` is not as intended"),
])
def test_verification_catches_a_change_elsewhere(monkeypatch: pytest.MonkeyPatch, source: str,
                                                 old: str, new: str, reason: str) -> None:
    splice = python_edit._splice
    monkeypatch.setattr(python_edit, "_splice", lambda *args: splice(*args).replace(old, new))
    line = source.count("\n")
    with pytest.raises(EditError, match=reason):
        apply_python_edits(source, [edit(line, 4)])


@pytest.mark.parametrize("rendered", [
    'os.environ["OTHER"]',  # reads another variable
    'os.environ["GH_PAT"] + "x"',  # more than the read
    '(os.environ["GH_PAT"])',  # not the span it should be
    'os.getenv("GH_PAT")',  # not a read of os.environ
    "f'token {os.environ[\"GH_PAT\"]}'",  # keeps text the literal did not have
])
def test_verification_catches_a_wrong_expression(monkeypatch: pytest.MonkeyPatch,
                                                 rendered: str) -> None:
    monkeypatch.setattr(python_edit, "_render", lambda *args: rendered)
    with pytest.raises(EditError, match="verification failed"):
        apply_python_edits(f'import os\nx = "{GHP}"\n', [edit(2, 4)])


def test_verification_catches_a_wrong_f_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(python_edit, "_render",
                        lambda *args: "f\"token {os.environ['GH_PAT']}!\"")
    with pytest.raises(EditError, match="verification failed"):
        apply_python_edits(f'import os\nx = "token {GHP}"\n', [edit(2, 4)])


def test_a_bad_fix_is_dropped_alone() -> None:
    source = f'x = "a" "{GHP}"\ny = "{NPM}"\n'
    new, failed = apply_python_fixes(source, [[edit(1, 8)], [edit(2, 4, NPM, "NPM")]], "x.py")
    assert list(failed) == [0] and "does not parse" in failed[0]
    assert new == f'import os\n\nx = "a" "{GHP}"\ny = os.environ["NPM"]\n'


def test_libcst_is_imported_only_for_an_edit() -> None:
    code = ("import sys\nfrom gha_fix.codemod import python_edit, runner\n"
            "python_edit.apply_python_edits('x = 1\\n', [])\n"
            "assert 'libcst' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
