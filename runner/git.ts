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
  // One git process, not two (rev-parse, then status): --branch puts HEAD's commit in the header
  // (`# branch.oid <sha>`, or `(initial)` before the first commit); every other line is a change.
  const status = spawnSync('git', ['status', '--porcelain=v2', '--branch', '--', '.', `:(exclude)${RUNS_DIR}`], {
    cwd: root,
    encoding: 'utf8',
  });
  if (status.status !== 0) return { commit: null, dirty: false };
  const lines = status.stdout.split('\n').filter(Boolean);
  const oid = lines.find((l) => l.startsWith('# branch.oid '))?.slice('# branch.oid '.length);
  if (!oid || !/^[0-9a-f]{40,64}$/.test(oid)) return { commit: null, dirty: false };
  return { commit: oid, dirty: lines.some((l) => !l.startsWith('# ')) };
}
