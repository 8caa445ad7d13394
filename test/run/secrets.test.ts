import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { makeLab, runCli, step, type Lab } from './helpers.ts';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('secrets never leave the runner unmasked', () => {
  it('a canary secret param and a *_TOKEN variable are absent from every byte written: terminal, --json, records, errors', async () => {
    const secret = `canary-${randomBytes(8).toString('hex')}`;
    const token = `tok-${randomBytes(8).toString('hex')}`;
    const forms = (v: string) => [v, Buffer.from(v).toString('base64').replace(/=+$/, ''), encodeURIComponent(v)];
    const file = lab.runbook(
      'secretive',
      step('step=plain', 'echo "password: $DB_PASSWORD"; echo "token: $API_TOKEN"') +
        step(
          'step=encoded',
          'echo "basic: $(printf %s "$DB_PASSWORD" | base64)"; echo "{\\"p\\":\\"$DB_PASSWORD\\"}"',
        ) +
        // Half the secret, a pause (a separate chunk), then the rest on the same line.
        step('step=split', 'printf "%s" "split: ${DB_PASSWORD:0:10}"; sleep 0.3; printf "%s\\n" "${DB_PASSWORD:10}"') +
        step('step=fails', 'echo "cannot log in with $DB_PASSWORD" >&2; exit 4'),
      '  params:\n    DB_PASSWORD:\n      secret: true\n      required: true\n    SHOWN:\n      default: visible\n    API_TOKEN:\n      description: not declared secret, but named like one\n',
    );
    const env = { ...lab.env, DB_PASSWORD: secret, API_TOKEN: token };
    const run = await runCli(['run', file, '--json', ...lab.flags], env);
    expect(run.code).toBe(1);
    const { runId } = lab.readRecords()[0]!.record;
    const resumed = await runCli(['resume', runId, '--json', ...lab.flags], env);
    expect(resumed.code).toBe(1); // the same failing step, with both secrets read again from the environment
    const dry = await runCli(['run', file, '--dry-run', ...lab.flags], env);
    const dryJson = await runCli(['run', file, '--dry-run', '--json', ...lab.flags], env);
    const history = await runCli(['history', '--json', ...lab.flags], env);
    // A param whose name says TOKEN, rejected by its pattern: the message must not echo the value.
    const invalid = lab.runbook(
      'badtoken',
      step('step=x', 'true'),
      '  params:\n    GITHUB_TOKEN:\n      pattern: "ghp_[a-z]+"\n',
    );
    const given = `ghp_X${randomBytes(8).toString('hex')}`;
    const rejected = await runCli(['run', invalid, '--set', `GITHUB_TOKEN=${given}`, ...lab.flags], env);
    expect(rejected.code).toBe(2);

    const written = [run, resumed, dry, dryJson, history, rejected].flatMap((r) => [r.stdout, r.stderr]);
    const files = filesUnder(lab.dir).filter((f) => !f.endsWith('.mdx'));
    written.push(...files.map((f) => readFileSync(f, 'utf8')));
    for (const value of [...forms(secret), ...forms(token), given]) {
      for (const text of written) expect(text).not.toContain(value);
    }

    // The steps did print them, masked; the record says where.
    const record = JSON.parse(run.stdout);
    expect(record.steps.map((s: { output: string }) => s.output)).toEqual([
      'password: ••••\ntoken: ••••\n',
      'basic: ••••\n{"p":"••••"}\n',
      'split: ••••\n',
      'cannot log in with ••••\n',
    ]);
    expect(record.params).toEqual([
      { name: 'DB_PASSWORD', value: '••••', source: 'env', secret: true },
      { name: 'SHOWN', value: 'visible', source: 'default', secret: false },
      { name: 'API_TOKEN', value: '••••', source: 'env', secret: true },
    ]);
    expect(dry.stdout).toMatch(/API_TOKEN\s+••••\s+environment/);
    // Named like a secret, so it is one: the message says so instead of echoing the value.
    expect(rejected.stderr).toContain('param GITHUB_TOKEN: (secret value) does not match');
  });

  it('resume needs secret params from the environment again', async () => {
    const file = lab.runbook(
      'needs-secret',
      step('step=fails', 'exit 1'),
      '  params:\n    DB_PASSWORD:\n      secret: true\n      required: true\n',
    );
    await runCli(['run', file, ...lab.flags], { ...lab.env, DB_PASSWORD: 'first-secret-value' });
    const { runId } = lab.readRecords()[0]!.record;
    const r = await runCli(['resume', runId, ...lab.flags], { ...lab.env, DB_PASSWORD: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('export DB_PASSWORD=');
  });
});
