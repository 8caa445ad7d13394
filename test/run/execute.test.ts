import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigText, livingProcesses, makeLab, runCli, step, type Lab } from './helpers.ts';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

const run = (file: string, ...args: string[]) => runCli(['run', file, ...lab.flags, ...args], lab.env);

describe('runbook run executes local steps in bash', () => {
  it('runs steps in order with params as environment variables, strict mode, and records each one', async () => {
    const file = lab.runbook(
      'params',
      step('step=greet title="Greet"', 'echo "hello $WHO from $(pwd)"; echo "to stderr" >&2') +
        step('step=strict', 'echo "unset: ${NOT_SET_ANYWHERE}"'),
      '  params:\n    WHO:\n      default: world\n',
    );
    const r = await run(file, '--set', 'WHO=operator');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('│ hello operator from');
    expect(r.stdout).toContain('│ to stderr');
    const record = lab.onlyRecord();
    expect(record.status).toBe('failed');
    expect(record.params).toEqual([{ name: 'WHO', value: 'operator', source: 'set', secret: false }]);
    expect(record.steps.map((s) => [s.id, s.status, s.exitCode])).toEqual([
      ['greet', 'succeeded', 0],
      ['strict', 'failed', 1],
    ]);
    // set -u made the unset variable an error; the message is in the output tail.
    expect(record.steps[1]!.output).toContain('NOT_SET_ANYWHERE: unbound variable');
    expect(record.steps[0]!.output).toBe(`hello operator from ${join(import.meta.dirname, '../..')}\nto stderr\n`);
  });

  it('stops at a failing step: exit 1, later steps stay pending, the summary and resume command are printed', async () => {
    const marker = join(lab.dir, 'after-failure');
    const file = lab.runbook(
      'fails',
      step('step=one', 'echo one') +
        step('step=two title="Breaks"', 'echo "about to fail"; exit 7') +
        step('step=three', `touch ${marker}`),
    );
    const r = await run(file);
    expect(r.code).toBe(1);
    expect(existsSync(marker)).toBe(false);
    const record = lab.onlyRecord();
    expect(record.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'pending']);
    expect(record.steps[1]).toMatchObject({
      exitCode: 7,
      attempts: 1,
      error: 'exit code 7',
      output: 'about to fail\n',
    });
    expect(r.stdout).toMatch(/✗ 2\/3 two failed in \S+: exit code 7/);
    expect(r.stdout).toMatch(/#\s+STEP\s+TARGET\s+STATUS/);
    expect(r.stdout).toContain(`runbook resume ${record.runId} --records ${lab.records} --inventory ${lab.inventory}`);
  });

  it('colours only when allowed: FORCE_COLOR turns colour on without a terminal, NO_COLOR wins; no spinner without a terminal', async () => {
    const file = lab.runbook('colours', step('step=one', 'echo plain'));
    const coloured = await runCli(['run', file, ...lab.flags], { ...lab.env, NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(coloured.stdout).toMatch(/\x1b\[\d+m/);
    const plain = await runCli(['run', file, ...lab.flags], { ...lab.env, NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(plain.stdout).not.toMatch(/\x1b/);
    expect(plain.stdout).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(plain.stdout).toMatch(/^▶ 1\/1 one {2}colours {2}\(local\)\n {2}│ plain\n✓ 1\/1 one succeeded in \S+\n/m);
  });

  it('continue-on-error lets the run go on and succeed, keeping the failure in the record', async () => {
    const file = lab.runbook(
      'tolerant',
      step('step=flaky continue-on-error', 'exit 3') + step('step=after', 'echo after'),
    );
    const r = await run(file);
    expect(r.code).toBe(0);
    const record = lab.onlyRecord();
    expect(record.status).toBe('succeeded');
    expect(record.steps.map((s) => s.status)).toEqual(['failed', 'succeeded']);
  });

  it('retries a failing step after retry-delay and records the attempts', async () => {
    const counter = join(lab.dir, 'count');
    writeFileSync(counter, '0');
    const file = lab.runbook(
      'retries',
      step(
        'step=eventually retries=3 retry-delay=200ms',
        `n=$(( $(cat ${counter}) + 1 )); echo $n > ${counter}; echo "attempt $n"; [ "$n" -ge 3 ]`,
      ),
    );
    const started = Date.now();
    const r = await run(file);
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(readFileSync(counter, 'utf8').trim()).toBe('3');
    const record = lab.onlyRecord();
    expect(record.steps[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(record.steps[0]!.output).toContain('── attempt 3/4 ──\nattempt 3');
    expect(r.stdout).toContain('attempt 1/4 exit code 1; retrying in 200ms');
  });

  it('gives up after the last retry', async () => {
    const file = lab.runbook('hopeless', step('step=never retries=1 retry-delay=100ms', 'echo nope; exit 2'));
    const r = await run(file);
    expect(r.code).toBe(1);
    expect(lab.readRecords()[0]!.record.steps[0]).toMatchObject({ status: 'failed', attempts: 2, exitCode: 2 });
  });

  it('fails a step whose output does not match expect=, and passes one that does', async () => {
    const file = lab.runbook(
      'expectations',
      step("step=ready expect='Ready\\s+v1\\.34'", 'echo "node-1   Ready    v1.34.3+k3s1"') +
        step("step=version expect='v1\\.35'", 'echo "node-1   Ready    v1.34.3+k3s1"'),
    );
    const r = await run(file);
    expect(r.code).toBe(1);
    const steps = lab.readRecords()[0]!.record.steps;
    expect(steps[0]!.status).toBe('succeeded');
    // The pattern arrives as written (format/attributes.ts reads fence attributes before Markdown unescaping).
    expect(steps[1]).toMatchObject({
      status: 'failed',
      exitCode: 0,
      error: 'the output did not match expect=/v1\\.35/',
    });
  });

  it('kills the whole process tree on timeout, background grandchildren and TERM-ignoring ones included', async () => {
    // Unique sleep lengths mark this test's processes.
    const file = lab.runbook(
      'timeout',
      step(
        'step=hang timeout=1s',
        [
          'sleep 4321.1 &',
          '(sleep 4321.2; echo never) &',
          `bash -c 'trap "" TERM; sleep 4321.3' &`,
          'echo "spawned"',
          'sleep 4321.4',
        ].join('\n'),
      ),
    );
    const r = await run(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('spawned');
    const record = lab.onlyRecord();
    expect(record.steps[0]).toMatchObject({
      status: 'timed-out',
      error: 'timed out after 1s; its processes were killed',
    });
    expect(livingProcesses('sleep 4321.')).toEqual([]);
    // Killing process trees must not print Node's DEP0190 warning (or any other) at the operator.
    expect(r.stderr).not.toMatch(/DEP0|Warning/);
  });

  it('ends background jobs a step leaves behind when it exits', async () => {
    const file = lab.runbook('leftovers', step('step=forks', 'sleep 4322.1 & echo forked'));
    const r = await run(file);
    expect(r.code).toBe(0);
    expect(livingProcesses('sleep 4322.')).toEqual([]);
  });

  it('outside a ForEach, NODE is unset even when the runner inherited one (npm sets NODE under npx)', async () => {
    const file = lab.runbook(
      'no-node',
      step('step=where', 'echo "node=${NODE:-unset} address=${NODE_ADDRESS:-unset} other=$OTHER"'),
    );
    const r = await runCli(['run', file, ...lab.flags], {
      ...lab.env,
      NODE: '/usr/bin/node',
      NODE_ADDRESS: '10.0.0.1',
      OTHER: 'kept',
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(lab.onlyRecord().steps[0]!.output).toBe('node=unset address=unset other=kept\n');
  });

  it('runs in cwd= relative to the project root, with stdin closed', async () => {
    const file = lab.runbook(
      'where',
      step('step=here cwd=runner', 'pwd; cat || echo "no stdin"; test ! -t 0 && echo "not a tty"'),
    );
    const r = await run(file);
    expect(r.code).toBe(0);
    const out = lab.readRecords()[0]!.record.steps[0]!.output;
    expect(out).toMatch(/\/runner\n/);
    expect(out).toContain('not a tty');
  });

  it('applies yaml apply steps through the API, not kubectl: an API nobody answers fails the step, saying so', async () => {
    // A kubectl on PATH that leaves a mark if anything calls it; the lab's API address has no server.
    const bin = join(lab.dir, 'bin');
    const { mkdirSync, chmodSync } = await import('node:fs');
    mkdirSync(bin);
    const called = join(lab.dir, 'kubectl-called');
    writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\ntouch ${called}\n`);
    chmodSync(join(bin, 'kubectl'), 0o755);
    const file = lab.runbook(
      'manifest',
      '```yaml step=cm apply\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  home: $HOME\n```\n',
    );
    const r = await runCli(['run', file, ...lab.flags], {
      ...lab.env,
      PATH: `${bin}:${process.env.PATH}`,
      RUNBOOK_API_TIMEOUT_MS: '3000',
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(existsSync(called)).toBe(false);
    const step = lab.onlyRecord().steps[0]!;
    expect(step.status).toBe('failed');
    expect(step.error).toMatch(/the API server https:\/\/127\.0\.0\.1:6443 did not answer: connection refused/);
    expect(step.output).toMatch(/^error: the API server .* did not answer/);
    expect(step.applied).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'demo', result: 'failed', error: step.error },
    ]);
  });
});

describe('runbook run refuses before executing anything', () => {
  it('with --dry-run: prints the resolved plan and executes nothing', async () => {
    const marker = join(lab.dir, 'ran');
    const file = lab.runbook(
      'dry',
      step('step=touch title="Touch it"', `touch ${marker}`),
      '  params:\n    SIZE:\n      required: true\n',
    );
    const r = await run(file, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1. touch  Touch it');
    expect(r.stdout).toContain('Dry run: nothing was executed.');
    expect(r.stdout).toContain('param SIZE is required');
    expect(r.stdout).toContain('kube context check skipped');
    expect(existsSync(marker)).toBe(false);
    expect(lab.readRecords()).toEqual([]);
  });

  it('when a step runs on a node it cannot reach (no ssh client here): nothing half-runs', async () => {
    const marker = join(lab.dir, 'ran');
    const file = lab.runbook(
      'remote',
      step('step=local-first', `touch ${marker}`) + step('step=on-node on=node-1', 'uptime'),
    );
    // A PATH with bash and touch but no ssh.
    const bin = join(lab.dir, 'bin-no-ssh');
    mkdirSync(bin);
    for (const tool of ['bash', 'touch'])
      symlinkSync(execSync(`command -v ${tool}`, { shell: '/bin/bash' }).toString().trim(), join(bin, tool));
    const env = { ...lab.env, PATH: bin };
    const r = await runCli(['run', file, ...lab.flags], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2. on-node: runs on node-1 over SSH');
    expect(r.stderr).toContain('Nothing was run');
    expect(existsSync(marker)).toBe(false);
    expect(lab.readRecords()).toEqual([]);
    // Only the local step is fine.
    expect((await runCli(['run', file, ...lab.flags, '--only', 'local-first'], env)).code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('when the kube context points at another cluster, saying what it expected and found', async () => {
    const marker = join(lab.dir, 'ran');
    const file = lab.runbook('guarded', step('step=touch', `touch ${marker}`));
    writeFileSync(lab.kubeconfig, kubeconfigText('lab-test', 'https://127.0.0.9:6443'));
    const r = await run(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected context "lab-test" with server https://127.0.0.1:6443');
    expect(r.stderr).toContain('found context "lab-test" with server https://127.0.0.9:6443');
    expect(existsSync(marker)).toBe(false);
  });

  it('honours KUBECONFIG with several files and --context, and pins that context for the steps', async () => {
    const other = join(lab.dir, 'other-kubeconfig');
    writeFileSync(other, kubeconfigText('elsewhere', 'https://127.0.0.8:6443'));
    const file = lab.runbook('contexts', step('step=show', 'echo "KUBECONFIG=$KUBECONFIG"; cat "$KUBECONFIG"'));
    const env = { ...lab.env, KUBECONFIG: `${other}:${lab.kubeconfig}` };
    // The first file's current-context (elsewhere) wins, as with kubectl: refused.
    const refused = await runCli(['run', file, ...lab.flags], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('found context "elsewhere" with server https://127.0.0.8:6443');
    const ok = await runCli(['run', file, ...lab.flags, '--context', 'lab-test'], env);
    expect(ok.code).toBe(0);
    const out = lab.readRecords()[0]!.record.steps[0]!.output;
    // Steps get a pinned kubeconfig of their own holding only the accepted context (runner/cluster/pin.ts).
    const [first, ...rest] = out.split('\n');
    expect(first).toMatch(/^KUBECONFIG=\S+\/kubeconfig$/);
    expect(first).not.toContain(':');
    const pinned = JSON.parse(rest.join('\n'));
    expect(pinned['current-context']).toBe('lab-test');
    expect(pinned.contexts.map((c: { name: string }) => c.name)).toEqual(['lab-test']);
    expect(pinned.clusters[0].cluster.server).toBe('https://127.0.0.1:6443');
    // Nothing listens there: the lab's pages say `api: optional`, so the run goes on and the record says why it has no identity.
    expect(lab.readRecords()[0]!.record.cluster).toEqual({
      name: 'homelab',
      context: 'lab-test',
      server: 'https://127.0.0.1:6443',
      identity: 'unreachable',
      error: 'the API server https://127.0.0.1:6443 did not answer: connection refused',
    });
  });

  it('when there is no kubeconfig at all', async () => {
    const file = lab.runbook('nokube', step('step=x', 'true'));
    const r = await runCli(['run', file, ...lab.flags], { ...lab.env, KUBECONFIG: join(lab.dir, 'missing') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no kube context is set: expected context "lab-test"');
  });

  it('on bad params, unknown --from steps and pages with errors', async () => {
    const file = lab.runbook('strict', step('step=x', 'true'), '  params:\n    N:\n      pattern: "[0-9]+"\n');
    expect((await run(file, '--set', 'N=abc')).stderr).toContain('param N: "abc" does not match the pattern [0-9]+');
    expect((await run(file, '--from', 'nope')).stderr).toContain('--from nope: no such step');
    const broken = lab.runbook('broken', step('step=Bad_Id', 'true'));
    const r = await run(broken);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.mdx:\d+:\d+/);
    expect(lab.readRecords()).toEqual([]);
  });
});

describe('--from and --only', () => {
  it('skip the steps they leave out and record them as skipped', async () => {
    const file = lab.runbook('partial', step('step=a', 'echo a') + step('step=b', 'echo b') + step('step=c', 'echo c'));
    expect((await run(file, '--from', 'b')).code).toBe(0);
    expect((await run(file, '--only', '1')).code).toBe(0);
    const byStatus = lab
      .readRecords()
      .map(({ record }) => record.steps.map((s) => s.status).join(','))
      .sort();
    expect(byStatus).toEqual(['skipped,succeeded,succeeded', 'succeeded,skipped,skipped']);
  });
});
