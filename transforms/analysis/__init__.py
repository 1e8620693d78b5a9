"""What each job's steps need from the GITHUB_TOKEN: one analysis, shared by transforms.

`analyse_workflow(doc, repo)` is computed once per workflow text and cached on the repo
context; `permissions` turns it into `permissions:` blocks, `fork-guard` uses it to find the
steps that cannot work on a fork pull request.

Where needs come from (all knowledge is data in `transforms/data/`, read by
`transforms/knowledge_files.py`):
- actions (`uses: owner/repo[/path]@ref`): `actions.yml`, plus the repo's own entries
  (`actions.py`); actions it lacks, from their own metadata (`action_metadata.py`);
- `run:` scripts (`scripts.py`, read with `transforms/lib/shell.py`): `gh` commands
  (`gh_commands.yml`), `gh api` / curl to api.github.com (`rest_endpoints.yml`, `rest.py`),
  git push, docker push to ghcr.io, ... (`run_commands.yml`);
- `actions/github-script`: octokit calls in the script (`rest_endpoints.yml`);
- local composite actions and local reusable workflows, recursively.
A command only counts when the token it uses is the GITHUB_TOKEN (`tokens.py`): a PAT needs
nothing from it.  Whatever cannot be understood makes the step *unknown*, with the reason.

The modules: `needs` (what is needed, and why), `knowledge` (what gha-fix knows), `tokens`
(where the token and secrets are), `actions`, `scripts`, `rest`, `action_metadata`, and
`workflow` (the walk over jobs and steps).
"""

from gha_fix.transforms.analysis.actions import action_key
from gha_fix.transforms.analysis.knowledge import (
    Knowledge,
    builtin_knowledge,
    knowledge_for,
    repo_knowledge,
)
from gha_fix.transforms.analysis.needs import (
    LEVELS,
    SCOPES,
    InputCondition,
    JobNeeds,
    Need,
    StepNeeds,
    needs_from,
)
from gha_fix.transforms.analysis.rest import octokit_needs, rest_needs
from gha_fix.transforms.analysis.tokens import Scope, secret_names, string_values
from gha_fix.transforms.analysis.workflow import Analyser, analyse_workflow

__all__ = [
    "LEVELS", "SCOPES", "Analyser", "InputCondition", "JobNeeds", "Knowledge", "Need", "Scope",
    "StepNeeds", "action_key", "analyse_workflow", "builtin_knowledge", "knowledge_for",
    "needs_from", "octokit_needs", "repo_knowledge", "rest_needs", "secret_names",
    "string_values",
]
