// scripts/sandbox as a user runs it: two sandboxes at once do not collide,
// `down` and Ctrl-C during `up` leave no process, port or file behind, and a
// component that fails is named with its log.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../scripts/sandbox-lib/paths.ts';
import { isListening } from '../../scripts/sandbox-lib/ports.ts';
import { isOurs } from '../../scripts/sandbox-lib/processes.ts';
import type { SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';

const cli = join(repoRoot, 'scripts', 'sandbox');
const work = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-lifecycle-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(
  inventory,
  `cluster:
  name: tiny
  context: tiny-lab
  server: https://192.0.2.10:6443
  k3sVersion: v1.34.3+k3s1
nodes:
  - { name: tiny-server, roles: [server], address: 192.0.2.10 }
  - { name: tiny-gpu, roles: [agent, gpu], address: 192.0.2.11, labels: { example.com/accel: rtx } }
`,
);

interface Result {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  onStderr?: (text: string) => void,
): { done: Promise<Result>; pid: number; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += stripVTControlCharacters(c);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += stripVTControlCharacters(c);
    onStderr?.(stderr);
  });
  const done = new Promise<Result>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { done, pid: child.pid!, kill: (s) => child.kill(s) };
}

const readState = (dir: string) => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as SandboxState;
const portsOf = (s: SandboxState) => Object.values(s.ports).filter((p) => p > 0);

/** No process of the sandbox alive, none of its ports open, its dir gone. */
async function expectNothingLeft(dir: string, state: SandboxState): Promise<void> {
  expect(existsSync(dir), `${dir} removed`).toBe(false);
  for (const p of state.processes) expect(isOurs(p), `${p.name} pid ${p.pid} gone`).toBe(false);
  for (const port of portsOf(state)) expect(await isListening(port), `port ${port} closed`).toBe(false);
}

afterAll(async () => {
  for (const d of ['a', 'b', 'int', 'bad']) await run(['down', '--state-dir', join(work, d)]).done;
  rmSync(work, { recursive: true, force: true });
});

describe('scripts/sandbox', () => {
  it('runs two sandboxes side by side on distinct ports, then `down` leaves nothing behind', async () => {
    const [a, b] = [join(work, 'a'), join(work, 'b')];
    const [ra, rb] = await Promise.all([a, b].map((d) => run(['up', '--state-dir', d, '--inventory', inventory]).done));
    expect(ra!.code, ra!.stderr).toBe(0);
    expect(rb!.code, rb!.stderr).toBe(0);
    expect(ra!.stderr).toMatch(/nodes Ready 2\/2/);
    expect(ra!.stdout).toContain(`export KUBECONFIG=${join(a, 'kubeconfig')}`);

    const [sa, sb] = [readState(a), readState(b)];
    const global = readState(inject('sandboxStateDir'));
    const all = [...portsOf(sa), ...portsOf(sb), ...portsOf(global)];
    expect(new Set(all).size).toBe(all.length);

    // Each answers with its own nodes, through the command `up` printed.
    for (const s of [sa, sb]) {
      const line = s === sa ? ra!.stdout : rb!.stdout;
      expect(line).toContain(`${s.kubectl} get nodes -o wide`);
      const r = await new Promise<Result>((resolve) => {
        const c = spawn(s.kubectl, ['get', 'nodes', '-L', 'example.com/accel'], {
          env: { ...process.env, KUBECONFIG: s.kubeconfig },
        });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d: Buffer) => {
          stdout += d;
        });
        c.stderr.on('data', (d: Buffer) => {
          stderr += d;
        });
        c.once('close', (code) => resolve({ code, signal: null, stdout, stderr }));
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/tiny-server\s+Ready\s+control-plane,master,server/);
      expect(r.stdout).toMatch(/tiny-gpu\s+Ready\s+agent,gpu\s+\S+\s+v1\.34\.3\+k3s1\s+rtx/);
    }

    const st = await run(['status', '--state-dir', a]).done;
    expect(st.code, st.stdout + st.stderr).toBe(0);
    expect(st.stdout).toMatch(/up\s+kube-apiserver/);
    const env = await run(['env', '--state-dir', a]).done;
    expect(env.stdout).toContain(`export KUBECONFIG=${join(a, 'kubeconfig')}`);
    expect(env.stdout).toContain(`export RUNBOOK_INVENTORY=${join(a, 'inventory.yaml')}`);
    expect(env.stdout).toContain(`export PATH=${sa.binDir}:`);
    const inv = parse(readFileSync(join(a, 'inventory.yaml'), 'utf8')) as {
      cluster: { server: string };
      nodes: { address: string }[];
    };
    expect(inv.cluster.server).toBe(sa.server);
    expect(inv.nodes.map((n) => n.address)).toEqual(['127.0.1.1', '127.0.1.2']);

    for (const [dir, s] of [
      [a, sa],
      [b, sb],
    ] as const) {
      const d = await run(['down', '--state-dir', dir]).done;
      expect(d.code, d.stderr).toBe(0);
      expect(d.stderr).toContain('sandbox stopped');
      await expectNothingLeft(dir, s);
    }
    expect((await run(['status', '--state-dir', a]).done).code).toBe(3);
    expect((await run(['env', '--state-dir', a]).done).code).toBe(3);
  }, 600_000);

  it('Ctrl-C during `up` stops what was started and leaves nothing behind', async () => {
    const dir = join(work, 'int');
    let sent = false;
    let snapshot: SandboxState | undefined;
    const up = run(['up', '--state-dir', dir, '--inventory', inventory], (err) => {
      if (!sent && err.includes('kube-apiserver started')) {
        sent = true;
        snapshot = readState(dir); // etcd and kube-apiserver are running now
        up.kill('SIGINT');
      }
    });
    const r = await up.done;
    expect(sent, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(snapshot!.processes.map((p) => p.name)).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver']));
    await expectNothingLeft(dir, snapshot!);
  }, 300_000);

  it('names a component that fails to start, its log and last lines, and cleans up', async () => {
    const dir = join(work, 'bad');
    const badInventory = join(work, 'bad.yaml');
    // An impossible service CIDR: etcd starts, the apiserver refuses to.
    writeFileSync(
      badInventory,
      readFileSync(inventory, 'utf8').replace(
        'k3sVersion: v1.34.3+k3s1',
        'k3sVersion: v1.34.3+k3s1\n  network: { serviceCidr: 10.43.0.0/99 }',
      ),
    );
    const r = await run(['up', '--state-dir', dir, '--inventory', badInventory, '--timeout', '60']).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kube-apiserver exited before becoming healthy');
    const logLine = /log: (\S+)/.exec(r.stderr);
    expect(logLine, r.stderr).not.toBeNull();
    expect(existsSync(logLine![1]!)).toBe(true);
    expect(r.stderr).toMatch(/service-cluster-ip-range|invalid CIDR/i);
    expect(existsSync(dir)).toBe(false);
    rmSync(logLine![1]!, { force: true });
  }, 300_000);
});
