// own shape: the token goes into an Authorization header of a download, not to octokit
import * as core from '@actions/core';
import * as tc from '@actions/tool-cache';

interface Release {
  files: {download_url: string}[];
}

export async function installTool(release: Release): Promise<string> {
  if (!release.files.length) {
    throw new Error('the release has no files');
  }
  const TOKEN = core.getInput('token');
  const header = TOKEN ? `token ${TOKEN}` : undefined;
  const url = release.files[0].download_url;
  core.info(`downloading ${url}`);
  const archive = await tc.downloadTool(url, undefined, header);
  return tc.extractTar(archive);
}
