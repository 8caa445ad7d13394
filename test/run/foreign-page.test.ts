import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runbook } from '../helpers/cli.ts';

// A page from outside src/content must never write into (or be seen by) a project page's history.
const tmp = mkdtempSync(join(tmpdir(), 'foreign-page-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROJECT_PAGE = 'cluster-backup'; // a project runbook (src/content/docs/runbooks/cluster-backup.mdx)
const STEP = '```bash step=say-hi\necho hi\n```\n';

function page(name: string, frontmatter: string): string {
  const dir = mkdtempSync(join(tmp, 'page-'));
  const file = join(dir, name);
  writeFileSync(file, `---\ntitle: Foreign\nrunbook:\n  risk: low\n${frontmatter}---\n\n# Foreign\n\n${STEP}`);
  return file;
}

const projectRuns = () => {
  const dir = join('src/content/runs', PROJECT_PAGE);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

describe('a page from outside the content folders', () => {
  const before = projectRuns();

  it('is refused when its file-name id equals a project page id, and nothing is written', () => {
    const file = page(`${PROJECT_PAGE}.md`, '');
    const records = join(tmp, 'rec-collide');
    const r = runbook(['run', file, '--yes', '--records', records]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain(`src/content/docs/runbooks/${PROJECT_PAGE}.mdx`);
    expect(r.stderr).toMatch(/runbook\.id.*or rename the file/);
    expect(existsSync(records)).toBe(false);
    expect(projectRuns()).toEqual(before);
  });

  it('is refused with an explicit runbook.id that is the same colliding name', () => {
    const r = runbook([
      'run',
      page(`${PROJECT_PAGE}.md`, `  id: ${PROJECT_PAGE}\n`),
      '--yes',
      '--records',
      join(tmp, 'rec-same'),
    ]);
    expect(r.code).toBe(2);
    expect(existsSync(join(tmp, 'rec-same'))).toBe(false);
  });

  it('runs under its frontmatter id, its record in the --records folder only', () => {
    const records = join(tmp, 'rec-id');
    const r = runbook(['run', page(`${PROJECT_PAGE}.md`, '  id: my-own-backup\n'), '--yes', '--records', records]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(records)).toEqual(['my-own-backup']);
    expect(readdirSync(join(records, 'my-own-backup'))).toHaveLength(1);
    expect(projectRuns()).toEqual(before);
  });

  it('without --records is refused before anything is written (its runs are not project history)', () => {
    const state = join(tmp, 'state');
    const r = runbook(['run', page('unrelated-name.md', ''), '--yes'], { env: { XDG_STATE_HOME: state } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--records');
    expect(existsSync(state)).toBe(false);
    expect(existsSync('src/content/runs/unrelated-name')).toBe(false);
  });

  it('with a non-colliding file name runs under that name with --records', () => {
    const records = join(tmp, 'rec-free');
    const r = runbook(['run', page('unrelated-name.md', ''), '--yes', '--records', records]);
    expect(r.code).toBe(0);
    expect(readdirSync(records)).toEqual(['unrelated-name']);
  });

  it('refuses the colliding id in a dry run too', () => {
    const r = runbook(['run', page(`${PROJECT_PAGE}.md`, ''), '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(PROJECT_PAGE);
  });

  it('leaves show and history of the project page unchanged', () => {
    const records = join(tmp, 'rec-show');
    mkdirSync(records);
    runbook(['run', page('other.md', `  id: ${PROJECT_PAGE}-copy\n`), '--yes', '--records', records]);
    const show = runbook(['show', PROJECT_PAGE]);
    expect(show.code).toBe(0);
    expect(show.stdout + show.stderr).not.toContain(tmp);
    const history = runbook(['history', PROJECT_PAGE, '--json']);
    expect(history.stdout).not.toContain(tmp);
    expect(projectRuns()).toEqual(before);
  });
});
