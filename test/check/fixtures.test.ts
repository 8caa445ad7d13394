import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFiles } from '../../runner/check/check.ts';
import { testInventory } from '../helpers/inventory.ts';

/**
 * Every broken fixture states the diagnostic it must produce in an MDX comment:
 * {/* expect: <rule> @ <line>[:<column>] *\/}, or in a `.md` fixture an HTML comment
 * <!-- expect: <rule> @ <line>[:<column>] -->. A fixture that stops failing fails this test.
 */
const BROKEN = 'test/fixtures/check/broken';
const VALID = 'test/fixtures/check/valid';

function pages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.mdx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe('runbook check on broken fixtures', () => {
  const inventory = testInventory();
  for (const file of pages(BROKEN)) {
    it(`${file.slice(BROKEN.length + 1)} fails with a positioned diagnostic`, async () => {
      const expectation = /(?:\{\/\*|<!--) expect: ([\w-]+) @ (\d+)(?::(\d+))? (?:\*\/\}|-->)/.exec(
        readFileSync(file, 'utf8'),
      );
      expect(expectation, 'fixture must declare {/* expect: rule @ line */}').not.toBeNull();
      const [, rule, line, column] = expectation!;
      const { diagnostics } = await checkFiles(process.cwd(), [file], inventory);
      const hit = diagnostics.find((d) => d.rule === rule);
      expect(hit, `expected ${rule}; got ${JSON.stringify(diagnostics, null, 1)}`).toBeDefined();
      expect(hit!.file).toBe(file);
      expect(hit!.line).toBe(Number(line));
      if (column) expect(hit!.column).toBe(Number(column));
      expect(hit!.message.length).toBeGreaterThan(20);
    });
  }
});

describe('runbook check on valid fixtures', () => {
  for (const file of pages(VALID)) {
    it(`${file.slice(VALID.length + 1)} has no diagnostics at all`, async () => {
      const result = await checkFiles(process.cwd(), [file], testInventory());
      expect(result.diagnostics).toEqual([]);
      expect(result.steps).toBeGreaterThan(0);
    });
  }
});

describe('cross-page rules', () => {
  it('reports a runbook id used by two pages', async () => {
    const file = `${VALID}/rolling.mdx`;
    const { diagnostics } = await checkFiles(process.cwd(), [file, file], testInventory());
    expect(diagnostics.map((d) => d.rule)).toContain('duplicate-runbook-id');
  });
});
