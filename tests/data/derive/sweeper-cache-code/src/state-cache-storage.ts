// own shape: a client from the token input; list the caches, then delete one
import * as core from '@actions/core';
import {context, getOctokit} from '@actions/github';

const client = () => {
  const secret = core.getInput('repo-token');
  return getOctokit(secret);
};

export const stateExists = async (key: string): Promise<boolean> => {
  const api = client();
  let found = false;
  try {
    const listed = await api.rest.actions.getActionsCacheList({
      owner: context.repo.owner,
      repo: context.repo.repo,
      key
    });
    const entries = listed.data.actions_caches ?? [];
    found = entries.some(entry => entry.key === key);
  } catch (error) {
    core.debug(`could not list the caches: ${error}`);
  }
  return found;
};

export const dropState = async (key: string): Promise<void> => {
  const api = client();
  core.debug(`dropping ${key}`);
  try {
    await api.rest.actions.deleteActionsCacheByKey({
      owner: context.repo.owner,
      repo: context.repo.repo,
      key
    });
  } catch (error) {
    core.warning(`could not drop ${key}: ${error}`);
  }
};
