import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePage, parseProcedure } from '../../runner/format/parse.ts';
import type { Diagnostic, Procedure } from '../../runner/format/model.ts';
import { assertRunnable } from '../../runner/plan/runnable.ts';
import { decodeSource, MAX_INVALID_REPORTED } from '../../runner/format/source.ts';
import { MAX_TIMER_MS, readTimerDuration } from '../../runner/format/duration.ts';
import { PLAIN_EXPECT, compileExpect, expectProblem } from '../../runner/format/expect.ts';
import { MAX_PAGE_ID_LENGTH, PAGE_ID } from '../../runner/format/page-id.ts';
import { discoverPages, loadProcedure } from '../../runner/project.ts';
import { readAndLint } from '../../runner/check/lint.ts';
import { runbook } from '../helpers/cli.ts';
import { TEST_INVENTORY_FILE, testInventory } from '../helpers/inventory.ts';

/**
 * Parsing and checking (issue 10): "Nothing is silently reinterpreted. A step fence that
 * runs to the end of the file, a frontmatter block that never closes, or a page whose
 * structure cannot be read is an error with file:line:col, and nothing runs. A page that
 * has fences but no steps says so, and so does a `.md` page holding MDX elements it
 * cannot honour." Plus: control characters, page ids, bytes that are not UTF-8, and
 * bounded durations and regexes.
 */

const tmp = mkdtempSync(join(tmpdir(), 'adversarial-parsing-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** PARSING_RUNS=N runs each property N times (a deeper search than CI's default). */
const RUNS = { numRuns: Number(process.env.PARSING_RUNS ?? 200) };
const errors = (p: Procedure) => p.diagnostics.filter((d) => d.severity === 'error');
const byRule = (p: Procedure, rule: string) => p.diagnostics.filter((d) => d.rule === rule);
const header = '---\ntitle: Adversarial\n---\n\n# Heading\n\n';
const headerLines = header.split('\n').length - 1;

/** Lines of step code that cannot be read as a fence or a container marker. */
const codeLine = fc.stringMatching(/^[a-z0-9 $"'=./_-]{0,24}$/);
const container = fc.constantFrom('none', 'list', 'quote');

/** A step fence in a container, optionally without its closing fence, and prose after it. */
const fencedStep = fc.record({
  char: fc.constantFrom('`', '~'),
  length: fc.integer({ min: 3, max: 6 }),
  extra: fc.integer({ min: 0, max: 3 }),
  indent: fc.integer({ min: 0, max: 3 }),
  closerIndent: fc.integer({ min: 0, max: 3 }),
  trailing: fc.constantFrom('', ' ', '\t', '  '),
  container,
  code: fc.array(codeLine, { minLength: 0, maxLength: 5 }),
  closed: fc.boolean(),
  crlf: fc.boolean(),
});

function stepPage(s: StepShape) {
  const prefix = s.container === 'list' ? '   ' : s.container === 'quote' ? '> ' : '';
  const lines = header.split('\n').slice(0, -1);
  if (s.container === 'list') lines.push('1. Restart the agent:');
  const fence = s.char.repeat(s.length);
  const openLine = lines.length + 1;
  lines.push(`${prefix}${' '.repeat(s.indent)}${fence}bash step=restart`);
  for (const l of s.code) lines.push(`${prefix}${l}`);
  if (s.closed) lines.push(`${prefix}${' '.repeat(s.closerIndent)}${s.char.repeat(s.length + s.extra)}${s.trailing}`);
  lines.push('', 'Then confirm with `$(touch /tmp/prose-ran)` that the node is back.', '');
  return { text: lines.join(s.crlf ? '\r\n' : '\n'), line: openLine, column: prefix.length + s.indent + 1 };
}
type StepShape = {
  char: string;
  length: number;
  extra: number;
  indent: number;
  closerIndent: number;
  trailing: string;
  container: string;
  code: string[];
  closed: boolean;
  crlf: boolean;
};

describe('a step fence that is never closed', () => {
  it('is an error at the opening fence, and the page cannot run; a closed fence (any CommonMark closing) is not', () => {
    fc.assert(
      fc.property(fencedStep, (s) => {
        const page = stepPage(s);
        const p = parseProcedure(page.text, 'page.mdx');
        const unclosed = byRule(p, 'unclosed-fence');
        if (s.closed) {
          expect(unclosed).toEqual([]);
          // CRLF line ends on a step's lines (its fence line too) are an error of their own, at the first CR.
          expect(errors(p)).toEqual(
            s.crlf
              ? [
                  expect.objectContaining({
                    rule: 'control-character',
                    line: page.line,
                    column: page.column + s.length + 'bash step=restart'.length,
                  }),
                ]
              : [],
          );
          // CommonMark removes up to the opening fence's indentation from each code line.
          const strip = new RegExp(`^ {0,${s.indent}}`);
          expect(p.steps[0]!.code).toBe(s.code.map((l) => l.replace(strip, '')).join(s.crlf ? '\r\n' : '\n'));
        } else {
          expect(unclosed).toEqual([
            expect.objectContaining({ severity: 'error', line: page.line, column: page.column }),
          ]);
          expect(unclosed[0]!.message).toMatch(/never closed/);
          expect(() => assertRunnable(p)).toThrow(/unclosed-fence/);
        }
      }),
      RUNS,
    );
  });

  it('is found when the next step closes it: the first step would run the prose and the second would not exist', () => {
    fc.assert(
      fc.property(fc.array(codeLine, { maxLength: 4 }), fc.constantFrom('', 'bash ', 'sh '), (code, lang) => {
        const text = `${header}\`\`\`bash step=drain\n${code.join('\n')}\n\nUncordon with \`$(kubectl uncordon x)\` after.\n\n\`\`\`${lang || 'bash '}step=verify check\nkubectl get nodes\n\`\`\`\n`;
        const p = parseProcedure(text, 'page.mdx');
        const hit = byRule(p, 'unclosed-fence');
        expect(hit).toEqual([expect.objectContaining({ severity: 'error', line: headerLines + 1, column: 1 })]);
        expect(hit[0]!.message).toMatch(/runs on past the fence on line \d+/);
        expect(() => assertRunnable(p)).toThrow();
      }),
      RUNS,
    );
  });

  it('an illustration that swallows a step fence is an error; one that swallows only prose is a warning naming its line', () => {
    const swallowsStep = parseProcedure(
      `${header}\`\`\`text\nexpected output\n\n\`\`\`bash step=b\necho b\n\`\`\`\n`,
      'page.mdx',
    );
    expect(byRule(swallowsStep, 'unclosed-fence')).toEqual([
      expect.objectContaining({ severity: 'error', line: headerLines + 1 }),
    ]);
    expect(swallowsStep.steps).toEqual([]);
    const swallowsProse = parseProcedure(`${header}\`\`\`text\nexpected output\n\nMore prose.\n`, 'page.mdx');
    expect(byRule(swallowsProse, 'unclosed-fence')).toEqual([
      expect.objectContaining({ severity: 'warning', line: headerLines + 1 }),
    ]);
    expect(byRule(swallowsProse, 'unclosed-fence')[0]!.message).toContain(`line ${headerLines + 4}`);
    // The documented way to show a step fence as an example: a longer outer fence.
    const example = parseProcedure(`${header}\`\`\`\`md\n\`\`\`bash step=b\necho b\n\`\`\`\n\`\`\`\`\n`, 'page.mdx');
    expect(example.diagnostics).toEqual([]);
  });

  it('nothing runs: runbook run refuses the page (exit 2), neither the step nor the prose ran; closed, the step runs', () => {
    const ran = join(tmp, 'step-ran');
    const prose = join(tmp, 'prose-ran');
    const body = `\`\`\`bash step=a\ntouch ${ran}\n\nThen check with \`$(touch ${prose})\` that it worked.\n`;
    const page = join(tmp, 'unclosed.mdx');
    writeFileSync(page, `---\ntitle: Unclosed\n---\n\n${body}`);
    const args = ['run', '--yes', '--records', join(tmp, 'runs'), '--inventory', TEST_INVENTORY_FILE];
    const r = runbook([...args, page]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unclosed\.mdx:5:1 {2}unclosed-fence/);
    expect(existsSync(ran) || existsSync(prose)).toBe(false);
    const closed = join(tmp, 'closed.mdx');
    writeFileSync(
      closed,
      `---\ntitle: Closed\n---\n\n\`\`\`bash step=a\ntouch ${ran}\n\`\`\`\n\nThen check with \`$(touch ${prose})\` that it worked.\n`,
    );
    expect(runbook([...args, closed]).code).toBe(0);
    expect(existsSync(ran)).toBe(true);
    expect(existsSync(prose)).toBe(false);
  });
});

describe('a frontmatter block that never closes', () => {
  const field = fc.constantFrom(
    'title: T',
    'description: d',
    'runbook:',
    '  risk: low',
    'weekend: { number: 1 }',
    'sidebar: { order: 2 }',
  );
  it('is an error at 1:1 and the page cannot run; closed, it is read as frontmatter', () => {
    fc.assert(
      fc.property(
        fc.array(field, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (fields, closed, crlf, bom) => {
          const nl = crlf ? '\r\n' : '\n';
          const text = `${bom ? '\uFEFF' : ''}---${nl}${fields.join(nl)}${nl}${closed ? `---${nl}` : ''}${nl}\`\`\`bash step=a${nl}echo a${nl}\`\`\`${nl}`;
          const p = parseProcedure(text, 'page.mdx');
          const hit = byRule(p, 'unclosed-frontmatter');
          if (closed) expect(hit).toEqual([]);
          else {
            expect(hit).toEqual([expect.objectContaining({ severity: 'error', line: 1, column: 1 })]);
            expect(() => assertRunnable(p)).toThrow(/unclosed-frontmatter/);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('a page whose structure cannot be read', () => {
  const shapes: Record<string, (n: number) => string> = {
    'nested elements': (n) => `${'<div>\n'.repeat(n)}\`\`\`bash step=a\necho\n\`\`\`\n${'</div>\n'.repeat(n)}`,
    'nested inline elements': (n) => `${'<b>'.repeat(n)}x${'</b>'.repeat(n)}\n`,
    'nested quotes': (n) => `${'>'.repeat(n)} \`\`\`bash step=a\n${'>'.repeat(n)} echo\n`,
    'spaced quotes': (n) => `${'> '.repeat(n)}x\n`,
    'inline list markers': (n) => `${'- '.repeat(n)}x\n`,
    'indented lists': (n) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(2 * i)}- x`).join('\n')}\n`,
    'unclosed elements': (n) => '<div>\n'.repeat(n),
    'nested expressions': (n) => `{${'('.repeat(n)}1${')'.repeat(n)}}\n`,
  };

  it('is a positioned error, never a throw, a RangeError or a stall', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(shapes)),
        fc.integer({ min: 120, max: 2500 }),
        fc.boolean(),
        (shape, depth, md) => {
          const text = header + shapes[shape]!(depth);
          const started = performance.now();
          const p = parseProcedure(text, md ? 'page.md' : 'page.mdx');
          expect(performance.now() - started).toBeLessThan(3000);
          const lines = text.split('\n').length;
          for (const d of p.diagnostics) {
            expect(d.line).toBeGreaterThanOrEqual(1);
            expect(d.line).toBeLessThanOrEqual(lines);
          }
          // Plain Markdown reads elements as text, and parentheses in one expression are not page structure;
          // everything else nests and must be refused.
          const notNesting = shape === 'nested expressions' || (md && /element/.test(shape));
          if (!notNesting) {
            expect(errors(p).map((d) => d.rule)).toEqual(
              expect.arrayContaining([expect.stringMatching(/^(page-structure|mdx-syntax)$/)]),
            );
            expect(() => assertRunnable(p)).toThrow();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is read as usual at a realistic depth', () => {
    for (const shape of ['nested elements', 'nested quotes', 'indented lists'])
      for (const depth of [1, 5, 20]) {
        const p = parseProcedure(header + shapes[shape]!(depth), 'page.mdx');
        expect(byRule(p, 'page-structure'), `${shape} ${depth}`).toEqual([]);
      }
  });

  it('20 000 nested elements are refused at the element past the limit (a recursive walk overflowed at 5 000 quotes)', () => {
    const p = parseProcedure(header + shapes['nested elements']!(20_000), 'page.mdx');
    expect(byRule(p, 'page-structure')).toEqual([
      expect.objectContaining({ severity: 'error', line: headerLines + 101, column: 1 }),
    ]);
    const q = parseProcedure(header + shapes['nested quotes']!(20_000), 'page.mdx');
    expect(byRule(q, 'page-structure')).toHaveLength(1);
  });
});

describe('fences without steps, and MDX elements in a .md page', () => {
  const weekend = '---\ntitle: W\nweekend: { number: 3, status: planned, goal: g }\n---\n\n';
  it('a weekend page with commands but no steps says so at its first command fence', () => {
    const p = parseProcedure(
      `${weekend}Intro.\n\n\`\`\`bash\n# a comment\n\`\`\`\n\n\`\`\`sh\nkubectl get nodes\n\`\`\`\n`,
      'w.mdx',
    );
    expect(byRule(p, 'no-steps')).toEqual([expect.objectContaining({ severity: 'warning', line: 12, column: 1 })]);
    const withStep = parseProcedure(
      `${weekend}\`\`\`bash\nkubectl get nodes\n\`\`\`\n\n\`\`\`bash step=a\necho\n\`\`\`\n`,
      'w.mdx',
    );
    expect(byRule(withStep, 'no-steps')).toEqual([]);
    // ADRs and other pages show commands as examples.
    expect(
      byRule(parseProcedure('# ADR\n\n```bash\nkubectl get nodes\n```\n', 'src/content/adrs/0001-x.mdx'), 'no-steps'),
    ).toEqual([]);
  });

  it('<ForEach>, <Tabs> and <TabItem> in a .md page are positioned: an error with steps, a warning without; in .mdx they work', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ForEach nodes="role:agent"', 'Tabs param="MODE"', 'TabItem label="a"'),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        (tag, withStep, before) => {
          const name = tag.split(' ')[0]!;
          const pad = 'Some prose.\n\n'.repeat(before);
          const step = withStep ? '```bash step=a\necho\n```\n\n' : '```text\nout\n```\n\n';
          const text = `# Page\n\n${pad}<${tag}>\n\n${step}</${name}>\n`;
          const hits = byRule(parseProcedure(text, 'page.md'), 'mdx-in-markdown');
          expect(hits).toEqual([
            expect.objectContaining({ line: 3 + 2 * before, column: 1, severity: withStep ? 'error' : 'warning' }),
          ]);
          expect(hits[0]!.message).toContain(`<${name}>`);
          expect(byRule(parseProcedure(text, 'page.mdx'), 'mdx-in-markdown')).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('none of these rules fires on the example lab (no spam on ~50 pages)', () => {
    const mine = new Set([
      'no-steps',
      'mdx-in-markdown',
      'unclosed-fence',
      'unclosed-frontmatter',
      'page-structure',
      'control-character',
      'page-id',
      'invalid-encoding',
    ]);
    const hits = discoverPages(process.cwd()).flatMap((f) =>
      loadProcedure(process.cwd(), f).diagnostics.filter((d) => mine.has(d.rule)),
    );
    expect(hits).toEqual([]);
  });
});

/** Characters that must never hide in a step, and some that are fine. */
const CONTROLS = [
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).filter(
    (c) => c !== '\t' && c !== '\n' && c !== '\r',
  ),
  '\x7f',
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)),
  ...'\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069',
  // Invisible: direction marks, zero-width characters, separators, word joiner and friends, soft hyphen, BOM.
  ...'\u200e\u200f\u061c\u200b\u200c\u200d\u2028\u2029\ufeff\xad\u2060\u2061\u2062\u2063\u2064',
];

describe('control characters in a step', () => {
  it('are an error at their exact line and column, named escaped; inside lists and quotes too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9 $"'=./-]{1,20}$/), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(...CONTROLS),
        container,
        (code, lineSeed, colSeed, char, where) => {
          const row = lineSeed % code.length;
          const col = colSeed % (code[row]!.length + 1);
          const lines = code.map((l, i) => (i === row ? l.slice(0, col) + char + l.slice(col) : l));
          const prefix = where === 'list' ? '   ' : where === 'quote' ? '> ' : '';
          const intro = where === 'list' ? '1. Do it:\n' : '';
          const text = `${header}${intro}${prefix}\`\`\`bash step=a\n${lines.map((l) => prefix + l).join('\n')}\n${prefix}\`\`\`\n`;
          const p = parseProcedure(text, 'page.mdx');
          const hits = byRule(p, 'control-character');
          const escaped =
            char.charCodeAt(0) <= 0xff
              ? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`
              : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
          expect(hits).toEqual([
            expect.objectContaining({
              severity: 'error',
              line: headerLines + (intro ? 1 : 0) + 2 + row,
              column: prefix.length + col + 1,
            }),
          ]);
          expect(hits[0]!.message).toContain(escaped);
          expect(() => assertRunnable(p)).toThrow(/control-character/);
        },
      ),
      RUNS,
    );
  });

  it('in the fence meta (a title) are an error at their column', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CONTROLS), fc.stringMatching(/^[a-z ]{0,10}$/), (char, before) => {
        const p = parseProcedure(`${header}\`\`\`bash step=a title="${before}${char}x"\necho\n\`\`\`\n`, 'page.mdx');
        const column = '```bash step=a title="'.length + before.length + 1;
        expect(byRule(p, 'control-character')).toEqual([expect.objectContaining({ line: headerLines + 1, column })]);
      }),
      { numRuns: 80 },
    );
  });

  it('Windows line endings are one error saying so; tabs and ordinary Unicode are fine', () => {
    const crlf = parseProcedure(
      `${header}\`\`\`bash step=a\r\necho a\r\necho b\r\n\`\`\`\r\n`.replaceAll('\n', '\r\n').replaceAll('\r\r', '\r'),
      'p.mdx',
    );
    expect(byRule(crlf, 'control-character')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('CRLF') }),
    ]);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
        fc.pre(!CONTROLS.some((c) => s.includes(c)) && !/[\r\n`~]/.test(s));
        const p = parseProcedure(`${header}\`\`\`bash step=a\n\techo "${s}"\n\`\`\`\n`, 'p.mdx');
        expect(byRule(p, 'control-character')).toEqual([]);
      }),
      RUNS,
    );
  });
});

/** Spaces Markdown does not read as one between a fence's language and its attributes. */
const UNICODE_SPACES = [
  ...'\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000',
];

/** 1-based line and column of `index` in `text`, counting line ends as micromark does (a lone CR ends a line). */
function lineCol(text: string, index: number) {
  const before = text.slice(0, index).split(/\r\n|\r|\n/);
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

describe('carriage returns in a step fence (issue 13: Markdown strips them before the code is read)', () => {
  const code = fc.array(fc.stringMatching(/^[a-z0-9 $"'=./-]{1,20}$/), { minLength: 1, maxLength: 4 });

  it('CRLF on any of its lines (fence line, code, closing fence), in any container, is one error at the first CR', () => {
    fc.assert(
      fc.property(code, container, fc.nat(), fc.boolean(), (lines, where, seed, all) => {
        const prefix = where === 'list' ? '   ' : where === 'quote' ? '> ' : '';
        const intro = where === 'list' ? '1. Do it:\n' : '';
        const fenceLines = ['```bash step=a', ...lines, '```'].map((l) => prefix + l);
        const row = seed % fenceLines.length;
        const ends = fenceLines.map((_, i) => (all || i === row ? '\r\n' : '\n'));
        const text = `${header + intro + fenceLines.map((l, i) => l + ends[i]).join('')}\nProse.\n`;
        const p = parseProcedure(text, 'page.mdx');
        const at = lineCol(text, text.indexOf('\r'));
        expect(byRule(p, 'control-character')).toEqual([
          expect.objectContaining({ severity: 'error', ...at, message: expect.stringContaining('CRLF') }),
        ]);
        expect(() => assertRunnable(p)).toThrow(/control-character/);
      }),
      RUNS,
    );
  });

  it('a lone CR anywhere in the fence line or the code is an error at its line and column, step or not', () => {
    fc.assert(
      fc.property(code, fc.nat(), fc.nat(), (lines, rowSeed, colSeed) => {
        const fenceLines = ['```bash step=a title="t"', ...lines];
        const row = rowSeed % fenceLines.length;
        // After the fence itself: a CR inside ``` would make it no fence at all.
        const min = row === 0 ? 3 : 0;
        const col = min + (colSeed % (fenceLines[row]!.length - min + 1));
        fenceLines[row] = `${fenceLines[row]!.slice(0, col)}\r${fenceLines[row]!.slice(col)}`;
        const text = `${header}${fenceLines.join('\n')}\n\`\`\`\n`;
        const p = parseProcedure(text, 'page.mdx');
        const at = lineCol(text, text.indexOf('\r'));
        expect(byRule(p, 'control-character')).toEqual(
          expect.arrayContaining([expect.objectContaining({ severity: 'error', ...at })]),
        );
        expect(() => assertRunnable(p)).toThrow();
      }),
      RUNS,
    );
  });

  it('CRLF only in prose and frontmatter is fine: Markdown reads it, and no step holds a CR', () => {
    const text = `---\r\ntitle: T\r\n---\r\n\r\nSome prose.\r\nMore prose.\r\n\r\n\`\`\`bash step=a\necho a\n\`\`\`\n\r\nAfter.\r\n`;
    const p = parseProcedure(text, 'page.mdx');
    expect(p.diagnostics).toEqual([]);
    expect(p.steps.map((s) => s.code)).toEqual(['echo a']);
  });
});

describe('a fence that says step= but is not read as a step (issue 14)', () => {
  it('a Unicode space between the language and the attributes is an error at that space, named, saying to use an ASCII space', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('bash', 'sh', 'yaml'),
        fc.constantFrom(...UNICODE_SPACES),
        fc.constantFrom('step=b', 'step=b confirm', 'step=b title="T"', 'title="T" step=b'),
        (lang, space, rest) => {
          const text = `${header}\`\`\`bash step=a\necho a\n\`\`\`\n\n\`\`\`${lang}${space}${rest}\necho b\n\`\`\`\n`;
          const p = parseProcedure(text, 'page.mdx');
          const escaped = `\\u${space.codePointAt(0)!.toString(16).padStart(4, '0')}`.replace('\\u00a0', '\\xa0');
          const hit = expect.objectContaining({ severity: 'error', line: headerLines + 5, column: 4 + lang.length });
          expect(errors(p)).toEqual([hit]);
          expect(errors(p)[0]!.message).toContain(escaped);
          expect(errors(p)[0]!.message).toContain('use an ASCII space');
          expect(() => assertRunnable(p)).toThrow();
        },
      ),
      { numRuns: 100 },
    );
  });

  it('any fence whose info string holds step= becomes a step or is an error, never silently nothing', () => {
    const piece = fc.constantFrom(
      'bash',
      'sh',
      'yaml',
      'step=',
      'step=a',
      'a',
      'x-',
      ' ',
      '\t',
      '"',
      "'",
      '=',
      'title',
      '{1}',
      'apply',
      '\r',
      ...UNICODE_SPACES,
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 6 }),
        fc.array(piece, { maxLength: 6 }),
        fc.constantFrom('```', '~~~'),
        (before, after, fence) => {
          const info = `${before.join('')}step=${after.join('')}`;
          const p = parseProcedure(`${header}${fence}${info}\necho b\n${fence}\n`, 'page.mdx');
          expect(p.steps.length === 1 || errors(p).length > 0, JSON.stringify(info)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('step= read as the language, or inside another word, is an error too', () => {
    const asLang = parseProcedure(`${header}\`\`\`step=a\necho\n\`\`\`\n`, 'page.mdx');
    expect(errors(asLang)).toEqual([
      expect.objectContaining({ rule: 'invalid-attribute', line: headerLines + 1, column: 1 }),
    ]);
    const inWord = parseProcedure(`${header}\`\`\`bash mystep=a\necho\n\`\`\`\n`, 'page.mdx');
    expect(errors(inWord)).toEqual([
      expect.objectContaining({ rule: 'invalid-attribute', line: headerLines + 1, column: 11 }),
    ]);
  });
});

describe('the runner never runs such a page (issues 13, 14, 16)', () => {
  it('CRLF, a no-break space before step=, or an invisible character: run exits 2 and no step ran', () => {
    const ran = join(tmp, 'hidden-ran');
    const good = `\`\`\`bash step=first\ntouch ${ran}\n\`\`\`\n\n`;
    const pages = {
      crlf: `${good}\`\`\`bash step=cr\r\necho cr\r\n\`\`\`\r\n`,
      nbsp: `${good}\`\`\`bash\u00a0step=second confirm\necho second\n\`\`\`\n`,
      rlm: `${good}\`\`\`bash step=rlm\necho \u200f"x"\n\`\`\`\n`,
    };
    const args = ['run', '--yes', '--records', join(tmp, 'runs-hidden'), '--inventory', TEST_INVENTORY_FILE];
    for (const [name, body] of Object.entries(pages)) {
      const page = join(tmp, `hidden-${name}.mdx`);
      writeFileSync(page, `---\ntitle: Hidden\n---\n\n${body}`);
      const r = runbook([...args, page]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`hidden-${name}\\.mdx:\\d+:\\d+ {2}(control-character|invalid-attribute)`));
      expect(existsSync(ran), name).toBe(false);
    }
  });
});

describe('page ids', () => {
  const hostile = fc.oneof(
    fc.constantFrom(
      '..',
      '.hidden',
      'a/b',
      'a\\b',
      'a\0b',
      'UPPER',
      'with space',
      'under_score',
      'double--dash',
      '-lead',
      'trail-',
      'ünï',
      'a'.repeat(101),
    ),
    fc.string({ maxLength: 30 }),
    fc.stringMatching(/^[a-z0-9-]{1,120}$/),
  );
  const safe = (id: string) => PAGE_ID.test(id) && id.length <= MAX_PAGE_ID_LENGTH;

  it('from runbook.id or from the file name: a page without errors always has a safe id; an unsafe one is an error', () => {
    fc.assert(
      fc.property(hostile, hostile, fc.boolean(), (fromFile, fromFrontmatter, useFrontmatter) => {
        const file = `src/content/docs/runbooks/${fromFile.replaceAll('/', '_').replaceAll('\0', '_') || 'x'}.mdx`;
        const idLine = useFrontmatter ? `  id: ${JSON.stringify(fromFrontmatter)}\n` : '';
        const text = `---\ntitle: T\nrunbook:\n${idLine}  risk: low\n---\n\n\`\`\`bash step=a\necho\n\`\`\`\n`;
        const p = parseProcedure(text, file);
        if (errors(p).length === 0) expect(safe(p.id), p.id).toBe(true);
        const source = useFrontmatter ? fromFrontmatter : file.slice(file.lastIndexOf('/') + 1, -4);
        if (!safe(source))
          expect(errors(p).map((d) => d.rule)).toEqual(
            expect.arrayContaining([expect.stringMatching(/^(page-id|frontmatter)$/)]),
          );
        for (const d of byRule(p, 'page-id')) expect(d.message).toMatch(/rename the file|set runbook\.id/);
      }),
      RUNS,
    );
  });

  it('a page that cannot run keeps any file name (its id names no records)', () => {
    expect(byRule(parseProcedure('# Notes\n', 'src/content/runs/README.md'), 'page-id')).toEqual([]);
  });
});

describe('bytes that are not UTF-8', () => {
  /** U+FFFD a standard decoder produces that the bytes did not spell as EF BF BD. */
  function oracleInvalid(bytes: Uint8Array): number {
    const decoded = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const real = Buffer.from(bytes).toString('latin1').split('\xef\xbf\xbd').length - 1;
    return decoded.split('\uFFFD').length - 1 - real;
  }

  it('are counted exactly, decoded as before, and each reported one is at a U+FFFD of the text', () => {
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => new TextEncoder().encode(s)),
      fc.constantFrom(...['\n', '```bash step=a\n', '\xef\xbf\xbd'].map((s) => Buffer.from(s, 'latin1'))),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
        const bytes = Buffer.concat(chunks);
        const { text, invalid, invalidCount } = decodeSource(bytes);
        expect(text).toBe(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes));
        expect(invalidCount).toBe(oracleInvalid(bytes));
        expect(invalidCount === 0).toBe(isUtf8(bytes));
        expect(invalid).toHaveLength(Math.min(invalidCount, MAX_INVALID_REPORTED));
        const lines = text.split('\n');
        for (const at of invalid) expect(lines[at.line - 1]![at.column - 1]).toBe('\uFFFD');
        const p = parseProcedure(bytes, 'page.mdx');
        const warned = byRule(p, 'invalid-encoding');
        expect(warned.map((d) => [d.line, d.column, d.severity])).toEqual(
          invalid.map((i) => [i.line, i.column, 'warning']),
        );
      }),
      RUNS,
    );
  });

  it('are warned about by both readers of pages (run/show and check), with the byte named', () => {
    const file = join(tmp, 'latin1.mdx');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('---\ntitle: t\n---\n\nCaf'),
        Buffer.from([0xe9]),
        Buffer.from('\n\n```bash step=a\necho\n```\n'),
      ]),
    );
    const expected = [
      expect.objectContaining({
        rule: 'invalid-encoding',
        line: 5,
        column: 4,
        message: expect.stringContaining('0xe9'),
      }),
    ];
    expect(loadProcedure(tmp, 'latin1.mdx').diagnostics).toEqual(expected);
    expect(
      readAndLint(tmp, 'latin1.mdx', testInventory()).diagnostics.filter(
        (d: Diagnostic) => d.rule === 'invalid-encoding',
      ),
    ).toEqual(expected);
    expect(readFileSync(file).includes(0xe9)).toBe(true);
  });
});

describe('durations and regexes are bounded', () => {
  const UNITS = { ms: 1n, s: 1000n, m: 60_000n, h: 3_600_000n } as const;

  it('a timeout or retry delay is accepted exactly when a timer can hold it', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{1,40}$/),
        fc.constantFrom('ms', 's', 'm', 'h'),
        fc.constantFrom('timeout', 'retry-delay'),
        (digits, unit, key) => {
          const ms = BigInt(digits) * UNITS[unit as keyof typeof UNITS];
          const fits = ms > 0n && ms <= BigInt(MAX_TIMER_MS);
          const read = readTimerDuration(`${digits}${unit}`);
          expect('ms' in read).toBe(fits);
          if ('ms' in read) expect(BigInt(read.ms)).toBe(ms);
          const p = parseProcedure(`\`\`\`bash step=a ${key}=${digits}${unit}\necho\n\`\`\`\n`, 'p.mdx');
          expect(byRule(p, 'invalid-attribute').length > 0).toBe(!fits);
          expect(Math.max(p.steps[0]!.attrs.timeoutMs, p.steps[0]!.attrs.retryDelayMs)).toBeLessThanOrEqual(
            MAX_TIMER_MS,
          );
        },
      ),
      RUNS,
    );
  });

  /** Patterns in the part of the syntax JavaScript and RE2 share, with the same meaning. */
  const pattern = fc.letrec((tie) => ({
    atom: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'regex' },
      fc.constantFrom(
        'a',
        'b',
        'c',
        '0',
        ' ',
        '.',
        '[ab]',
        '[^a]',
        '[0-9]',
        '\\d',
        '\\w',
        '\\s',
        '\\.',
        '^',
        '$',
        '\\b',
      ),
      tie('group'),
    ),
    group: fc.tuple(tie('alt')).map(([a]) => `(${a})`),
    piece: fc
      .tuple(tie('atom'), fc.constantFrom('', '', '*', '+', '?', '{1,2}', '*?'))
      .map(([a, q]) => (/^[\^$]|\\b/.test(a as string) ? a : `${a}${q}`)),
    seq: fc.array(tie('piece'), { minLength: 1, maxLength: 4 }).map((xs) => (xs as string[]).join('')),
    alt: fc.array(tie('seq'), { minLength: 1, maxLength: 2 }).map((xs) => (xs as string[]).join('|')),
  })).alt as fc.Arbitrary<string>;

  it('expect= means what new RegExp(pattern, "m") meant, on output with \\n, \\r\\n and \\r line ends', () => {
    fc.assert(
      fc.property(
        pattern,
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', '0', ' ', '\n', '\r', '.'), maxLength: 12 }),
        (p, text) => {
          const compiled = compileExpect(p);
          if ('error' in compiled) throw new Error(`${p}: ${compiled.error}`);
          expect(compiled.test(text), `/${p}/m on ${JSON.stringify(text)}`).toBe(new RegExp(p, 'm').test(text));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('an expect= value reaches the runner as written (no Markdown escapes; in double quotes only \\" and \\\\)', () => {
    const withQuotes = fc
      .tuple(pattern, fc.constantFrom('', '"', "'", '\\\\', '\\.', '&amp;', '\\d'))
      .map(([p, extra]) => p + extra);
    fc.assert(
      fc.property(withQuotes, fc.constantFrom('single', 'double', 'bare'), (p, quoting) => {
        fc.pre(quoting !== 'single' || !p.includes("'"));
        fc.pre(quoting !== 'bare' || /^[^\s"'{][^\s"']*$/.test(p));
        const value = quoting === 'single' ? `'${p}'` : quoting === 'double' ? `"${p.replace(/[\\"]/g, '\\$&')}"` : p;
        const page = parseProcedure(`\`\`\`bash step=a expect=${value} title="t"\necho\n\`\`\`\n`, 'p.mdx');
        expect(page.diagnostics).toEqual([]);
        expect(page.steps[0]!.attrs.expect).toBe(p);
      }),
      RUNS,
    );
  });

  it('check accepts exactly the patterns RE2 compiles (its fast path for plain patterns never disagrees)', () => {
    const meta = fc.constantFrom(
      'a',
      'z',
      '1',
      '9',
      '-',
      '.',
      '\\',
      '[',
      ']',
      '^',
      '$',
      '(',
      ')',
      '{',
      '}',
      '*',
      '+',
      '?',
      '|',
      ' ',
      '"',
      'é',
      '😀',
    );
    const candidates = fc.oneof(fc.string({ unit: meta, maxLength: 12 }), fc.stringMatching(PLAIN_EXPECT));
    fc.assert(
      fc.property(candidates, (p) => {
        const compiled = compileExpect(p);
        expect(expectProblem(p), p).toBe('error' in compiled ? compiled.error : undefined);
      }),
      { numRuns: RUNS.numRuns * 5 },
    );
  });

  it('patterns that backtrack catastrophically in JavaScript match in linear time', () => {
    const text = `${'a'.repeat(100_000)}!`;
    for (const p of ['(a+)+$', '(a|a)*b', '(a*)*b', '^(a|aa)+$', '(.*a){12}x']) {
      const compiled = compileExpect(p);
      if ('error' in compiled) throw new Error(compiled.error);
      const started = performance.now();
      expect(compiled.test(text)).toBe(false);
      expect(performance.now() - started, p).toBeLessThan(1500);
    }
  });

  it('what RE2 cannot express is an error that says why', () => {
    for (const p of ['(a)\\1', 'a(?=b)', 'a(?!b)', '(?<=a)b', '(?<!a)b']) {
      const page = parseProcedure(`\`\`\`bash step=a expect='${p}'\necho\n\`\`\`\n`, 'p.mdx');
      expect(
        byRule(page, 'invalid-attribute')
          .map((d) => d.message)
          .join(),
        p,
      ).toMatch(/linear-time engine/);
    }
    expect(compileExpect('a'.repeat(1001))).toEqual({ error: expect.stringContaining('at most 1000') });
  });

  it('every expect= of the example lab compiles under RE2', () => {
    const patterns = discoverPages(process.cwd()).flatMap((f) =>
      loadProcedure(process.cwd(), f).steps.flatMap((s) => (s.attrs.expect ? [s.attrs.expect] : [])),
    );
    expect(patterns.length).toBeGreaterThan(30);
    for (const p of patterns) expect(compileExpect(p), p).not.toHaveProperty('error');
  });
});

describe('parsePage', () => {
  it('hands back the frontmatter with a position map instead of a hidden property', () => {
    const { frontmatter } = parsePage('---\ntitle: T\nweekend:\n  number: 1\n---\n', 'w.mdx');
    expect(Object.getOwnPropertySymbols(frontmatter.data)).toEqual([]);
    expect(frontmatter.positions.lineOf(['weekend', 'number'])).toBe(4);
  });
});
