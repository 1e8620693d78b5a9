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
  `%NAME%`); in Python (the engine's `ReplacePythonString`, the rest of the file byte-exact) a
  string literal becomes `os.environ["NAME"]` and each step that runs the script gets
  `env: NAME: ${{ secrets.NAME }}`.  NAME comes from the key, the action input or the token
  type; one value gets one NAME per repo; a PAT is never switched to the built-in GITHUB_TOKEN
  (its scopes differ).
- safety: a known format is a safe fix; a name-based hit is reported and replaced only with
  --unsafe-fixes.  Every fix says how to create the secret (`gh secret set NAME --repo O/R`) and
  that the old value must be rotated: it stays in git history (file:line).  Values go into
  `Fix.secrets`, so every output channel masks them, and into `Fix.creates` (for
  `--secrets-file`, the only place a value is written).

Modules, one job each: `detect` (what is a credential), `shell` (`run:` scripts), `python`
(Python string literals), `scan` (where they are; one NAME per value per repository),
`transform` (the fixes, notes and messages; registers `SecretsTransform`).
"""

from __future__ import annotations

from gha_fix.transforms.secrets.transform import ID, SecretsTransform

__all__ = ["ID", "SecretsTransform"]
