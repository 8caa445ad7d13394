import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { glob } from 'tinyglobby';
import { loadAll } from '../../runner/project.ts';

/**
 * The docs show commands people copy: every `runbook show|run <id> --set NAME=…`
 * in the README and on the site must name a runbook that exists and params it declares.
 */
const root = process.cwd();
const procedures = new Map(loadAll(root).flatMap((p) => (p.runbook ? [[p.runbook.id, p.runbook] as const] : [])));
const COMMAND = /runbook (?:show|run) ([a-z0-9-]+)(?![\w/.])((?:\s+--set\s+[A-Za-z_][A-Za-z0-9_]*=\S*)*)/g;

describe('runbook commands shown in the docs', async () => {
  // The format reference's examples are made-up pages, shown as such.
  const files = [
    'README.md',
    ...(await glob('src/content/docs/**/*.mdx', { cwd: root, ignore: ['**/reference/runbook-format.mdx'] })),
  ].sort();
  const uses = files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(COMMAND)].map((m) => ({
      file,
      id: m[1]!,
      sets: [...m[2]!.matchAll(/--set\s+(\w+)=/g)].map((s) => s[1]!),
    })),
  );

  it('finds the examples it checks', () => {
    expect(uses.filter((u) => u.file === 'README.md').length).toBeGreaterThan(2);
  });

  for (const use of uses) {
    it(`${use.file}: runbook ${use.id} ${use.sets.map((s) => `--set ${s}`).join(' ')}`, () => {
      const rb = procedures.get(use.id);
      expect(rb, `${use.file} names runbook "${use.id}", which does not exist`).toBeDefined();
      for (const name of use.sets)
        expect(Object.keys(rb!.params), `${use.file}: ${use.id} has no param ${name}`).toContain(name);
    });
  }
});
