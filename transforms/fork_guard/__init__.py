"""fork-guard: skip, on fork pull requests only, the jobs and steps that cannot work there.

Why: for `pull_request` (and `pull_request_review[_comment]`) runs from a fork, GitHub gives the
workflow a read-only GITHUB_TOKEN and no secrets, so a step that writes (comments, labels, pushes,
releases), asks for an OIDC token or uses a secret fails with `403 Resource not accessible by
integration` or an empty credential, and the whole check goes red for every outside contributor.
The fix adds `github.event.pull_request.head.repo.full_name == github.repository` to the `if:` of
the smallest scope that works (the steps, or the job when it depends on the credential as a
whole), leaving other events (`push`, `schedule`...) alone.  That is a safe fix: it only stops
what would fail anyway; except on a job other jobs `need`: skipping it skips them too, and a
dependant with `if: always()` (a required check) would pass with nothing run, so the steps are
guarded instead when that is sound, else the job-level guard is an unsafe fix that says which
jobs go with it (dependants.py).  An `environment:` is a deployment only for the events whose
run it names one for (an expression that is '' on pull requests is none); secrets a tool works
without (a tokenless upload, a remote-cache token: `optional_secrets`) guard nothing; an opaque
step carrying a secret named after the tool it runs (`SAUCE_ACCESS_KEY`, `npm run e2e:sauce`)
is guarded as an unsafe fix (tools.py).

`pull_request_target` is the opposite trap: secrets and a write token, so a job that checks out
the pull request's head and runs anything from it hands both to whoever opened it.  That job gets
the same-repository guard plus `persist-credentials: false` on the checkout: an unsafe fix, since
it changes what runs for fork pull requests by design.  A job that only fetches the pull
request's commits (`git fetch origin pull/N/head`), diffs them and calls the API (labelers,
commenters) runs none of its code: it is left alone, for forks are what it exists for.

Existing guards are recognised by evaluating the `if:` conditions (three-valued: true, false,
unknown) for an outsider's fork pull request and for a same-repository one: a condition that is
false for the first and not for the second is "already guarded"; false for both means the job
never runs for pull requests.

An existing `if:` becomes `existing && guard`, in its own form (`${{ x && guard }}` when it was
written `${{ x }}`), parenthesised where precedence needs it (guard.py).  Status functions keep
their meaning: GitHub adds the implicit `success() && (...)` only when no status function appears
anywhere in the expression, so `always() && guard` still runs after a failure, and a condition
without one still gets it.

Modules, one job each:
- knowledge.py: the knowledge file (transforms/data/fork_guard.yml) and action-name matching;
- context.py: the two pull requests an `if:` is evaluated for, and its verdict for them;
- needs.py: what a job or step needs that a fork pull request does not give; the scope to guard;
- tools.py: secrets named after the tool an opaque step runs;
- dependants.py: the jobs that need a job, and which of them a guard on it skips;
- checkout.py: pull_request_target jobs that check out and run the pull request's code;
- guard.py: the `if:` written;
- transform.py: the transform, its walk over the jobs and its messages.
The expressions themselves are read by transforms/lib/expressions.py.
"""

from gha_fix.transforms.fork_guard import transform  # noqa: F401  (registers the transform)
