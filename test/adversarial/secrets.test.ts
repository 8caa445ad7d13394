import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createMasker, MASK } from '../../runner/secrets/mask.ts';
import { FormMatcher } from '../../runner/secrets/matcher.ts';
import { secretForms } from '../../runner/secrets/forms.ts';
import { makeLab, runCli, step, type Lab } from '../run/helpers.ts';
import { maskInPieces } from '../helpers/stream.ts';

/**
 * Masking, attacked from outside: the leaks are built here with the encoders a
 * step would use (Buffer base64 at every alignment, `base64`'s 76-column wrap,
 * encodeURIComponent, URLSearchParams, JSON.stringify, line splits), not with the
 * masker's own list of forms.
 */

const strip = (s: string) => s.replace(/[\r\n]/g, '');
/** Line breaks the masker looks through (runs of up to 4); longer runs separate text. */
const joinShortBreaks = (s: string) => s.replace(/[\r\n]+/g, (m) => (m.length <= 4 ? '' : m));

const secretChars = fc.oneof(
  fc.constantFrom(...'.*+?^${}()|[]\\/"\'`:=&%# \n\t'.split('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  fc.string({ minLength: 1, maxLength: 1 }),
);
/** Secrets of 4+ bytes (shorter ones are masked literally, not in base64 cores), never holding the mask's own character. */
const secretArb = fc
  .array(secretChars, { minLength: 4, maxLength: 24 })
  .map((cs) => cs.join(''))
  .filter((s) => strip(s).trim().length >= 4 && !s.includes('•') && Buffer.byteLength(s) >= 4);
const noiseArb = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replaceAll('•', '.'));

/** Inserts a line break (\n or \r\n) at each of `cuts` positions (as `fold` or a terminal would). */
function splitOverLines(s: string, cuts: number[]): string {
  const at = new Set(cuts.map((c) => 1 + (c % Math.max(1, s.length - 1))));
  return [...s].map((ch, i) => (at.has(i) ? (i % 2 ? '\r\n' : '\n') : '') + ch).join('');
}

const wrap76 = (s: string) => s.replace(/(.{76})(?=.)/g, '$1\n');

interface Leak {
  text: string;
  kind: 'plain' | 'base64' | 'base64url' | 'url' | 'json';
}

function leaks(secret: string, prefix: string, suffix: string, cuts: number[]): Leak[] {
  const bytes = (s: string) => Buffer.from(s);
  return [
    { kind: 'plain', text: secret },
    { kind: 'plain', text: splitOverLines(secret, cuts) },
    { kind: 'base64', text: Buffer.from(secret).toString('base64') },
    {
      kind: 'base64',
      text: Buffer.concat([bytes(prefix), bytes(':'), bytes(secret), bytes(suffix)]).toString('base64'),
    },
    {
      kind: 'base64',
      text: wrap76(Buffer.concat([bytes(prefix.repeat(4)), bytes(secret), bytes(suffix)]).toString('base64')),
    },
    { kind: 'base64url', text: Buffer.concat([bytes(prefix), bytes(secret)]).toString('base64url') },
    { kind: 'url', text: encodeURIComponent(secret) },
    { kind: 'url', text: new URLSearchParams({ v: secret }).toString() },
    { kind: 'json', text: JSON.stringify({ v: secret }) },
  ];
}

/** Every run of base64 characters in `text`, decoded from each of the four offsets. */
function decodedRuns(text: string, alphabet: 'base64' | 'base64url'): Buffer[] {
  const runs = strip(text).match(alphabet === 'base64' ? /[A-Za-z0-9+/]+=*/g : /[A-Za-z0-9_-]+/g) ?? [];
  // Node decodes a trailing partial group too, as `base64 -d` would print it.
  return runs.flatMap((run) => [0, 1, 2, 3].map((off) => Buffer.from(run.slice(off), alphabet)));
}

function assertNoLeak(out: string, secret: string) {
  const flat = joinShortBreaks(out);
  expect(flat).not.toContain(strip(secret));
  for (const form of [
    encodeURIComponent(secret),
    new URLSearchParams({ v: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
  ]) {
    expect(flat).not.toContain(form);
  }
  for (const alphabet of ['base64', 'base64url'] as const) {
    for (const decoded of decodedRuns(out, alphabet)) expect(decoded.includes(Buffer.from(secret))).toBe(false);
  }
}

/** Feeds `text` to a stream masker in the pieces `cuts` make. */
function streamed(secret: string, text: string, cuts: number[]): string {
  return maskInPieces(createMasker([secret]), text, cuts);
}

describe('the masker, property-tested against encoders it does not share', () => {
  it('no secret, or its base64 (any alignment, wrapped), URL, form or JSON encoding, or a line-split copy survives a stream cut anywhere', () => {
    fc.assert(
      fc.property(
        secretArb,
        noiseArb,
        noiseArb,
        fc.array(fc.nat(500), { maxLength: 12 }),
        fc.array(fc.nat(50), { maxLength: 3 }),
        (secret, a, b, cuts, lineCuts) => {
          const prefix = a.slice(0, 7);
          const text = leaks(secret, prefix, b.slice(0, 5), lineCuts)
            .map((l) => `${a}${l.text}${b}`)
            .join('\n');
          const out = streamed(secret, text, cuts);
          assertNoLeak(out, secret);
          // A stream and the whole text agree exactly, wherever the cuts fall.
          expect(out).toBe(createMasker([secret]).mask(text));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('changes nothing but covered forms: text outside each masked span is kept byte for byte, and each span is a piece of an encoding of the secret', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.array(noiseArb, { maxLength: 6 }),
        fc.array(fc.nat(40), { maxLength: 3 }),
        (secret, noise, lineCuts) => {
          const pieces = leaks(secret, 'u', '', lineCuts).map((l) => l.text);
          const text = noise.map((n, i) => n + (pieces[i] ?? '')).join('') + noise.join('|');
          const { spans } = new FormMatcher(secretForms(secret)).scan(text, true);
          const bytes = Buffer.from(secret);
          const encodings = [
            strip(secret),
            JSON.stringify(secret).slice(1, -1),
            encodeURIComponent(secret),
            new URLSearchParams({ v: secret }).toString().slice(2),
            ...[0, 1, 2].flatMap((n) => [
              Buffer.concat([Buffer.alloc(n), bytes]).toString('base64'),
              Buffer.concat([Buffer.alloc(n), bytes]).toString('base64url'),
            ]),
            ...secret.split(/\r?\n|\r/),
          ];
          const lower = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
          let kept = '';
          let at = 0;
          for (const [start, end] of spans) {
            expect(start).toBeGreaterThanOrEqual(at);
            const inside = strip(text.slice(start, end));
            expect(
              encodings.some((e) => e.includes(inside) || lower(e).includes(inside)),
              `masked ${JSON.stringify(inside)}`,
            ).toBe(true);
            expect(/^[\r\n]|[\r\n]$/.test(text.slice(start, end))).toBe(false);
            kept += `${text.slice(at, start)}${MASK}`;
            at = end;
          }
          expect(createMasker([secret]).mask(text)).toBe(kept + text.slice(at));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('text that holds no secret comes out unchanged, through a stream cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 16, unit: 'grapheme' }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.array(fc.nat(300)),
        (secret, text, cuts) => {
          fc.pre(!joinShortBreaks(text).includes(secret.slice(0, 4)) && !text.includes('•'));
          expect(streamed(secret, text, cuts)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stays fast on long outputs: 1 MB masked in one go and in 64 KB chunks (benchmark)', () => {
    const secrets = ['s3cr3t-value-0123456789', 'another-token-value', 'p@ss word/+=?'];
    const m = createMasker(secrets);
    const line = 'INFO 2026-12-01T10:00:00Z pod/web-7d9f ready, 3/3 containers, restarts=0, node=k3s-worker-01\n';
    const text = line.repeat(Math.ceil(1_000_000 / line.length)) + secrets[0];
    const t0 = performance.now();
    const whole = m.mask(text);
    const t1 = performance.now();
    const stream = m.stream();
    let chunked = '';
    for (let i = 0; i < text.length; i += 65536) chunked += stream.push(text.slice(i, i + 65536));
    chunked += stream.flush();
    const t2 = performance.now();
    const b64 = wrap76(Buffer.from(`${'x'.repeat(1_000_000)}user:${secrets[0]}`).toString('base64'));
    const t3 = performance.now();
    const maskedB64 = m.mask(b64);
    const t4 = performance.now();
    console.log(
      `mask 1 MB: ${(t1 - t0).toFixed(1)} ms whole, ${(t2 - t1).toFixed(1)} ms in 64 KB chunks; 1.3 MB wrapped base64: ${(t4 - t3).toFixed(1)} ms`,
    );
    expect(whole.endsWith(MASK)).toBe(true);
    expect(chunked).toBe(whole);
    assertNoLeak(maskedB64.slice(-200), secrets[0]!);
    expect(t1 - t0).toBeLessThan(500);
    expect(t2 - t1).toBeLessThan(500);
    expect(t4 - t3).toBeLessThan(500);
  });

  it('documents what it cannot cover: hex, hashes, a reversed or partial print, other alphabets', () => {
    const secret = 'correct-horse-battery';
    const m = createMasker([secret]);
    for (const uncovered of [
      Buffer.from(secret).toString('hex'),
      createHash('sha256').update(secret).digest('hex'),
      [...secret].reverse().join(''),
      secret.slice(0, 10),
      secret.split('').join(' '),
      Buffer.from(secret)
        .toString('base64')
        .replace(/(.{4})/g, '$1 '),
    ]) {
      expect(m.mask(uncovered)).toBe(uncovered);
    }
  });
});

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

describe('secrets through real steps (bash, chunks, records)', () => {
  it('a step that prints a secret char by char with pauses, one char per line, through `base64` (wrapped) and URL-encoded leaks nothing', async () => {
    const secret = `Pa55:${randomBytes(30).toString('hex')}/+=`; // > 57 bytes: `base64` wraps it at 76 columns
    const file = lab.runbook(
      'leaky',
      step(
        'step=slow',
        'for ((i=0; i<${#DB_PASSWORD}; i++)); do printf %s "${DB_PASSWORD:i:1}"; sleep 0.01; done; echo',
      ) +
        step('step=lines', 'for ((i=0; i<${#DB_PASSWORD}; i++)); do printf "%s\\n" "${DB_PASSWORD:i:1}"; done') +
        step(
          'step=b64',
          'printf %s "$DB_PASSWORD" | base64; printf "admin:%s" "$DB_PASSWORD" | base64; printf "xy%s" "$DB_PASSWORD" | base64 -w 20',
        ) +
        step(
          'step=url',
          'for ((i=0; i<${#DB_PASSWORD}; i++)); do c=${DB_PASSWORD:i:1}; case $c in [a-zA-Z0-9.~_-]) printf %s "$c";; *) printf %%%02X "\'$c";; esac; done; echo',
        ),
      '  params:\n    DB_PASSWORD:\n      secret: true\n',
    );
    const r = await runCli(['run', file, '--json', ...lab.flags], { ...lab.env, DB_PASSWORD: secret });
    expect(r.code, r.stderr).toBe(0);
    const record = readFileSync(lab.readRecords()[0]!.file, 'utf8');
    for (const text of [r.stdout, r.stderr, record]) expect(text).not.toContain(secret.slice(0, 12));
    // The outputs as the steps printed them (JSON-escaped in the files, gutter-prefixed on the terminal).
    const outputs: string[] = JSON.parse(r.stdout).steps.map((s: { output: string }) => s.output);
    for (const output of [...outputs, ...lab.onlyRecord().steps.map((s) => s.output)]) assertNoLeak(output, secret);
    expect(outputs[0]).toBe(`${MASK}\n`);
    expect(outputs[3]).toBe(`${MASK}\n`);
  });

  it('a param is secret by declaration or name, never by value: a plain value equal to a secret variable is recorded verbatim and resume runs with it', async () => {
    const shared = `same-${randomBytes(6).toString('hex')}`;
    const out = join(lab.dir, 'seen');
    const file = lab.runbook(
      'verbatim',
      step('step=note', `echo "$NAMESPACE" >> ${out}`) +
        step('step=gate', `[ -f ${join(lab.dir, 'open')} ]`) +
        step('step=again', `echo "$NAMESPACE" >> ${out}`),
      '  params:\n    NAMESPACE:\n      required: true\n',
    );
    const env = { ...lab.env, BACKUP_TOKEN: shared };
    const first = await runCli(['run', file, '--set', `NAMESPACE=${shared}`, ...lab.flags], env);
    expect(first.code).toBe(1);
    const record = lab.onlyRecord();
    expect(record.params).toEqual([{ name: 'NAMESPACE', value: shared, source: 'set', secret: false }]);
    writeFileSync(join(lab.dir, 'open'), '');
    // A variable exported since cannot change the resumed run's values.
    const resumed = await runCli(['resume', record.runId, ...lab.flags], { ...env, NAMESPACE: 'stale-export' });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${shared}\n${shared}\n`);
    // Display still hides it: it equals a secret's value.
    expect(first.stdout).not.toContain(shared);
  });

  it('resume refuses a record that holds a masked copy of a plain value (written by an older runner)', async () => {
    const file = lab.runbook('oldmask', step('step=x', 'exit 1'), '  params:\n    NAMESPACE:\n      default: x\n');
    await runCli(['run', file, ...lab.flags], lab.env);
    const { file: recordFile, record } = lab.readRecords()[0]!;
    record.params[0]!.value = MASK;
    writeFileSync(recordFile, JSON.stringify(record));
    const r = await runCli(['resume', record.runId, ...lab.flags], lab.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('param NAMESPACE was recorded masked');
  });

  it('show, show --json, history, error messages and "Before this can run" mask exactly what run masks', async () => {
    const canary = `canary-${randomBytes(6).toString('hex')}`;
    const declared = `declared-${randomBytes(6).toString('hex')}`;
    const visible = 'visible-value';
    const file = lab.runbook(
      'masks',
      step('step=x', 'echo "$DB_PASSWORD $API_TOKEN $MODE $LABEL"'),
      '  params:\n    DB_PASSWORD:\n      secret: true\n    API_TOKEN:\n      description: secret by its name\n' +
        '    MODE:\n      enum: [fast, safe]\n    LABEL:\n      default: visible-value\n    REASON:\n      required: true\n',
    );
    const env = { ...lab.env, DB_PASSWORD: declared, API_TOKEN: canary, OTHER_SECRET: `${canary}-env` };
    // MODE gets a value equal to a secret: the error message must not show it.
    const show = await runCli(['show', file, '--set', `MODE=${canary}`, ...lab.flags], env);
    const showJson = await runCli(['show', file, '--json', '--set', `MODE=${canary}`, ...lab.flags], env);
    const refused = await runCli(['run', file, '--set', `MODE=${canary}`, '--set', 'REASON=r', ...lab.flags], env);
    const ran = await runCli(['run', file, '--set', 'MODE=fast', '--set', 'REASON=r', ...lab.flags], env);
    // A record written by hand (or an older runner) with a secret in it: history masks it too.
    mkdirSync(join(lab.records, 'masks'), { recursive: true });
    const forged = {
      ...lab.onlyRecord(),
      runId: '20200101T000000Z-masks-0000',
      operator: `${canary}@host`,
      startedAt: '2020-01-01T00:00:00.000Z',
    };
    writeFileSync(join(lab.records, 'masks', `${forged.runId}.json`), JSON.stringify(forged));
    const history = await runCli(['history', '--records', lab.records], env);
    const historyJson = await runCli(['history', '--json', '--records', lab.records], env);

    expect(show.stdout).toContain('Before this can run');
    expect(show.stdout).toContain(`param MODE: "${MASK}" is not one of fast, safe`);
    expect(JSON.parse(showJson.stdout).problems.join('\n')).toContain(`"${MASK}" is not one of`);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`param MODE: "${MASK}" is not one of`);
    expect(ran.code, ran.stderr).toBe(0);
    expect(history.stdout).toContain(`${MASK}@host`);
    expect(JSON.parse(historyJson.stdout).some((r: { operator: string }) => r.operator === `${MASK}@host`)).toBe(true);
    for (const r of [show, showJson, refused, ran, history, historyJson]) {
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(canary);
        expect(text).not.toContain(declared);
      }
    }
    // ...and nothing more: a plain value is shown as is everywhere.
    expect(show.stdout).toContain(visible);
    expect(JSON.parse(showJson.stdout).params.find((p: { name: string }) => p.name === 'LABEL').value).toBe(visible);
    expect(ran.stdout).toContain(`${MASK} ${MASK} fast ${visible}`);
    expect(ran.stdout).toMatch(/LABEL\s+visible-value\s+default/);
  });
});

describe('bash re-quoting a secret (set -x, printf %q, ${v@Q}) is masked', () => {
  it('whatever quotes, dollars, spaces or backslashes the secret holds (property, real bash)', () => {
    // Markers of letters bash never escapes: if either survives masking, part of the secret leaked.
    const middle = fc.string({ unit: fc.constantFrom(...'ab09\'" $`\\!&;()<>*?[]{}~#|'), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(middle, (m) => {
        const secret = `Zx${m}Qy`;
        const r = spawnSync(
          'bash',
          ['--norc', '-c', 'set -x; : "$S"; { set +x; } 2>/dev/null; printf "%q\\n" "$S"; echo "${S@Q}"'],
          {
            env: { PATH: process.env.PATH, S: secret },
            encoding: 'utf8',
          },
        );
        const masked = createMasker([secret]).mask(`${r.stdout}${r.stderr}`);
        expect(masked).not.toMatch(/Zx|Qy/);
        expect(masked.split(MASK).length - 1).toBe(3);
      }),
      { numRuns: 60 },
    );
  });
});
