// Process entry: settings from flags and ALB_PLUGIN_* variables, then the sidecar until SIGTERM/SIGINT.
// Bad settings or a failed start print one line naming the problem and exit 1.

import { helpText, parseSettings, SettingsError, type ParsedArgs } from './settings.js';
import { startSidecar } from './sidecar.js';
import { PRODUCT, versionText } from './version.js';

function fail(message: string): never {
  process.stderr.write(`${PRODUCT}: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let parsed: ParsedArgs;
  try {
    parsed = parseSettings(process.argv.slice(2));
  } catch (err) {
    if (err instanceof SettingsError) fail(err.message);
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(helpText());
    return;
  }
  if (parsed.version) {
    process.stdout.write(versionText());
    return;
  }

  let sidecar;
  try {
    sidecar = await startSidecar(parsed.settings);
  } catch (err) {
    fail(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    sidecar.close().then(
      () => process.exit(0),
      (err: unknown) => fail(`error while stopping on ${signal}: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
