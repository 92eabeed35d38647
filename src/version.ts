// The sidecar's name and version, from package.json (the one place a release bumps). tsc copies the imported
// package.json into dist/, so the built entry point and the TypeScript sources under test read the same
// file. Shown by `--version`, sent as the User-Agent towards AWS and Kubernetes (which also makes the
// Kubernetes field manager of the plugin's Ingress patches `rollouts-plugin-trafficrouter-alb`), and
// returned by /healthz.

import pkg from '../package.json' with { type: 'json' };

/** The product token: the repository name, also the prefix of every error line the process prints. */
export const PRODUCT = 'rollouts-plugin-trafficrouter-alb';

/** Semantic version of this build (package.json `version`). */
export const VERSION: string = pkg.version;

/**
 * `rollouts-plugin-trafficrouter-alb/<version>`. The Kubernetes API server names the field manager of a
 * request without `fieldManager` after the User-Agent up to the first `/`, so that name stays the same
 * across releases.
 */
export const USER_AGENT = `${PRODUCT}/${VERSION}`;

/** The `--version` line: name, version and the Node.js release running it. */
export function versionText(): string {
  return `${PRODUCT} ${VERSION} (node ${process.version})\n`;
}
