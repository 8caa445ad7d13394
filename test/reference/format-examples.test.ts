import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkMdx from 'remark-mdx';
import remarkFrontmatter from 'remark-frontmatter';
import type { Code, Root } from 'mdast';
import { visit } from 'unist-util-visit';
import { checkFiles } from '../../runner/check/check.ts';
import { loadInventory } from '../../runner/inventory/load.ts';
import { ATTRIBUTE_NAMES } from '../../runner/format/attributes.ts';
import { RULES } from '../../runner/format/rule-ids.ts';

/**
 * The format reference is documentation by example: every ```md/```mdx example
 * on it is checked against the example inventory. Examples titled
 * "rejected: <rule>" must fail with that rule; all others must be clean.
 */
const PAGE = 'src/content/docs/reference/runbook-format.mdx';
const source = readFileSync(PAGE, 'utf8');
const tree = unified().use(remarkParse).use(remarkFrontmatter).use(remarkMdx).parse(source) as Root;
const examples: Array<{ title: string; code: string; line: number }> = [];
visit(tree, 'code', (node: Code) => {
  if (node.lang !== 'md' && node.lang !== 'mdx') return;
  const title = /title="([^"]*)"/.exec(node.meta ?? '')?.[1] ?? `line ${node.position?.start.line}`;
  examples.push({ title, code: node.value, line: node.position?.start.line ?? 0 });
});

const dir = mkdtempSync(join(tmpdir(), 'format-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inventory = loadInventory('src/content/lab/inventory.yaml').inventory;

describe(`examples on ${PAGE}`, () => {
  it('has examples', () => expect(examples.length).toBeGreaterThan(10));

  examples.forEach((ex, i) => {
    it(`${ex.title} (line ${ex.line})`, async () => {
      const page = ex.code.startsWith('---\n') ? ex.code : `---\ntitle: Example\n---\n\n${ex.code}\n`;
      const file = join(dir, `example-${i}.mdx`);
      writeFileSync(file, page);
      const { diagnostics, steps } = await checkFiles('/', [file], inventory);
      const rejected = /^rejected: ([\w-]+)/.exec(ex.title);
      if (rejected) {
        expect(diagnostics.map((d) => d.rule)).toContain(rejected[1]);
      } else {
        expect(diagnostics).toEqual([]);
        expect(steps).toBeGreaterThan(0);
      }
    });
  });
});

describe('the reference documents the whole format', () => {
  it('names every step attribute', () => {
    for (const name of ATTRIBUTE_NAMES) expect(source, name).toContain(`\`${name}`);
  });

  it('lists every rule of the registry, at its severity, and no rule the registry lacks', () => {
    // Rows of the "What `runbook check` enforces" table: | `rule`[, `rule`] | severity | what |
    const documented = new Map<string, string>();
    for (const m of source.matchAll(/^\| (`[a-z-]+`(?:, `[a-z-]+`)*) \| (error|warning|error, warning) \|/gm)) {
      for (const id of m[1]!.matchAll(/`([a-z-]+)`/g)) documented.set(id[1]!, m[2]!);
    }
    expect(Object.fromEntries(documented)).toEqual(RULES);
  });
});
