import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A copy of the project's runner (and, with `content`, its src/content) in a temp folder, with a
 * node_modules of its own whose packages link to the real ones: the bin there builds its bundle under
 * the copy's node_modules/.cache, never the real project's, and packages still resolve from it.
 */
export function projectCopy(options: { content?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'runbook-copy-'));
  cpSync(resolve('runner'), join(root, 'runner'), { recursive: true });
  cpSync(resolve('package.json'), join(root, 'package.json'));
  mkdirSync(join(root, 'src', 'content'), { recursive: true });
  if (options.content) cpSync(resolve('src/content'), join(root, 'src/content'), { recursive: true });
  mkdirSync(join(root, 'node_modules'));
  for (const entry of readdirSync(resolve('node_modules'))) {
    if (entry === '.cache') continue;
    const target = resolve('node_modules', entry);
    if (entry === '.package-lock.json') cpSync(target, join(root, 'node_modules', entry));
    else symlinkSync(target, join(root, 'node_modules', entry));
  }
  const bin = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [join(root, 'runner/bin/runbook.js'), ...args], {
      encoding: 'utf8',
      cwd: root,
      env: {
        ...process.env,
        NO_COLOR: '1',
        FORCE_COLOR: undefined,
        RUNBOOK_INVENTORY: undefined,
        npm_package_version: undefined,
        ...env,
      },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { root, bin, remove: () => rmSync(root, { recursive: true, force: true }) };
}
