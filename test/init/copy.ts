import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * A copy of the checkout as `git clone` would give it (tracked files and new ones not ignored,
 * from the working tree), so `runbook init` can change and delete things for real. Its
 * node_modules is a folder of links to the real packages: Node and Vite resolve them from the copy.
 * `under` puts the copy in a folder of its own choosing (the site build wants one inside the project).
 */
export function checkoutCopy(under?: string): { root: string; remove: () => void } {
  const source = resolve('.');
  const root = under ?? mkdtempSync(join(tmpdir(), 'runbook-init-'));
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: source,
    encoding: 'utf8',
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(source, file);
    const to = join(root, file);
    mkdirSync(dirname(to), { recursive: true });
    // A file deleted in the working tree but still in the index is not part of the checkout.
    try {
      cpSync(from, to);
    } catch {}
  }
  mkdirSync(join(root, 'node_modules'));
  for (const entry of readdirSync(join(source, 'node_modules'))) {
    if (entry !== '.cache') symlinkSync(join(source, 'node_modules', entry), join(root, 'node_modules', entry));
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
