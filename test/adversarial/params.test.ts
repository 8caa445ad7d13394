import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerRun } from '../../runner/commands/run.ts';
import { parseSetArgs, validateParamValue } from '../../runner/plan/params.ts';
import { parseProcedure } from '../../runner/format/parse.ts';
import { RESERVED_NAMES, reservedName } from '../../runner/schemas/runbook.ts';
import { kubeconfigText, makeLab, runCli, step, LAB_INVENTORY, type Lab } from '../run/helpers.ts';

/** Names the runner must refuse, one or more per entry of the reserved list (prefixes get a random tail). */
const reservedArb = fc
  .tuple(fc.constantFrom(...RESERVED_NAMES), fc.stringMatching(/^[A-Z0-9_]{0,6}$/))
  .map(([r, tail]) => (r.prefix ? r.name + tail : r.name));
const plainArb = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).filter((n) => !reservedName(n));

/** The `--set` values commander hands to the runner, for these argv words. */
function setsAfterCommander(words: string[]): string[] {
  const program = new Command('runbook').exitOverride();
  registerRun(program);
  let seen: string[] = [];
  program.commands[0]!.action((_ref: string, opts: { set?: string[] }) => {
    seen = opts.set ?? [];
  });
  program.parse(['node', 'runbook', 'run', 'page', ...words]);
  return seen;
}

describe('--set, whatever the spelling', () => {
  it('a name given twice is an error (any spelling, any values), never "last one wins"', () => {
    fc.assert(
      fc.property(plainArb, fc.string(), fc.string(), fc.nat(2), (name, v1, v2, pick) => {
        fc.pre(!v1.startsWith('-') && !v2.startsWith('-'));
        const spell = (v: string) =>
          [['--set', `${name}=${v}`], [`--set=${name}=${v}`], ['--set', `${name}=${v}`]][pick]!;
        const sets = setsAfterCommander([...spell(v1), ...spell(v2)]);
        expect(sets).toEqual([`${name}=${v1}`, `${name}=${v2}`]);
        const { problems } = parseSetArgs(sets);
        expect(problems.map((p) => p.message)).toContain(`--set ${name} is given more than once: give each param once`);
        for (const p of problems) expect(p.message.includes(v1) && v1.length > 3).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('reserved names are refused in every spelling; names differing only in case are different names', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            reservedArb,
            plainArb,
            plainArb.map((n) => n.toLowerCase()),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        fc.string(),
        (names, value) => {
          fc.pre(!value.startsWith('-'));
          const words = names.flatMap((n, i) => (i % 2 ? [`--set=${n}=${value}`] : ['--set', `${n}=${value}`]));
          const { values, problems } = parseSetArgs(setsAfterCommander(words));
          for (const name of new Set(names)) {
            const reserved = reservedName(name);
            if (reserved) {
              expect(problems.some((p) => p.message.includes(`${name} is reserved`))).toBe(true);
              expect(values).not.toHaveProperty(name);
            } else expect(values[name]).toBe(value);
          }
          const repeated = names.filter((n, i) => names.indexOf(n) !== i && !reservedName(n));
          for (const name of repeated)
            expect(
              problems.some((p) => p.message === `--set ${name} is given more than once: give each param once`),
            ).toBe(true);
          if (!names.some((n) => reservedName(n)) && repeated.length === 0) expect(problems).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a name must be a shell variable name', () => {
    for (const bad of ['1A=x', 'A-B=x', 'A B=x', '=x', 'A.B=x', 'É=x', 'noequals']) {
      const { values, problems } = parseSetArgs([bad]);
      expect(values).toEqual({});
      expect(problems[0]!.message).toMatch(/write --set NAME=value/);
    }
  });
});

describe('param patterns', () => {
  it('match the whole value in linear time: a hostile --set value cannot hang the runner or pass with an extra line', () => {
    const started = performance.now();
    expect(validateParamValue('V', { pattern: '(a+)+$' }, `${'a'.repeat(5000)}!`)).toContain('does not match');
    expect(validateParamValue('V', { pattern: '(x+x+)+y' }, 'x'.repeat(5000))).toContain('does not match');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(validateParamValue('V', { pattern: 'v[0-9]+' }, 'v1\nrm -rf /')).toContain('does not match');
    expect(validateParamValue('V', { pattern: 'a|b' }, 'ab')).toContain('does not match');
    expect(validateParamValue('V', { pattern: 'v[0-9]+' }, 'v12')).toBeUndefined();
    expect(validateParamValue('V', { pattern: '(a)\\1' }, 'aa')).toContain('cannot be matched in linear time');
  });
});

describe('reserved names in the frontmatter', () => {
  const page = (name: string) =>
    `---\ntitle: t\nrunbook:\n  risk: low\n  params:\n    SAFE_NAME:\n      default: x\n    ${name}:\n      default: y\n---\n\n\`\`\`bash step=a\ntrue\n\`\`\`\n`;

  it('every reserved name is an error at its own line, saying why; other UPPER_CASE names pass', () => {
    fc.assert(
      fc.property(fc.oneof(reservedArb, plainArb), (name) => {
        fc.pre(name !== 'SAFE_NAME');
        const procedure = parseProcedure(page(name), 'page.mdx', { kind: 'runbook' });
        const errors = procedure.diagnostics.filter((d) => d.severity === 'error');
        if (reservedName(name)) {
          expect(errors).toHaveLength(1);
          expect(errors[0]).toMatchObject({ line: 8, rule: 'frontmatter' });
          expect(errors[0]!.message).toContain(`param ${name} is reserved: `);
        } else expect(errors).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

describe('runbook check and run say why (real processes)', () => {
  it('check points at the reserved param; run refuses it and --set PATH=…, executing nothing', async () => {
    const marker = join(lab.dir, 'ran');
    const bad = lab.runbook(
      'reserved',
      step('step=a', `touch ${marker}`),
      '  params:\n    LD_PRELOAD:\n      default: /tmp/evil.so\n',
    );
    const check = await runCli(['check', '--inventory', lab.inventory, bad], lab.env);
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(
      /reserved\.mdx:9:1 {2}error {2}frontmatter {2}runbook\.params\.LD_PRELOAD: param LD_PRELOAD is reserved: the dynamic loader/,
    );
    expect((await runCli(['run', bad, ...lab.flags], lab.env)).code).toBe(2);
    const good = lab.runbook('plain', step('step=a', `touch ${marker}`));
    for (const args of [
      ['--set', 'PATH=/tmp'],
      ['--set=BASH_ENV=/tmp/x'],
      ['--set', 'RUNBOOK_LOCK_DIR=/'],
      ['--set', 'SSH_AUTH_SOCK=/x'],
    ]) {
      const r = await runCli(['run', good, ...args, ...lab.flags], lab.env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is reserved: .+; no runbook can take it as a param/);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('a repeated --set refuses the run; the run prints every resolved param and its source before the first step', async () => {
    const marker = join(lab.dir, 'ran');
    const file = lab.runbook(
      'sources',
      step('step=a', `touch ${marker}; echo "MODE=$MODE"`),
      '  params:\n    MODE:\n      default: safe\n    ZONE:\n      default: eu\n    DB_PASSWORD:\n      secret: true\n',
    );
    const twice = await runCli(['run', file, '--set', 'MODE=a', '--set=MODE=b', ...lab.flags], lab.env);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('--set MODE is given more than once');
    expect(existsSync(marker)).toBe(false);

    // A stale exported ZONE would silently win over the default: the run says where each value came from.
    const r = await runCli(['run', file, '--set', 'MODE=fast', ...lab.flags], {
      ...lab.env,
      ZONE: 'stale',
      DB_PASSWORD: 'hunter2-hunter2',
    });
    expect(r.code, r.stderr).toBe(0);
    const params = r.stdout.indexOf('Params');
    expect(params).toBeGreaterThanOrEqual(0);
    expect(params).toBeLessThan(r.stdout.indexOf('▶ 1/1'));
    expect(r.stdout).toMatch(/MODE\s+fast\s+--set/);
    expect(r.stdout).toMatch(/ZONE\s+stale\s+environment/);
    expect(r.stdout).toMatch(/DB_PASSWORD\s+••••\s+environment \(secret\)/);
    expect(r.stdout).not.toContain('hunter2-hunter2');
  });
});

describe('the accepted kube context is pinned for every step', () => {
  it('a step that rewrites the kubeconfig cannot move later steps: they see the accepted context and server, from a private file', async () => {
    mkdirSync(join(lab.dir, 'pki'));
    // A relative certificate path: kubectl reads it relative to the kubeconfig, so the pinned copy makes it absolute.
    writeFileSync(
      lab.kubeconfig,
      kubeconfigText('lab-test', 'https://127.0.0.1:6443').replace(
        'cluster: { server: https://127.0.0.1:6443 }',
        'cluster: { server: https://127.0.0.1:6443, certificate-authority: pki/ca.crt }',
      ),
    );
    const evil = kubeconfigText('elsewhere', 'https://127.0.0.9:6443');
    const file = lab.runbook(
      'pinned',
      step('step=rewrite', `cat > ${lab.kubeconfig} <<'EOF'\n${evil}EOF\necho rewritten`) +
        step('step=view', 'echo "KUBECONFIG=$KUBECONFIG"; stat -c "mode %a" "$KUBECONFIG"; cat "$KUBECONFIG"'),
    );
    const r = await runCli(['run', file, '--json', ...lab.flags], lab.env);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout).steps[1].output as string;
    const path = /^KUBECONFIG=(.*)$/m.exec(view)![1]!;
    expect(path).not.toContain(':'); // that file alone, not merged with the operator's
    expect(view).toContain('mode 600');
    const pinned = JSON.parse(view.slice(view.indexOf('{')));
    expect(pinned['current-context']).toBe('lab-test');
    expect(pinned.clusters).toEqual([
      {
        name: 'lab-test-cluster',
        cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': join(lab.dir, 'pki/ca.crt') },
      },
    ]);
    expect(pinned.users).toEqual([{ name: 'lab-test-user', user: { token: 'not-a-real-token' } }]);
    expect(view).not.toContain('127.0.0.9');
    expect(readFileSync(lab.kubeconfig, 'utf8')).toContain('127.0.0.9'); // the operator's file did change
    expect(existsSync(path)).toBe(false); // removed with the run's temp folder
  });

  it('a resume is guarded and pinned again, and refuses a cluster other than the one the run started on', async () => {
    const gate = join(lab.dir, 'gate');
    const file = lab.runbook(
      'moved',
      step('step=a', 'true') + step('step=b', `[ -f ${gate} ]; grep -o '127.0.0.[0-9]:6443' "$KUBECONFIG"`),
    );
    expect((await runCli(['run', file, ...lab.flags], lab.env)).code).toBe(1);
    const { runId } = lab.onlyRecord();
    writeFileSync(gate, '');
    // The kubeconfig now points elsewhere: the guard refuses, as for a new run.
    writeFileSync(lab.kubeconfig, kubeconfigText('lab-test', 'https://127.0.0.2:6443'));
    const guarded = await runCli(['resume', runId, ...lab.flags], lab.env);
    expect(guarded.code).toBe(2);
    expect(guarded.stderr).toContain('found context "lab-test" with server https://127.0.0.2:6443');
    // Inventory and kubeconfig both moved: the guard passes, but this run started on another cluster.
    writeFileSync(lab.inventory, LAB_INVENTORY.replace('127.0.0.1:6443', '127.0.0.2:6443'));
    const moved = await runCli(['resume', runId, ...lab.flags], lab.env);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain(`run ${runId} ran against https://127.0.0.1:6443`);
    writeFileSync(lab.inventory, LAB_INVENTORY);
    writeFileSync(lab.kubeconfig, kubeconfigText('lab-test', 'https://127.0.0.1:6443'));
    const resumed = await runCli(['resume', runId, ...lab.flags], lab.env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(lab.onlyRecord().steps[1]!.output).toBe('127.0.0.1:6443\n');
  });
});
