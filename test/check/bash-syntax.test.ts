import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BashSyntaxChecker, type SyntaxResult } from '../../runner/check/bash-syntax.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bash-syntax-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const marker = join(tmp, 'executed');

const VALID = [
  'kubectl get nodes',
  'for n in $(kubectl get nodes -o name); do\n  kubectl get "$n"\ndone',
  'if [ -f /etc/x ]; then\n  echo yes\nelse\n  echo no\nfi',
  "cat <<'EOF' | kubectl apply -f -\n{\n    }\n}\nEOF",
  'cat <<-EOF\n\t    { \n\tEOF',
  '{ echo a; echo b; } > /dev/null',
  'f() {\n  echo "$1"\n}\nf x',
  'case "$X" in\n  a) echo a ;;\n  *) echo other ;;esac'.replace('\\esac', '\nesac'),
  `touch ${marker}`,
  `echo "$(touch ${marker})"`,
  'while read -r line; do echo "$line"; done < /dev/null',
  'echo a \\\n  b \\\n  c',
  '# only a comment',
  'x=$(( 1 + 2 ))\n[[ $x == 3 ]] && echo ok',
];
const BROKEN = [
  'echo "unterminated',
  "echo 'single open",
  'if true; then\n  echo x',
  'for x in a b; do\n  echo $x',
  'echo $(date',
  'echo ok\nfi',
  'echo `date',
  'while true; do echo; done; done',
  // Closes the wrapper's braces and opens new ones: passes inside a naive `f () { … }` batch.
  'echo hi\n}\n{ echo sneaky',
  'echo hi\n}\necho ${',
  `touch ${marker}\nif`,
];
/** bash -n accepts these but warns: reported as warnings. */
const WARNING = ['cat <<EOF\nnot closed'];

/** What `bash -n` says about a snippet on its own: the reference the chunked check must reproduce. */
function bashN(code: string): SyntaxResult {
  const r = spawnSync('bash', ['--norc', '--noprofile', '-n'], {
    input: `${code}\n`,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LC_ALL: 'C' },
  });
  const line = Number(/line (\d+):/.exec(r.stderr)?.[1] ?? 1);
  if (r.status === 0) return r.stderr.trim() ? { ok: true, warning: true, line } : { ok: true };
  return { ok: false, line };
}

describe('bash syntax check in chunks', () => {
  it('agrees with bash -n on every step, however many steps share a chunk', async () => {
    // ~1000 steps of ~140 characters: several chunks, broken steps spread over them.
    const templates = [...VALID, ...BROKEN, ...WARNING];
    const pad = (i: number) => `# step ${i} ${'x'.repeat(120)}\n`;
    const reference = templates.map((t) => bashN(`${pad(0)}${t}`));
    const picks = Array.from({ length: 1000 }, (_, i) =>
      i % 97 === 13 ? VALID.length + (((i / 97) | 0) % (BROKEN.length + WARNING.length)) : i % VALID.length,
    );
    const checker = new BashSyntaxChecker();
    const pending = picks.map((t, i) => checker.check(`${pad(i)}${templates[t]}`));
    checker.flush();
    const results = await Promise.all(pending);
    checker.close();
    results.forEach((r, i) => {
      const want = reference[picks[i]!]!;
      const label = `step ${i}: ${JSON.stringify(templates[picks[i]!])}`;
      expect({ ok: r.ok, warning: r.warning === true }, label).toEqual({ ok: want.ok, warning: want.warning === true });
      if (!r.ok || r.warning) expect(r.line, label).toBe(want.line);
    });
    expect(results.filter((r) => !r.ok).length).toBeGreaterThan(5);
    expect(existsSync(marker), 'a step was executed').toBe(false);
  });

  it('fails a chunk whose one bad step closes the braces early', async () => {
    const checker = new BashSyntaxChecker();
    const codes = [
      ...Array.from({ length: 50 }, () => 'kubectl get nodes'),
      'echo hi\n}\n{ echo sneaky',
      ...Array.from({ length: 50 }, () => 'echo ok'),
    ];
    const pending = codes.map((c) => checker.check(c));
    checker.flush();
    const results = await Promise.all(pending);
    checker.close();
    expect(results.map((r, i) => (r.ok ? -1 : i)).filter((i) => i >= 0)).toEqual([50]);
    expect(results[50]!.message).toContain("unexpected token `}'");
  });
});
