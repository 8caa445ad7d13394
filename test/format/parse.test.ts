import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePage, parseProcedure } from '../../runner/format/parse.ts';
import { tokenizeMeta } from '../../runner/format/meta.ts';
import { parseDuration, formatTimeout } from '../../runner/format/duration.ts';

const ROLLING = 'test/fixtures/check/valid/rolling.mdx';
const rolling = () => parseProcedure(readFileSync(ROLLING, 'utf8'), ROLLING);

describe('parseProcedure', () => {
  it('reads the runbook block, steps and positions', () => {
    const p = rolling();
    expect(p.kind).toBe('runbook');
    expect(p.id).toBe('rolling');
    expect(p.title).toBe('Rolling restart of the agents');
    expect(p.runbook).toMatchObject({ risk: 'medium', cluster: 'testlab', requires: ['kubectl', 'ssh'] });
    expect(p.runbook!.params.DATASTORE!.enum).toEqual(['etcd', 'sqlite']);
    expect(p.runbook!.lines.params.REASON).toBe(12);
    expect(p.steps.map((s) => s.id)).toEqual([
      'snapshot',
      'copy-db',
      'drain',
      'restart',
      'ready',
      'all-ready',
      'marker',
    ]);
    expect(p.diagnostics).toEqual([]);
    const snapshot = p.steps[0]!;
    expect(snapshot.position.start).toEqual({ line: 32, column: 1 });
    expect(snapshot.attrs).toMatchObject({ title: 'Snapshot etcd', on: 'role:server', timeoutMs: 300_000 });
    expect(snapshot.tab).toEqual({ param: 'DATASTORE', value: 'etcd' });
    expect(snapshot.section).toBe('Back up first');
  });

  it('finds steps inside <Steps> list items within <ForEach>, keeping indentation columns', () => {
    const p = rolling();
    const drain = p.steps.find((s) => s.id === 'drain')!;
    expect(drain.group).toBe(0);
    expect(drain.position.start.column).toBe(4);
    expect(drain.code).toBe('kubectl drain "$NODE" --ignore-daemonsets --delete-emptydir-data');
    expect(drain.attrs.confirm).toBe(true);
    expect(p.groups).toEqual([expect.objectContaining({ index: 0, nodes: 'role:agent' })]);
    const ready = p.steps.find((s) => s.id === 'ready')!;
    expect(ready.attrs).toMatchObject({ retries: 2, retryDelayMs: 10_000, expect: 'condition met' });
  });

  it('treats fences without step= as illustration', () => {
    expect(rolling().steps.some((s) => s.code === 'kubectl get nodes')).toBe(false);
  });

  it('marks yaml apply steps', () => {
    const marker = rolling().steps.find((s) => s.id === 'marker')!;
    expect(marker.kind).toBe('apply');
    expect(marker.attrs.apply).toBe(true);
  });

  it('hashes change with the step text and only with it', () => {
    const src = readFileSync(ROLLING, 'utf8');
    const a = parseProcedure(src, ROLLING);
    const b = parseProcedure(src.replace('Illustration only', 'Example only'), ROLLING);
    const c = parseProcedure(
      src.replace('systemctl restart k3s-agent', 'systemctl restart k3s-agent --no-block'),
      ROLLING,
    );
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
    const changed = c.steps.filter((s, i) => s.hash !== a.steps[i]!.hash).map((s) => s.id);
    expect(changed).toEqual(['restart']);
  });

  it('infers page kinds from frontmatter and path', () => {
    expect(parseProcedure('# x', 'src/content/adrs/0001-x.mdx').kind).toBe('adr');
    expect(parseProcedure('---\ntitle: W\nweekend: { number: 1, status: done, goal: g }\n---\n', 'w.mdx').kind).toBe(
      'weekend',
    );
    expect(parseProcedure('# Plain', 'plain.mdx')).toMatchObject({ kind: 'page', title: 'Plain', steps: [] });
  });

  it('reads fence attributes as written, not with Markdown escapes applied', () => {
    const p = parseProcedure('```bash step=a expect=\'^v1\\.34$\' title="A &amp; B"\necho\n```\n', 'p.mdx');
    expect(p.steps[0]!.attrs).toMatchObject({ expect: '^v1\\.34$', title: 'A &amp; B' });
  });

  it('takes a title from the first heading as plain text', () => {
    expect(parseProcedure('# Restart `k3s` *now*\n', 'p.mdx').title).toBe('Restart k3s now');
  });

  it('positions frontmatter fields through an explicit map', () => {
    const { frontmatter } = parsePage('---\ntitle: T\nrunbook:\n  risk: low\n  params:\n    A: {}\n---\n', 'p.mdx');
    expect(frontmatter.positions.lineOf(['runbook', 'params', 'A'])).toBe(6);
    expect(frontmatter.positions.lineOf(['runbook', 'missing'])).toBe(3);
    expect(
      JSON.parse(JSON.stringify(parseProcedure('---\nrunbook: { risk: low }\n---\n', 'p.mdx').runbook)),
    ).not.toHaveProperty('lines');
  });

  it('parses plain Markdown without MDX syntax errors on braces', () => {
    const p = parseProcedure('# Notes\n\nA {brace} and <b>html</b>.\n\n```bash step=a\necho {a,b}\n```\n', 'notes.md');
    expect(p.diagnostics).toEqual([]);
    expect(p.steps[0]!.code).toBe('echo {a,b}');
  });
});

describe('tokenizeMeta', () => {
  it('reads bare, quoted and flag attributes with offsets', () => {
    expect(tokenizeMeta(`step=a title="Say \\"hi\\"" on=role:server confirm expect='^ok$' {1-3}`)).toEqual({
      tokens: [
        { key: 'step', value: 'a', offset: 0 },
        { key: 'title', value: 'Say "hi"', offset: 7 },
        { key: 'on', value: 'role:server', offset: 26 },
        { key: 'confirm', value: true, offset: 41 },
        { key: 'expect', value: '^ok$', offset: 49 },
        { key: '{1-3}', value: true, offset: 63 },
      ],
    });
  });

  it('keeps backslashes in double quotes except before " and \\ (a regex arrives as written)', () => {
    expect(tokenizeMeta(String.raw`expect="^v1\.34\.\d+ \"x\" \\$"`)).toEqual({
      tokens: [{ key: 'expect', value: String.raw`^v1\.34\.\d+ "x" \$`, offset: 0 }],
    });
    expect(tokenizeMeta(String.raw`expect='a\"b'`)).toEqual({
      tokens: [{ key: 'expect', value: String.raw`a\"b`, offset: 0 }],
    });
  });

  it('rejects an unterminated quote at the attribute', () => {
    expect(tokenizeMeta('step=a title="open')).toMatchObject({ offset: 7 });
  });
});

describe('durations', () => {
  it('parses the documented units', () => {
    expect([parseDuration('90s'), parseDuration('5m'), parseDuration('1h'), parseDuration('500ms')]).toEqual([
      90_000, 300_000, 3_600_000, 500,
    ]);
    expect(parseDuration('5')).toBeUndefined();
    expect(parseDuration('1.5m')).toBeUndefined();
    expect(formatTimeout(600_000)).toBe('10m');
  });
});
