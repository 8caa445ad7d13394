import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseProcedure } from '../../runner/format/parse.ts';

/** The parser must turn any input into a model or positioned diagnostics, never throw. */
const fragment = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '---\n',
    'title: x\n',
    'runbook:\n  risk: low\n',
    '  params: { A: { default: 1 } }\n',
    '```bash step=a\n',
    '```\n',
    '```yaml step=m apply\n',
    '<ForEach nodes="role:agent">\n',
    '</ForEach>\n',
    '<Tabs param="A">\n',
    '<TabItem label="x">\n',
    '</TabItem>\n',
    '</Tabs>\n',
    '{/* c */}\n',
    '{',
    '}',
    '<',
    '>',
    'step=',
    'on=$NODE ',
    'timeout=5m ',
    'confirm ',
    '"',
    "'",
    '\n',
    '# H\n',
    '- item\n   ',
    'import x from "y";\n',
    // What issue 10 adds: other fences, containers, control characters, line ends, huge values.
    '~~~sh step=b\n',
    '````\n',
    '~~~\n',
    '> ',
    '   ',
    '1. ',
    '\x1b[31m',
    '\x08',
    '\u202e',
    '\0',
    '\r\n',
    '\r',
    '\uFFFD',
    'expect="(a)\\1" ',
    "expect='x(?=y)' ",
    'timeout=99999999999h ',
    'retry-delay=0s ',
    'runbook:\n  id: ../x\n',
  ),
);

describe('parser robustness (property)', () => {
  it('never throws and positions every diagnostic inside the file', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), (parts) => {
        const source = parts.join('');
        const p = parseProcedure(source, 'fuzz.mdx');
        const lines = source.split(/\r\n|\r|\n/).length;
        for (const d of p.diagnostics) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.line).toBeLessThanOrEqual(lines + 1);
          expect(d.column).toBeGreaterThanOrEqual(1);
          expect(d.message).not.toBe('');
        }
        for (const s of p.steps) expect(s.position.start.line).toBeLessThanOrEqual(lines);
        expect(p.hash).toMatch(/^[0-9a-f]{16}$/);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on bytes, and reads valid UTF-8 bytes exactly as the same text', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 20 }), fc.uint8Array({ maxLength: 16 }), (parts, noise) => {
        const text = parts.join('');
        const asBytes = parseProcedure(Buffer.from(text), 'fuzz.mdx');
        expect(asBytes).toEqual(parseProcedure(text, 'fuzz.mdx'));
        const noisy = parseProcedure(Buffer.concat([Buffer.from(text), noise]), 'fuzz.mdx');
        expect(noisy.hash).toMatch(/^[0-9a-f]{16}$/);
      }),
      { numRuns: 200 },
    );
  });
});
