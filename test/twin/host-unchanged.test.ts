import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { down, killNow, up } from '../../scripts/sandbox-lib/sandbox.ts';
import { readTwin, setNodeSshd } from '../../scripts/sandbox-lib/twin/index.ts';
import { livingProcesses, runCli } from '../run/helpers.ts';
import { simulatorForTests } from './global-setup.ts';
import { fence, fileTree, listeners, namespacesOf, processesIn, sshNode, twinProject } from './helpers.ts';

/**
 * A sandbox of its own (the shared one keeps running meanwhile): the host as it
 * was before `up`, then up with the twin, a rehearsal that writes on every node,
 * an sshd stopped and started again, `down` — and the host is as it was: the
 * same files under the paths a node mounts over, the same mount table, no
 * process, listening socket or namespace of the twin left, the state dir gone.
 */
const HOST_PATHS = ['/etc', '/usr/local/bin', '/usr/bin', '/usr/sbin', '/var/lib/rancher'];
const stateDir = mkdtempSync(join(tmpdir(), 'k3s-twin-host-'));
afterAll(() => {
  killNow(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('the host around a twin', () => {
  it('up, a rehearsal and down leave no file, mount, process, socket or namespace behind', async () => {
    const filesBefore = fileTree(HOST_PATHS);
    const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');
    const listenBefore = listeners();

    const state = await up({ stateDir, twin: simulatorForTests().twin });
    const twin = readTwin(stateDir)!;
    const namespaces = new Set(twin.nodes.flatMap((n) => namespacesOf(n.initPid)));
    expect(namespaces.size).toBe(twin.nodes.length * 4); // each node: its own net, mnt, pid, uts
    const ours = livingProcesses(stateDir).length + processesIn(namespaces).length;
    expect(ours).toBeGreaterThan(twin.nodes.length * 4);
    const listenUp = [...listeners()].filter((l) => !listenBefore.has(l));
    // In the host's network namespace only the two API sockets listen (the nodes' and kwok's, which serves the
    // pods' exec from a namespace of its own); each ssh.sock belongs to its node's namespace.
    expect(listenUp.filter((l) => l.startsWith('unix ') && l.includes(stateDir)).sort()).toEqual(
      [`unix ${stateDir}/twin/pods/api.sock`, `unix ${twin.apiSocket}`].sort(),
    );
    for (const n of twin.nodes) expect(existsSync(n.sshSocket)).toBe(true);

    // The rehearsal: node steps writing where K3s writes, and trying where it must not.
    const project = twinProject({ kubeconfig: state.kubeconfig, sshConfig: twin.sshConfig, binDir: state.binDir });
    try {
      const page = project.page(
        'twin-rehearsal',
        fence(
          'step=write on=role:agent',
          'echo "token: x" >> /etc/rancher/k3s/config.yaml\n' +
            'install -d /var/lib/rancher/k3s/agent/images && echo img > /var/lib/rancher/k3s/agent/images/a\n' +
            'cp /usr/local/bin/k3s /usr/local/bin/k3s.bak\n' +
            'd="$(mktemp -d)"; mount --bind /etc/rancher "$d" 2>/dev/null || true; umount "$d" 2>/dev/null || true; rmdir "$d"\n' +
            'touch /etc/twin-probe /usr/bin/twin-probe 2>/dev/null || echo "host dirs are read-only"',
        ),
      );
      const r = await runCli(
        ['run', page, '--inventory', state.sandboxInventory, '--records', project.records, '--yes'],
        project.env,
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout.match(/host dirs are read-only/g)).toHaveLength(2);
    } finally {
      project.cleanup();
    }

    // The unreachable fault's control: sshd off, then on again.
    await setNodeSshd(stateDir, 'k3s-worker-02', false);
    const off = sshNode(twin.sshConfig, 'k3s-worker-02', 'true');
    expect(off.code).toBe(255);
    await setNodeSshd(stateDir, 'k3s-worker-02', true);
    expect(sshNode(twin.sshConfig, 'k3s-worker-02', 'hostname').stdout.trim()).toBe('k3s-worker-02');

    expect(await down(stateDir)).toBe(true);

    expect(existsSync(stateDir)).toBe(false);
    expect(livingProcesses(stateDir)).toEqual([]);
    expect(processesIn(namespaces)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(mountsBefore);
    const listenAfter = [...listeners()].filter((l) => !listenBefore.has(l));
    expect(listenAfter.filter((l) => listenUp.includes(l))).toEqual([]);
    const filesAfter = fileTree(HOST_PATHS);
    const changed = [...new Set([...filesBefore.keys(), ...filesAfter.keys()])].filter(
      (p) => filesBefore.get(p) !== filesAfter.get(p),
    );
    expect(changed).toEqual([]);
  });
});
