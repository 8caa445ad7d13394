import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { UsageError } from '../../runner/errors.ts';
import { stepNamespace } from '../../runner/execute/step-namespace.ts';
import { stopProcesses, type ProcessRecord } from '../../scripts/sandbox-lib/processes.ts';
import {
  CA_BUNDLES,
  namespaceFile,
  operatorDown,
  startOperator,
  STEP_NAMESPACE_VAR,
} from '../../scripts/sandbox-lib/twin/operator.ts';
import { livingProcesses, runCli } from '../run/helpers.ts';
import { fence, listeners, twinProject } from './helpers.ts';

/**
 * The operator's machine of the twin (scripts/sandbox-lib/twin/operator.ts) on
 * the shared twin sandbox: a run with RUNBOOK_STEP_NAMESPACE runs its local steps
 * in a namespace with only `lo`, where the lab's hostnames answer from the twin
 * with a certificate the twin's CA signed, nothing else resolves or routes, and
 * the API and the nodes are still reached.
 */
const twin = inject('twin');
const project = twinProject(twin);
afterAll(() => project.cleanup());
const nsEnv = { ...project.env, [STEP_NAMESPACE_VAR]: namespaceFile(twin.stateDir) };
const HOST_FILES = ['/etc/hosts', '/etc/resolv.conf', '/etc/nsswitch.conf', ...CA_BUNDLES];
const digest = (files: readonly string[]) =>
  files.map((f) => `${f} ${existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex') : 'absent'}`);
const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8');

function lastRecord(records: string, id: string) {
  const dir = join(records, id);
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .pop()!;
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    status: string;
    steps: Array<{ id: string; status: string; error?: string }>;
  };
}

describe('the operator machine of the twin', () => {
  it('scripts/sandbox env exports RUNBOOK_STEP_NAMESPACE', () => {
    const env = spawnSync('scripts/sandbox', ['env', '--state-dir', twin.stateDir], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(env.status, env.stderr).toBe(0);
    expect(env.stdout).toContain(`export ${STEP_NAMESPACE_VAR}=${namespaceFile(twin.stateDir)}`);
  });

  it('local steps run inside: the lab URL answers from the twin over verified TLS, nothing else resolves or routes, kubectl and ssh work', async () => {
    const hostBefore = digest(HOST_FILES);
    const mountsBefore = mounts();
    const listenBefore = listeners();
    const bgPid = join(project.dir, 'bg.pid');
    const page = project.page(
      'twin-operator',
      fence(
        'step=grafana',
        "curl -sS -D - https://grafana.home.jetzinger.com/api/health; echo; curl -sS -o /dev/null -w 'code=%{http_code} verify=%{ssl_verify_result}\\n' https://grafana.home.jetzinger.com/api/health",
      ) +
        fence(
          'step=isolated',
          [
            'echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" ,)"',
            'grep -c "lab twin" /etc/resolv.conf /etc/hosts',
            'if getent hosts example.com; then echo "example.com resolved"; exit 1; fi',
            'if curl -sS --max-time 5 https://example.com 2>&1; then exit 1; fi',
            'if timeout 5 bash -c "exec 3<>/dev/tcp/192.0.2.1/80" 2>&1; then exit 1; fi',
            'echo isolated-ok',
          ].join('\n'),
        ) +
        fence('step=kubectl', 'kubectl get node k3s-master -o name') +
        fence('step=ssh-from-inside', 'ssh -F "$RUNBOOK_SSH_CONFIG" -T k3s-master hostname') +
        fence('step=on-node on=k3s-master', 'echo "node=$(hostname)"') +
        fence('step=group timeout=2s', `sleep 60 & echo $! > ${bgPid}; echo "cwd=$(pwd)"; wait`),
    );
    const r = await runCli(
      ['run', page, '--inventory', twin.sandboxInventory, '--records', project.records, '--yes'],
      nsEnv,
    );
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/HTTP\/1\.1 200 OK/);
    expect(out).toMatch(/X-Lab-Twin: simulated/i);
    expect(out).toContain('"database":"ok"');
    expect(out).toContain('code=200 verify=0');
    expect(out).toContain('ifaces=lo,');
    expect(out).toContain('/etc/resolv.conf:1');
    expect(out).toMatch(/\/etc\/hosts:[1-9]/);
    expect(out).toContain('Could not resolve host: example.com');
    expect(out).toContain('Network is unreachable');
    expect(out).toContain('isolated-ok');
    expect(out).toContain('node/k3s-master');
    expect(out).toMatch(/ssh-from-inside[\s\S]*k3s-master/);
    expect(out).toContain('node=k3s-master');
    expect(out).toContain(`cwd=${process.cwd()}`); // the runner's cwd, set again after entering the mount namespace
    const rec = lastRecord(project.records, 'twin-operator');
    expect(rec.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'grafana:succeeded',
      'isolated:succeeded',
      'kubectl:succeeded',
      'ssh-from-inside:succeeded',
      'on-node:succeeded',
      'group:timed-out',
    ]);
    // The timed-out step's background job was stopped with it: the process group and marks still reach it.
    const pid = Number(readFileSync(bgPid, 'utf8'));
    expect(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')).toBe(
      false,
    );

    // The host saw none of it: its files, mount table and listeners are as they were.
    expect(digest(HOST_FILES)).toEqual(hostBefore);
    expect(mounts()).toBe(mountsBefore);
    expect(mounts()).not.toContain('twin/operator');
    expect([...listeners()].filter((l) => !listenBefore.has(l))).toEqual([]);
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('jetzinger');
  });

  it('a namespace file that does not lead to the twin refuses every local step, naming the variable', async () => {
    const fake = join(project.dir, 'fake', 'twin', 'operator');
    mkdirSync(fake, { recursive: true });
    // This test's own pid: alive, but not the twin's namespace (and in the host's network).
    writeFileSync(join(fake, 'namespace.json'), JSON.stringify({ pid: process.pid, init: join(fake, 'init.sh') }));
    const marker = join(project.dir, 'ran-on-host');
    const page = project.page('twin-operator-refused', fence('step=local', `touch ${marker}`));
    for (const value of [join(fake, 'namespace.json'), join(project.dir, 'absent.json')]) {
      const r = await runCli(
        ['run', page, '--inventory', twin.sandboxInventory, '--records', project.records, '--yes'],
        { ...project.env, [STEP_NAMESPACE_VAR]: value },
      );
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toContain(`${STEP_NAMESPACE_VAR}=${value}`);
      console.log(
        `exit ${r.code}: ${(r.stdout + r.stderr)
          .split('\n')
          .filter((l) => l.includes(STEP_NAMESPACE_VAR))
          .join('\n')}`,
      );
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('stepNamespace: the real file passes; not root, a foreign pid or a missing file is a UsageError naming the variable', () => {
    const file = namespaceFile(twin.stateDir);
    const ns = stepNamespace({ [STEP_NAMESPACE_VAR]: file });
    expect(ns?.pid).toBe(JSON.parse(readFileSync(file, 'utf8')).pid);
    expect(stepNamespace({})).toBeUndefined();
    const uid = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      expect(() => stepNamespace({ [STEP_NAMESPACE_VAR]: file })).toThrow(UsageError);
      expect(() => stepNamespace({ [STEP_NAMESPACE_VAR]: file })).toThrow(/RUNBOOK_STEP_NAMESPACE=.*needs root/);
    } finally {
      uid.mockRestore();
    }
    expect(() => stepNamespace({ [STEP_NAMESPACE_VAR]: join(project.dir, 'absent.json') })).toThrow(
      /RUNBOOK_STEP_NAMESPACE=.*cannot read .*ENOENT/,
    );
  });

  it('an operator namespace of its own starts, serves and ends without a trace on the host', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'k3s-twin-op-'));
    try {
      const hostBefore = digest(HOST_FILES);
      const mountsBefore = mounts();
      const tools = Object.fromEntries(
        ['unshare', 'bash', 'socat', 'ip', 'mount', 'sleep'].map((c) => [
          c,
          spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim(),
        ]),
      );
      const recs: ProcessRecord[] = [];
      const t0 = Date.now();
      const op = await startOperator(
        {
          stateDir,
          twinDir: join(stateDir, 'twin'),
          apiSocket: join(stateDir, 'twin', 'api.sock'),
          apiPort: 16443,
          tools: { ...tools, node: process.execPath } as never,
        },
        (p) => recs.push(p),
      );
      const upMs = Date.now() - t0;
      const ns = JSON.parse(readFileSync(namespaceFile(stateDir), 'utf8'));
      expect(ns.pid).toBe(op.initPid);
      const r = spawnSync(
        'nsenter',
        [
          `--net=/proc/${op.initPid}/ns/net`,
          `--mount=/proc/${op.initPid}/ns/mnt`,
          '--',
          'curl',
          '-sS',
          'https://n8n.home.jetzinger.com/healthz',
        ],
        { encoding: 'utf8' },
      );
      expect(r.stdout, r.stderr).toBe('{"status":"ok"}');
      expect(livingProcesses(stateDir).length).toBeGreaterThan(0);
      await stopProcesses(recs.reverse(), 2_000);
      await operatorDown(stateDir);
      expect(livingProcesses(stateDir)).toEqual([]);
      expect(existsSync(`/proc/${op.initPid}`)).toBe(false);
      expect(mounts()).toBe(mountsBefore);
      expect(digest(HOST_FILES)).toEqual(hostBefore);
      console.log(`operator namespace up in ${upMs} ms`);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
