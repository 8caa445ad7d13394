import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMasker, MASK, secretValues } from '../../runner/secrets/mask.ts';
import { OutputTail } from '../../runner/execute/tail.ts';
import { maskInPieces } from '../helpers/stream.ts';

describe('masking secrets', () => {
  it('masks the value and its base64, URL and JSON forms, and each line of a multi-line secret', () => {
    const m = createMasker(['s3cr3t/"pa ss"', '-----BEGIN KEY-----\nMIIEabcdefgh\n-----END KEY-----']);
    const b64 = Buffer.from('s3cr3t/"pa ss"').toString('base64');
    expect(
      m.mask(
        `a s3cr3t/"pa ss" b ${b64} c ${encodeURIComponent('s3cr3t/"pa ss"')} d ${JSON.stringify('s3cr3t/"pa ss"')}`,
      ),
    ).toBe(`a ${MASK} b ${MASK} c ${MASK} d "${MASK}"`);
    expect(m.mask('key line MIIEabcdefgh here')).toBe(`key line ${MASK} here`);
  });

  it('picks declared secret params and secret-looking environment variables, ignoring short values', () => {
    const values = secretValues(
      [
        { name: 'PASS', value: 'p1', source: 'env', secret: true },
        { name: 'SIZE', value: '10Gi', source: 'set', secret: false },
      ],
      {
        GITHUB_TOKEN: 'ghp_abcdef',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
        KEYMAP: 'us',
        HOME: '/root',
        DB_PASSWORD: 'hunter22',
      },
    );
    expect(values.sort()).toEqual(['ghp_abcdef', 'hunter22', 'p1', 'wJalrXUtnFEMI']);
  });

  it('never lets a secret through a stream, however the output is cut into chunks (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 24 }).filter((s) => s.trim().length > 0 && !s.includes(MASK[0]!)),
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }),
        fc.array(fc.nat(200), { maxLength: 12 }),
        (secret, noise, cuts) => {
          const text = noise.join(secret) + secret + noise.join('');
          const out = maskInPieces(createMasker([secret]), text, cuts);
          expect(out.replace(/[\r\n]/g, '')).not.toContain(secret.replace(/[\r\n]/g, ''));
          // The stream holds back exactly what could still grow into a match, so wherever the cuts fall
          // it masks the same spans as the whole text.
          expect(out).toBe(createMasker([secret]).mask(text));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('without secrets, passes text through untouched', () => {
    const m = createMasker([]);
    expect(m.active).toBe(false);
    expect(m.stream().push('abc')).toBe('abc');
  });
});

describe('OutputTail', () => {
  it('keeps the last bytes, starting at a line, and says it cut', () => {
    const tail = new OutputTail(100);
    for (let i = 0; i < 1000; i++) tail.push(`line ${i}\n`);
    const text = tail.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(100);
    expect(text.endsWith('line 999\n')).toBe(true);
    expect(text.startsWith('line ')).toBe(true);
    expect(tail.truncated).toBe(true);
  });

  it('does not split a multi-byte character', () => {
    const tail = new OutputTail(10);
    tail.push('ééééééééééé'); // 22 bytes, no newline
    expect(tail.text()).toMatch(/^é+$/);
  });
});
