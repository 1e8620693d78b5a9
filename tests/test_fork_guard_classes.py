"""fork-guard never silences CI (issue #12 §3): one test per class of mistake.

1. a job other jobs `need` is guarded as a whole only as an unsafe fix, whose message names the
   jobs skipped with it and the dependants that still run (`if: always()`); its steps are guarded
   instead when that is sound;
2. `environment:` is evaluated per event: an expression empty on pull requests is no deployment;
3. secrets that an action or tool works without (data: `optional_secrets`) guard nothing;
4. a pull_request_target job that never puts the pull request's code in its work tree (a
   `git fetch` of the pull ref, `git diff`, API calls) is never guarded off;
5. an opaque step whose env carries a secret named after the tool it runs is guarded (unsafe).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note, Safety
from gha_fix.codemod.repo import RepoContext
from gha_fix.transforms.fork_guard.checkout import head_checkout
from gha_fix.transforms.fork_guard.context import environment_on
from gha_fix.transforms.fork_guard.tools import tool_words
from gha_fix.transforms.fork_guard.transform import ForkGuard


def findings(text: str, tmp_path: Path) -> list[Fix | Note]:
    doc = Document.from_text(".github/workflows/ci.yml", text)
    return list(ForkGuard().run(doc, RepoContext(root=tmp_path)))


def fixes(found: list[Fix | Note]) -> dict[tuple, Fix]:
    return {f.path: f for f in found if isinstance(f, Fix)}


def notes(found: list[Fix | Note]) -> list[str]:
    return [f.message for f in found if isinstance(f, Note)]


# --- 1. jobs that other jobs need ----------------------------------------------------------------
PIPELINE = """\
on: [push, pull_request]
jobs:
  install:
    runs-on: ubuntu-latest
    env:
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
  build:
    needs: install
    runs-on: ubuntu-latest
    steps:
      - run: npm run build
  test:
    needs: [build]
    runs-on: ubuntu-latest
    steps:
      - run: npm test
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: npm run lint
  required:
    if: ${{ always() }}
    needs: [test, lint]
    runs-on: ubuntu-latest
    steps:
      - run: echo done
"""


def test_a_job_others_need_is_guarded_as_a_whole_only_as_an_unsafe_fix(tmp_path: Path) -> None:
    found = fixes(findings(PIPELINE, tmp_path))
    assert set(found) == {("jobs", "install")}
    fix = found[("jobs", "install")]
    assert fix.safety is Safety.UNSAFE
    assert "'build', 'test'" in fix.message  # skipped with it, transitively
    assert "'lint'" not in fix.message  # does not need it
    assert "'required'" in fix.message and "always()" in fix.message


def test_a_dependant_that_is_skipped_itself_is_not_said_to_run(tmp_path: Path) -> None:
    text = PIPELINE.replace("if: ${{ always() }}", "if: success()")
    fix = fixes(findings(text, tmp_path))[("jobs", "install")]
    assert fix.safety is Safety.UNSAFE
    assert "'required'" in fix.message  # skipped too: success() is false after a skip
    assert "still run" not in fix.message


def test_a_job_nobody_needs_keeps_its_safe_job_guard(tmp_path: Path) -> None:
    text = PIPELINE.replace("    needs: install\n", "")
    fix = fixes(findings(text, tmp_path))[("jobs", "install")]
    assert fix.safety is Safety.SAFE


STEPS_NEEDED = """\
on: [push, pull_request]
jobs:
  prepare:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Fetch fixtures
        run: ./fetch-fixtures.sh "$FIXTURES_KEY"
        env:
          FIXTURES_KEY: ${{ secrets.FIXTURES_KEY }}
  test:
    needs: prepare
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""


def test_a_job_others_need_gets_step_guards_when_that_is_sound(tmp_path: Path) -> None:
    found = fixes(findings(STEPS_NEEDED, tmp_path))
    assert set(found) == {("jobs", "prepare", "steps", 1)}
    fix = found[("jobs", "prepare", "steps", 1)]
    assert fix.safety is Safety.SAFE
    assert "'test'" in fix.message  # says why not the job


def test_step_guards_are_not_sound_when_a_dependant_reads_the_guarded_step(tmp_path: Path
                                                                           ) -> None:
    text = STEPS_NEEDED.replace(
        "      - name: Fetch fixtures\n",
        "      - name: Fetch fixtures\n        id: fixtures\n").replace(
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n",
        "    runs-on: ubuntu-latest\n    outputs:\n      dir: ${{ steps.fixtures.outputs.dir }}\n"
        "    steps:\n      - uses: actions/checkout@v4\n", 1)
    found = fixes(findings(text, tmp_path))
    assert set(found) == {("jobs", "prepare")}
    assert found[("jobs", "prepare")].safety is Safety.UNSAFE


# --- 2. environment per event ------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("production", True),
    ("${{ github.event_name == 'push' && 'main' || '' }}", False),
    ("${{ github.event_name == 'pull_request' && 'preview' || '' }}", True),
    ({"name": "${{ github.event_name == 'push' && 'main' || null }}"}, False),
    ({"name": "docs", "url": "https://example.org"}, True),
    ("${{ inputs.environment }}", True),  # not known: a deployment
    ("", False),
])
def test_environment_on_fork_pull_requests(value: object, expected: bool) -> None:
    assert environment_on(value, ["pull_request"]) is expected


ENV_EXPRESSION = """\
on:
  push:
    branches: [main]
  pull_request:
jobs:
  install:
    runs-on: ubuntu-latest
    environment: ${{ github.event_name == 'push' && 'main' || '' }}
    env:
      NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX_CLOUD_ACCESS_TOKEN }}
    steps:
      - uses: actions/checkout@v4
      - run: yarn install
"""


def test_an_environment_empty_on_pull_requests_is_no_deployment(tmp_path: Path) -> None:
    found = findings(ENV_EXPRESSION, tmp_path)
    assert fixes(found) == {}
    assert notes(found) == []  # and the Nx Cloud token is optional


def test_a_named_environment_still_deploys(tmp_path: Path) -> None:
    text = ENV_EXPRESSION.replace(
        "${{ github.event_name == 'push' && 'main' || '' }}", "main").replace(
        "NX_CLOUD_ACCESS_TOKEN: ${{ secrets.NX_CLOUD_ACCESS_TOKEN }}",
        "DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}")
    found = fixes(findings(text, tmp_path))
    assert "deploys to an environment" in found[("jobs", "install")].message


# --- 3. optional secrets -----------------------------------------------------------------------
OPTIONAL = """\
on: [push, pull_request]
env:
  TURBO_TOKEN: ${{ secrets.TURBO_TOKEN }}
  TURBO_TEAM: ${{ vars.TURBO_TEAM }}
jobs:
  bench:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: CodSpeedHQ/action@v3
        with:
          token: ${{ secrets.CODSPEED_TOKEN }}
          run: pytest --codspeed
  oidc-bench:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: CodSpeedHQ/action@v3
        with:
          run: cargo codspeed run
  build:
    runs-on: ubuntu-latest
    steps:
      - run: npx turbo run build --token="$TURBO_TOKEN"
      - uses: codecov/codecov-action@v5
        with:
          token: ${{ secrets.CODECOV_TOKEN }}
"""


def test_optional_secrets_guard_nothing(tmp_path: Path) -> None:
    found = findings(OPTIONAL, tmp_path)
    assert fixes(found) == {}
    assert notes(found) == []


def test_other_secrets_of_a_tolerant_action_still_count(tmp_path: Path) -> None:
    text = OPTIONAL.replace("          run: pytest --codspeed\n",
                            "          run: pytest --codspeed\n"
                            "          upload-url: ${{ secrets.PRIVATE_CODSPEED_URL }}\n")
    found = fixes(findings(text, tmp_path))
    assert set(found) == {("jobs", "bench")}
    assert "PRIVATE_CODSPEED_URL" in found[("jobs", "bench")].message
    assert "CODSPEED_TOKEN" not in found[("jobs", "bench")].message


# --- 4. pull_request_target jobs that only do API work -----------------------------------------
FETCH_AND_LABEL = """\
on: pull_request_target
jobs:
  label:
    permissions:
      contents: read
      pull-requests: write
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: git fetch origin refs/pull/${{ github.event.number }}/merge:pr-merge
      - run: |
          if [ -n "$(git diff origin/main..pr-merge -- schema/)" ]; then
            curl -s -X POST -H "Authorization: token ${{ github.token }}" \\
              "$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/issues/${{ github.event.number }}/labels" \\
              -d '{"labels":["schema"]}'
          fi
"""


def test_a_target_job_that_fetches_and_labels_is_not_guarded(tmp_path: Path) -> None:
    assert findings(FETCH_AND_LABEL, tmp_path) == []


def test_a_target_job_that_checks_the_fetched_code_out_and_builds_is(tmp_path: Path) -> None:
    text = FETCH_AND_LABEL.replace(":pr-merge\n", ":pr-merge\n      - run: git checkout pr-merge"
                                   " && make\n", 1)
    found = fixes(findings(text, tmp_path))
    assert found[("jobs", "label")].safety is Safety.UNSAFE


@pytest.mark.parametrize(("steps", "expected"), [
    ([{"run": "git fetch origin pull/7/head:pr"}, {"run": "git diff main..pr | wc -l"}], None),
    ([{"run": "git fetch origin pull/7/head:pr"}, {"run": "git checkout pr"},
      {"run": "npm test"}], (1, True)),
    ([{"run": "git fetch origin pull/7/head:pr && git switch pr && make"}], (0, True)),
    ([{"run": "git fetch origin pull/7/head:pr"}, {"run": "git worktree add ../pr pr"}],
     (1, False)),
    ([{"uses": "actions/checkout@v4",
       "with": {"ref": "${{ github.event.pull_request.head.sha }}"}},
      {"run": "curl -s -X POST https://api.github.com/x | jq .id"}], (0, False)),
])
def test_a_fetch_is_not_a_checkout(steps: list, expected: tuple | None) -> None:
    assert head_checkout(steps) == expected


# --- 5. secrets named after the tool an opaque step runs ---------------------------------------
TOOL_SECRETS = """\
on: [push, pull_request]
jobs:
  e2e:
    runs-on: ubuntu-latest
    env:
      SAUCE_USERNAME: ${{ secrets.SAUCE_USERNAME }}
      SAUCE_ACCESS_KEY: ${{ secrets.SAUCE_ACCESS_KEY }}
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
      - run: npm test
      - name: Cross-browser
        run: npm run e2e:sauce
      - name: On a device cloud
        run: npx browserstack-node-sdk playwright test
        env:
          BROWSERSTACK_ACCESS_KEY: ${{ secrets.BROWSERSTACK_ACCESS_KEY }}
"""


def test_an_opaque_step_with_a_secret_named_after_its_tool_is_guarded(tmp_path: Path) -> None:
    found = fixes(findings(TOOL_SECRETS, tmp_path))
    assert set(found) == {("jobs", "e2e", "steps", 3), ("jobs", "e2e", "steps", 4)}
    sauce = found[("jobs", "e2e", "steps", 3)]
    assert sauce.safety is Safety.UNSAFE
    assert "'sauce'" in sauce.message and "SAUCE_ACCESS_KEY" in sauce.message
    assert found[("jobs", "e2e", "steps", 4)].safety is Safety.UNSAFE


def test_a_secret_unrelated_to_the_tool_is_only_reported(tmp_path: Path) -> None:
    text = TOOL_SECRETS.replace("npm run e2e:sauce", "npm run e2e").replace(
        "npx browserstack-node-sdk playwright test", "npx playwright test")
    found = findings(text, tmp_path)
    assert fixes(found) == {}
    assert any("perhaps optional" in n or "may be optional" in n for n in notes(found))


@pytest.mark.parametrize(("name", "expected"), [
    ("SAUCE_ACCESS_KEY", {"sauce"}),
    ("BROWSERSTACK_USERNAME", {"browserstack"}),
    ("CYPRESS_RECORD_KEY", {"cypress", "record"}),
    ("API_KEY", set()),
    ("GH_TOKEN", set()),
])
def test_tool_words(name: str, expected: set[str]) -> None:
    assert tool_words(name) == expected


def test_only_the_variable_a_tool_reads_names_it(tmp_path: Path) -> None:
    """`GITLAB_TOKEN` from `secrets.E2E_TEST_GITLAB_TOKEN` is for gitlab, not for `make test`."""
    text = TOOL_SECRETS.replace(
        "SAUCE_ACCESS_KEY: ${{ secrets.SAUCE_ACCESS_KEY }}",
        "GITLAB_TOKEN: ${{ secrets.E2E_TEST_GITLAB_TOKEN }}").replace(
        "SAUCE_USERNAME: ${{ secrets.SAUCE_USERNAME }}", "CI: 'true'").replace(
        "npm run e2e:sauce", "make test-e2e")
    found = fixes(findings(text, tmp_path))
    assert set(found) == {("jobs", "e2e", "steps", 4)}  # the browserstack step only


@pytest.mark.parametrize(("condition", "said"), [
    ("${{ always() }}", "'required' (`if: ${{ always() }}`) would still run"),
    ("always() && needs.test.result == 'skipped'", "'required' (`if: always() && needs.test."
                                                  "result == 'skipped'`) would still run"),
    ("always() && github.ref_name == 'main'", "may still run"),  # not known
    ("needs.test.result == 'success' && always()", None),  # false after a skip: skipped too
])
def test_what_a_dependant_does_after_a_skip(condition: str, said: str | None,
                                            tmp_path: Path) -> None:
    text = PIPELINE.replace("if: ${{ always() }}", f"if: {condition}")
    message = fixes(findings(text, tmp_path))[("jobs", "install")].message
    if said is None:
        assert "still run" not in message and "'test', 'required'" in message
    else:
        assert said in message


@pytest.mark.parametrize(("run", "found"), [
    ("python -m pytest -x tests", "python -m pytest"),
    ("npm ci\nnpm run test:unit -- --ci", "npm run test:unit"),
    ("./node_modules/.bin/jest --ci", "jest"),
    ("cd sub && go test ./...", "go test"),
    ("make check-all", "make check-all"),
    ("pip install pytest", None),  # installing a test runner runs no test
    ("npm run build", None),
    ("./deploy.sh test", None),
])
def test_the_test_commands_a_step_runs(run: str, found: str | None) -> None:
    from gha_fix.transforms.fork_guard.tools import test_command

    assert test_command({"run": run}) == found
