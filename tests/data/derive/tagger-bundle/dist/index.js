// own shape of an ncc/webpack bundle: a toolkit OIDC wrapper, a piece of the bundled octokit
// endpoint table (whose entries and messages name methods but are no calls), the action's code
function getIDToken(audience) {
    return awaiter(this, void 0, void 0, function* () {
        return yield OidcClient.getIDToken(audience);
    });
}
const Endpoints = {
  issues: {
    addLabels: ["POST /repos/{owner}/{repo}/issues/{issue_number}/labels"],
    lock: ["PUT /repos/{owner}/{repo}/issues/{issue_number}/lock"],
  },
  teams: {
    addOrUpdateProjectPermissionsInOrg: [
      "PUT /orgs/{org}/teams/{team_slug}/projects/{project_id}",
      {},
      {
        deprecated: "octokit.rest.teams.addOrUpdateProjectPermissionsInOrg() is deprecated, see the changelog"
      }
    ],
    removeMemberInOrg: ["DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}"],
  }
};

;// CONCATENATED MODULE: ./lib/apply.js

const applyTags = async (api, number, tags) => {
    await api.rest.issues.setLabels({
        owner: context.repo.owner,
        repo: context.repo.repo,
        issue_number: number,
        labels: tags
    });
};
;// CONCATENATED MODULE: ./lib/inputs.js

const readInputs = () => ({
    secret: getInput('repo-token'),
    rules: getInput('rules', { required: true }),
    numbers: pullNumbers()
});
async function run() {
    const { secret, rules, numbers } = readInputs();
    if (!numbers.length) {
        warning('no pull request to tag');
        return;
    }
    const api = getOctokit(secret);
    for (const number of numbers) {
        await applyTags(api, number, matching(rules, number));
    }
}
