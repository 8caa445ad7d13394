import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runbook } from '../helpers/cli.ts';
import { makeLab, type Lab } from '../run/helpers.ts';

/**
 * `run` executes only what `check` accepts. The detector itself is fuzzed in destructive.test.ts;
 * this proves the runner consults it: an unconfirmed destructive step, in any of these spellings,
 * refuses the whole run (exit 2), with --yes and in a dry run, and not one command runs.
 */
let lab: Lab | undefined;
afterEach(() => lab?.cleanup());

const SPELLINGS = [
  'rm -f -r "$TARGET"',
  'find "$TARGET" -delete',
  'sudo -n systemctl reboot',
  `bash -c 'rm --recursive --force "$0"' "$TARGET"`,
  'env X=1 nohup timeout 5 rm -rf -- "$TARGET"',
];

describe('runbook run refuses a page that check rejects', () => {
  for (const line of SPELLINGS) {
    it(`unconfirmed: ${line}`, () => {
      lab = makeLab();
      const marker = join(lab.dir, 'ran');
      const target = join(lab.dir, 'victim');
      const page = lab.runbook(
        'gate',
        `\`\`\`bash step=first\ntouch ${marker}\n\`\`\`\n\n\`\`\`bash step=wipe\n${line}\n\`\`\`\n`,
      );
      const env = { ...lab.env, TARGET: target };
      for (const extra of [['--yes'], ['--dry-run']]) {
        const r = runbook(['run', page, ...lab.flags, ...extra], { env });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/refusing to run .*gate\.mdx: runbook check finds 1 error; nothing was run/);
        expect(r.stderr).toMatch(/gate\.mdx:\d+:1 {2}destructive-unconfirmed {2}step "wipe"/);
      }
      expect(existsSync(marker)).toBe(false);
      expect(lab.readRecords()).toEqual([]);
    });
  }

  it('the same step with confirm runs (with --yes)', () => {
    lab = makeLab();
    const page = lab.runbook('gate-ok', '```bash step=wipe confirm\nrm -f -r "$TARGET"\n```\n');
    const r = runbook(['run', page, ...lab.flags, '--yes'], { env: { ...lab.env, TARGET: join(lab.dir, 'victim') } });
    expect(r.code, r.stderr).toBe(0);
  });
});
