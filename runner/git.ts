import { spawnSync } from 'node:child_process';
import { RUNS_DIR } from './record/store.ts';

export interface GitState {
  commit: string | null;
  dirty: boolean;
}

/**
 * The commit a run's procedure came from, and whether the working tree differed
 * from it. Run records are left out of the dirty check: they are written by runs
 * and would otherwise make every later run look dirty.
 */
export function gitState(root: string): GitState {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git('rev-parse', '--verify', '--quiet', 'HEAD');
  if (head.status !== 0) return { commit: null, dirty: false };
  const status = git('status', '--porcelain', '--', '.', `:(exclude)${RUNS_DIR}`);
  return { commit: head.stdout.trim(), dirty: status.status === 0 && status.stdout.trim() !== '' };
}
