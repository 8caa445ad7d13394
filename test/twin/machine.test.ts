import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../run/helpers.ts';
import { fence, sshNode, twinProject } from './helpers.ts';

/**
 * The twin's machines on the shared twin sandbox (test/twin/global-setup.ts):
 * every node answers ssh through the runner's own ssh, sees its own K3s files
 * at the real paths while the host's stay as they are, and has no network
 * beyond its own loopback.
 */
const twin = inject('twin');
const project = twinProject(twin);
afterAll(() => project.cleanup());
const nodeDir = (n: string) => join(twin.twinDir, 'nodes', n);

describe('the twin machines', () => {
  it('runbook run reaches every node over ssh (a step on the server, a fan-out to the agents)', async () => {
    const page = project.page(
      'twin-hello',
      fence(
        'step=on-server on=k3s-master',
        'echo "host=$(hostname) user=$(id -un)"; test -f /var/lib/rancher/k3s/server/token && echo "server token present"',
      ) +
        fence(
          'step=on-agents on=role:agent',
          'echo "host=$(hostname)"; test ! -e /var/lib/rancher/k3s/server && echo "no server dir"',
        ),
    );
    const r = await runCli(
      ['run', page, '--inventory', twin.sandboxInventory, '--records', project.records, '--yes'],
      project.env,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('host=k3s-master user=root');
    expect(r.stdout).toContain('server token present');
    for (const w of ['k3s-worker-01', 'k3s-worker-02']) expect(r.stdout).toMatch(new RegExp(`\\[${w}\\] host=${w}`));
    expect(r.stdout.match(/no server dir/g)).toHaveLength(2);
    const runs = readdirSync(project.records);
    const rec = JSON.parse(
      readFileSync(
        join(project.records, runs[0]!, readdirSync(join(project.records, runs[0]!)).find((f) => f.endsWith('.json'))!),
        'utf8',
      ),
    );
    expect(rec.status).toBe('succeeded');
    expect(rec.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('each node sees its own files at the K3s paths; the host has none of them', () => {
    expect(existsSync('/etc/rancher')).toBe(false);
    expect(existsSync('/var/lib/rancher')).toBe(false);
    const hostLocalBin = readdirSync('/usr/local/bin').sort();
    for (const n of twin.nodes) {
      const root = join(nodeDir(n.name), 'root');
      const r = sshNode(
        twin.sshConfig,
        n.name,
        'hostname; cat /etc/rancher/k3s/config.yaml; ls /usr/local/bin; ls /etc/systemd/system',
      );
      expect(r.code, r.stderr).toBe(0);
      const [host, ...rest] = r.stdout.split('\n');
      expect(host).toBe(n.name);
      expect(rest.join('\n')).toContain(readFileSync(join(root, 'etc/rancher/k3s/config.yaml'), 'utf8'));
      for (const f of readdirSync(join(root, 'usr/local/bin'))) expect(rest).toContain(f);
      for (const f of readdirSync(join(root, 'etc/systemd/system'))) expect(rest).toContain(f);
    }
    // A write on a node lands in that node's root, nowhere else.
    const w = sshNode(
      twin.sshConfig,
      'k3s-worker-01',
      'echo "written on the twin" > /etc/rancher/k3s/probe.txt && install -d /var/lib/rancher/k3s/agent/probe',
    );
    expect(w.code, w.stderr).toBe(0);
    expect(readFileSync(join(nodeDir('k3s-worker-01'), 'root/etc/rancher/k3s/probe.txt'), 'utf8')).toBe(
      'written on the twin\n',
    );
    expect(existsSync(join(nodeDir('k3s-worker-01'), 'root/var/lib/rancher/k3s/agent/probe'))).toBe(true);
    expect(existsSync(join(nodeDir('k3s-worker-02'), 'root/etc/rancher/k3s/probe.txt'))).toBe(false);
    expect(existsSync('/etc/rancher')).toBe(false);
    expect(readdirSync('/usr/local/bin').sort()).toEqual(hostLocalBin);
  });

  it('the host directories a node could change are read-only on the node', () => {
    const r = sshNode(
      twin.sshConfig,
      'k3s-worker-02',
      'for f in /etc/twin-probe /usr/bin/twin-probe /usr/sbin/twin-probe /var/lib/twin-probe; do touch $f 2>&1; done; true',
    );
    expect(r.stdout.match(/Read-only file system/g)).toHaveLength(4);
    for (const f of ['/etc/twin-probe', '/usr/bin/twin-probe', '/usr/sbin/twin-probe', '/var/lib/twin-probe'])
      expect(existsSync(f)).toBe(false);
  });

  it('a node reaches nothing but its own loopback: TEST-NET is unreachable, only lo exists', () => {
    for (const n of twin.nodes) {
      // /proc/net/dev lists the interfaces of the reader's network namespace (`ip` is the simulator's on a node).
      const r = sshNode(
        twin.sshConfig,
        n.name,
        'tail -n +3 /proc/net/dev | cut -d: -f1; timeout 5 bash -c "exec 3<>/dev/tcp/192.0.2.1/80"',
      );
      expect(r.code).not.toBe(0);
      expect(r.stdout.trim()).toBe('lo');
      expect(r.stderr).toMatch(/Network is unreachable/);
    }
  });

  it('a node reaches the API at 127.0.0.1:6443, as a K3s node reaches its server', () => {
    const kc = join(twin.twinDir, 'kubeconfig');
    const r = sshNode(
      twin.sshConfig,
      'k3s-worker-01',
      `${twin.kubectl} --kubeconfig ${kc} get node k3s-worker-01 -o name`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('node/k3s-worker-01');
    expect(readFileSync(kc, 'utf8')).toContain('server: https://127.0.0.1:6443');
  });

  it("the command table's commands run the simulator, by the name they were called as", () => {
    if (twin.simulator === 'project') {
      const r = sshNode(twin.sshConfig, 'k3s-master', 'k3s --version');
      expect(r.stdout).toContain('(lab twin simulation)');
      // The simulator's NFS binds use the host's mount(8), bound into the node dir inside the node only.
      const m = sshNode(twin.sshConfig, 'k3s-master', `${join(nodeDir('k3s-master'), 'bin/host-mount')} --version`);
      expect(m.stdout).toMatch(/mount from util-linux/);
      expect(readFileSync(join(nodeDir('k3s-master'), 'bin/host-mount'), 'utf8')).toBe('');
    } else {
      const r = sshNode(
        twin.sshConfig,
        'k3s-master',
        'systemctl status k3s; /sbin/mount.nfs a b; arping -c1 x; curl -sfL https://get.k3s.io; echo "curl=$?"',
      );
      expect(r.stdout).toContain('stand-in systemctl on k3s-master: status k3s');
      expect(r.stdout).toContain('stand-in mount.nfs on k3s-master: a b');
      expect(r.stdout).toContain('stand-in arping on k3s-master: -c1 x');
      expect(r.stdout).toContain('curl=7');
    }
  });

  it('scripts/sandbox env points the runner at the twin; status shows every node answering ssh', () => {
    const env = spawnSync('scripts/sandbox', ['env', '--state-dir', twin.stateDir], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(env.status, env.stderr).toBe(0);
    expect(env.stdout).toContain(`export RUNBOOK_SSH_CONFIG=${twin.sshConfig}`);
    const st = spawnSync('scripts/sandbox', ['status', '--state-dir', twin.stateDir], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(st.status, st.stdout + st.stderr).toBe(0);
    for (const n of twin.nodes)
      expect(st.stdout).toMatch(new RegExp(`ssh ok ${n.name}\\s+${n.address.replaceAll('.', '\\.')}`));
    expect(st.stdout).toMatch(/up\s+twin\/api-forwarder/);
  });
});
