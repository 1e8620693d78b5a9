import * as core from '@actions/core'
import * as github from '@actions/github'

async function run(): Promise<void> {
  const token = core.getInput('token')
  const octokit = github.getOctokit(token)
  const {owner, repo} = github.context.repo
  const issue_number = github.context.issue.number
  await octokit.rest.issues.addLabels({owner, repo, issue_number, labels: ['triage']})
  const files = await octokit.paginate(octokit.rest.pulls.listFiles, {owner, repo, pull_number: issue_number})
  core.info(`${files.length} files`) // octokit.rest.issues.lock( in a comment is no call
}

run()
