// gitState (runner/git.ts) reads HEAD and the dirty flag from one `git status --porcelain=v2 --branch`.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitState } from '../../runner/git.ts';

const git = (dir: string, ...args: string[]) =>
  spawnSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
    encoding: 'utf8',
  });

describe('gitState', () => {
  it('no repository, no commit yet, clean, modified, untracked, and a new run record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'git-state-'));
    try {
      expect(gitState(dir)).toEqual({ commit: null, dirty: false });
      git(dir, 'init', '-q');
      writeFileSync(join(dir, 'page.mdx'), 'one\n');
      expect(gitState(dir)).toEqual({ commit: null, dirty: false });
      git(dir, 'add', 'page.mdx');
      git(dir, 'commit', '-qm', 'first');
      const head = git(dir, 'rev-parse', 'HEAD').stdout.trim();
      expect(gitState(dir)).toEqual({ commit: head, dirty: false });
      // Run records are written by runs: they never make the tree dirty.
      mkdirSync(join(dir, 'src/content/runs/x'), { recursive: true });
      writeFileSync(join(dir, 'src/content/runs/x/r.json'), '{}\n');
      expect(gitState(dir)).toEqual({ commit: head, dirty: false });
      writeFileSync(join(dir, 'new.mdx'), 'new\n');
      expect(gitState(dir)).toEqual({ commit: head, dirty: true });
      rmSync(join(dir, 'new.mdx'));
      writeFileSync(join(dir, 'page.mdx'), 'two\n');
      expect(gitState(dir)).toEqual({ commit: head, dirty: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
