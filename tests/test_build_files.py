"""Build files a `run:` command names (build_files.py), and the analysis following them:
package.json scripts, Makefile rules, justfile recipes, Taskfile tasks; loops, depth, missing
files and targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from gha_fix.codemod.document import Document
from gha_fix.codemod.repo import RepoContext
from gha_fix.transforms.analysis import analyse_workflow
from gha_fix.transforms.analysis.build_files import (
    just_recipes,
    only_runs_recipes,
    recipes,
    task_table,
)
from gha_fix.transforms.analysis.makefiles import make_rules, recipe_text

CHECKOUT = "      - uses: actions/checkout@v4\n"


def write(root: Path, files: dict[str, str]) -> RepoContext:
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    return RepoContext(root)


def analyse(root: Path, run: str, files: dict[str, str], *, checkout: bool = True,
            extra: str = "") -> tuple[dict[str, str] | None, list[str]]:
    """(scopes or None when not understood, reasons) of a one-job workflow running `run`."""
    repo = write(root, files)
    block = "".join(f"          {line}\n" for line in run.splitlines())
    text = (f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
            f"{CHECKOUT if checkout else ''}      - run: |\n{block}{extra}")
    needs = analyse_workflow(Document.from_text("w.yml", text), repo)["j"]
    return (needs.scopes() if needs.understood else None), needs.reasons()


def names(found: list | None) -> list[tuple[str, str | None]]:
    return [(r.name, r.text) for r in found or []]


# --- reading the files ----------------------------------------------------------------------
def test_npm_scripts_with_pre_and_post(tmp_path: Path) -> None:
    repo = write(tmp_path, {"package.json": '{"scripts": {"prebuild": "rm -rf dist",'
                            ' "build": "tsc", "postbuild": "cp a b", "test": "jest"}}'})
    assert names(recipes(["npm", "run", "build"], "", repo)) == [
        ("npm run prebuild", "rm -rf dist"), ("npm run build", "tsc"),
        ("npm run postbuild", "cp a b")]
    assert names(recipes(["npm", "test"], "", repo)) == [("npm run test", "jest")]
    assert names(recipes(["yarn", "build"], "", repo))[1] == ("yarn run build", "tsc")
    assert recipes(["npm", "audit"], "", repo) is None  # not a build-file command
    assert recipes(["npm", "ci"], "", repo) == []  # no install lifecycle script
    missing = recipes(["npm", "run", "lint"], "", repo)
    assert missing is not None and missing[0].text is None
    assert missing[0].why == "no script lint in package.json"


def test_yarn_runs_a_package_binary_when_no_script_has_its_name(tmp_path: Path) -> None:
    repo = write(tmp_path, {"package.json": '{"scripts": {}}'})
    assert names(recipes(["yarn", "eslint", "--fix", "src"], "", repo)) == [
        ("yarn eslint", "eslint --fix src")]


def test_npm_prefix_and_workspaces(tmp_path: Path) -> None:
    repo = write(tmp_path, {"web/package.json": '{"scripts": {"build": "vite build"}}'})
    found = recipes(["npm", "--prefix", "web", "run", "build"], "", repo)
    assert [(r.text, r.cwd) for r in found or []] == [("vite build", "web")]
    assert names(recipes(["npm", "run", "build"], "web", repo)) == [("npm run build",
                                                                       "vite build")]
    found = recipes(["pnpm", "-r", "build"], "", repo)
    assert found is not None and "workspace packages" in found[0].why
    assert recipes(["npm", "run", "build"], None, repo)[0].text is None  # cd $X: not known


def test_makefile_default_goal_prerequisites_and_variables() -> None:
    makefile = make_rules(
        "CC ?= gcc\nQ = $(if $(V),,@)\n.PHONY: all\nall: lib app\n\n"
        "lib: lib.o\n\t$(Q)$(AR) rcs $@ $^\napp: main.c | lib\n\t$(CC) -o $@ $<\n"
        "\t-$(MAKE) -C docs html\n\techo $$HOME $(shell git rev-parse HEAD) $(UNKNOWN)\n")
    assert makefile.default == "all"
    assert makefile.rules["all"][0] == ["lib", "app"]
    deps, body = makefile.rules["app"]
    text = recipe_text(makefile, "app", deps, body, "src")
    assert text.splitlines() == [
        "cd $GITHUB_WORKSPACE/src", "gcc -o app main.c",
        "cd $GITHUB_WORKSPACE/src", "make -C docs html",
        "cd $GITHUB_WORKSPACE/src",
        "echo $HOME $(git rev-parse HEAD) ${MAKE_VALUE}",
    ]
    deps, body = makefile.rules["lib"]
    assert recipe_text(makefile, "lib", deps, body).splitlines()[1] == "ar rcs lib lib.o"


def test_make_targets_missing_files_and_generated_makefiles(tmp_path: Path) -> None:
    repo = write(tmp_path, {"Makefile": "test: build\n\tgo test ./...\nbuild:\n\tgo build\n",
                            "native/CMakeLists.txt": "project(x)\n"})
    assert names(recipes(["make", "test"], "", repo)) == [
        ("make build", "cd $GITHUB_WORKSPACE/\ngo build"),
        ("make test", "cd $GITHUB_WORKSPACE/\ngo test ./...")]
    missing = recipes(["make", "lint"], "", repo)
    assert missing is not None and missing[0].why == "no rule for lint in Makefile"
    absent = recipes(["make", "-C", "docs", "html"], "", repo)
    assert absent is not None and absent[0].why == "docs/Makefile is not in the repository"
    # a build folder of cmake: its Makefile is written by cmake, from the repository's
    assert recipes(["make", "-C", "native/build"], "", repo) == []
    assert recipes(["make", "V=1", "test"], "", repo)[-1].key == "Makefile:test V=1"


def test_justfile_and_taskfile() -> None:
    table, first = just_recipes(
        "set shell := [\"bash\", \"-c\"]\n# build it\nbuild: fmt\n    cargo build\n"
        "fmt:\n    @cargo fmt --check\n\nrelease version: (bump version)\n"
        "    cargo release {{version}} -x\nbump v:\n    echo {{v}}\n")
    assert first == "build"
    assert table["build"] == (["fmt"], ["cargo build"])
    assert table["fmt"][1] == ["cargo fmt --check"]
    assert table["release"][0] == ["bump"]
    data = {"version": "3", "tasks": {
        "default": {"deps": ["lint"], "cmds": ["go build ./...", {"task": "test"}]},
        "lint": "golangci-lint run",
        "test": {"cmds": [{"cmd": "go test ./..."}, {"defer": "rm -f cover.out"}]},
    }}
    assert task_table(data) == {
        "default": (["lint", "test"], ["go build ./..."]),
        "lint": ([], ["golangci-lint run"]),
        "test": ([], ["go test ./...", "rm -f cover.out"]),
    }


def test_only_runs_recipes() -> None:
    assert only_runs_recipes(["make", "-j4", "test"])
    assert only_runs_recipes(["npm", "run", "build"])
    assert only_runs_recipes(["yarn", "lint"])
    assert not only_runs_recipes(["npm", "ci"])
    assert not only_runs_recipes(["npm", "publish"])
    assert not only_runs_recipes(["pnpm", "install"])


# --- the analysis following them ------------------------------------------------------------
def test_recipes_are_analysed_like_run_scripts(tmp_path: Path) -> None:
    files = {"Makefile": "release: dist\n\tgh release create $(TAG) dist/*\n"
                         "dist:\n\ttar czf dist/app.tgz bin\n",
             "package.json": '{"scripts": {"docs": "mkdocs gh-deploy"}}'}
    env = "        env:\n          GH_TOKEN: ${{ github.token }}\n"
    scopes, _ = analyse(tmp_path, "make release TAG=v1", files, extra=env)
    assert scopes == {"contents": "write"}
    scopes, _ = analyse(tmp_path, "npm run docs", files)
    assert scopes == {"contents": "write"}


def test_a_make_loop_is_unknown_not_a_hang(tmp_path: Path) -> None:
    files = {"Makefile": "a:\n\t$(MAKE) b\nb:\n\t$(MAKE) a\n"}
    scopes, reasons = analyse(tmp_path, "make a", files)
    assert scopes is None
    assert any("runs itself or nests too deep" in r for r in reasons)
    files = {"Makefile": "all: all\n\techo loop\n"}  # a rule that is its own prerequisite
    assert analyse(tmp_path, "make", files)[0] == {"contents": "read"}


def test_nesting_deeper_than_the_limit_is_unknown(tmp_path: Path) -> None:
    chain = {f"l{i}/Makefile": f"all:\n\t$(MAKE) -C ../l{i + 1}\n" for i in range(8)}
    chain["l8/Makefile"] = "all:\n\techo done\n"
    scopes, reasons = analyse(tmp_path, "make -C l0", chain)
    assert scopes is None and any("nests too deep" in r for r in reasons)
    assert analyse(tmp_path, "make -C l6", chain)[0] == {"contents": "read"}


def test_npm_script_loop_is_unknown(tmp_path: Path) -> None:
    files = {"package.json": '{"scripts": {"a": "npm run b", "b": "npm run a"}}'}
    scopes, reasons = analyse(tmp_path, "npm run a", files)
    assert scopes is None and any("runs itself" in r for r in reasons)


def test_missing_target_is_unknown_only_where_a_token_reaches(tmp_path: Path) -> None:
    files = {"Makefile": "test:\n\tgo test ./...\n"}
    scopes, reasons = analyse(tmp_path, "make lint", files)
    assert scopes is None and reasons == ["make lint: no rule for lint in Makefile"]
    # no checkout credentials, no token: make may still ask for an OIDC token, nothing more
    assert analyse(tmp_path, "make lint", files, checkout=False)[0] == {}


def test_the_step_working_directory_and_cd(tmp_path: Path) -> None:
    files = {"docs/Makefile": "html:\n\tsphinx-build -b html . _build\n"
                              "deploy: html\n\tghp-import -p _build\n"}
    extra = "        working-directory: docs\n"
    assert analyse(tmp_path, "make html", files, extra=extra)[0] == {"contents": "read"}
    assert analyse(tmp_path, "make deploy", files, extra=extra)[0] == {"contents": "write"}
    assert analyse(tmp_path, "cd docs && make html", files)[0] == {"contents": "read"}
    scopes, reasons = analyse(tmp_path, "make html", files)  # no Makefile at the root
    assert scopes is None and reasons == ["make html: Makefile is not in the repository"]


@pytest.mark.parametrize("command", ["just", "just check", "task", "task check"])
def test_just_and_task_default_and_named(tmp_path: Path, command: str) -> None:
    files = {"justfile": "default: check\ncheck:\n    cargo test\n",
             "Taskfile.yml": "version: '3'\ntasks:\n  default:\n    cmds: [{task: check}]\n"
                             "  check:\n    cmds: [go vet ./..., git push]\n"}
    expected = {"contents": "write"} if command.startswith("task") else {"contents": "read"}
    assert analyse(tmp_path, command, files)[0] == expected


def test_make_options_with_and_without_values(tmp_path: Path) -> None:
    repo = write(tmp_path, {"Makefile": "all:\n\techo all\ntest:\n\techo test\n"})
    assert [r.name for r in recipes(["make", "-j", "test"], "", repo) or []] == ["make test"]
    assert [r.name for r in recipes(["make", "-j", "4", "-k"], "", repo) or []] == ["make all"]
    assert [r.name for r in recipes(["make", "-j8", "-f", "Makefile", "test"], "", repo)
            or []] == ["make test"]


def test_prerequisites_make_computes_at_run_time(tmp_path: Path) -> None:
    """`for-all: $(MODULES)` with `$(MODULES):` rules over `$(shell find ...)`: the modules'
    recipes are decided at run time; a file list of $(wildcard) is only files."""
    dynamic = ("MODULES = $(shell find . -name go.mod -exec dirname {} \\;)\n"
               "$(MODULES):\n\t$(MAKE) -C $@ $(TARGET)\n"
               "for-all: $(MODULES)\ntest:\n\t$(MAKE) for-all TARGET=test\n")
    repo = write(tmp_path, {"Makefile": dynamic})
    found = recipes(["make", "for-all"], "", repo) or []
    assert [r.text for r in found] == [None]
    assert "decided at run time" in found[0].why
    files = "app: $(wildcard src/*.c)\n\tcc -o app src/*.c\n"
    repo = write(tmp_path, {"Makefile": files})
    assert [r.name for r in recipes(["make", "app"], "", repo) or []] == ["make app"]
