import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../scripts/sandbox-lib/inventory.ts';
import { fakeTwin, inventoryFile } from './fake-node.ts';

/**
 * A machine that has not joined the cluster (inventory `joined: false`, add-worker-node):
 * sshd and its OS, no K3s; the install script with the server's token installs the agent,
 * and its first start registers the Node; a wrong token fails as K3s fails.
 */
const tmp = mkdtempSync(join(tmpdir(), 'twin-join-'));
const inv = join(tmp, 'inventory.yaml');
const doc = parseDocument(readFileSync(inventoryFile, 'utf8'));
doc.addIn(['nodes'], { name: 'k3s-nuc', roles: ['agent'], address: '192.168.2.30', joined: false, hardware: { cpu: '8 vCPU', memory: '32 GiB' } });
writeFileSync(inv, doc.toString());
const twin = fakeTwin({ inventory: inv });
const N = 'k3s-nuc';
afterAll(() => { twin.cleanup(); rmSync(tmp, { recursive: true, force: true }); });
// What twin/index.ts writes for a not-joined node (nodes.ts nodeManifest); a minimal one here.
writeFileSync(join(twin.nodeDir(N), 'registration.json'), JSON.stringify({
  apiVersion: 'v1', kind: 'Node', metadata: { name: N, annotations: { 'kwok.x-k8s.io/node': 'fake' } }, status: { nodeInfo: { kubeletVersion: 'v0' } },
}));
const token = () => JSON.parse(readFileSync(join(twin.twinDir, 'cluster.json'), 'utf8')).token as string;
const install = 'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=agent sh -s -';

describe('a machine that has not joined', () => {
  it('the sandbox reads joined: false (default true)', () => {
    const nodes = loadInventory(inv).nodes;
    expect(nodes.find((n) => n.name === N)?.joined).toBe(false);
    expect(nodes.filter((n) => n.joined).map((n) => n.name)).toEqual(['k3s-master', 'k3s-worker-01', 'k3s-worker-02']);
  });

  it('has no K3s: no binary, no config, no unit, no env file, no service', () => {
    for (const f of ['/usr/local/bin/k3s', '/etc/rancher/k3s/config.yaml', '/etc/systemd/system/k3s-agent.service', '/etc/systemd/system/k3s-agent.service.env']) {
      expect(existsSync(twin.root(N, f)), f).toBe(false);
    }
    const r = twin.sh(N, 'systemctl is-active k3s-agent; systemctl list-unit-files k3s-agent.service k3s.service --no-legend | wc -l');
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['inactive', '0']);
  });

  it('a wrong token: the agent fails to start as K3s does, and no Node is created', () => {
    twin.apiCalls();
    mkdirSync(twin.root(N, '/etc/rancher/k3s'), { recursive: true }); // the runbook's install -d
    writeFileSync(twin.root(N, '/etc/rancher/k3s/config.yaml'), 'server: "https://192.168.2.20:6443"\ntoken: "not-the-token"\n');
    const r = twin.sh(N, install);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Job for k3s-agent.service failed');
    expect(readFileSync(twin.root(N, '/var/log/journal/k3s-agent.jsonl'), 'utf8')).toContain('401 Unauthorized');
    expect(twin.apiCalls().some((c) => c.startsWith('create'))).toBe(false);
  });

  it('the server token in config.yaml: the install starts the agent, which registers its Node at the installed version, Ready after the delay', () => {
    writeFileSync(twin.root(N, '/etc/rancher/k3s/config.yaml'), `server: "https://192.168.2.20:6443"\ntoken: "K10abc::server:${token()}"\n`);
    twin.apiCalls();
    // The failed install above left binary and unit: the script changes nothing and skips the start (as the real one does); restart it.
    const r = twin.sh(N, `${install} && systemctl restart k3s-agent && systemctl is-active k3s-agent`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('active');
    const calls = twin.apiCalls();
    const create = calls.findIndex((c) => c === 'create -f -');
    expect(create, calls.join('\n')).toBeGreaterThanOrEqual(0);
    // Then the kubelet's usual reports: its version and the ready-at annotation.
    expect(calls.slice(create + 1).some((c) => c.startsWith(`patch node ${N} --subresource=status`) && c.includes('v1.35.0+k3s1'))).toBe(true);
    expect(calls.slice(create + 1).some((c) => /^annotate node k3s-nuc twin\.k3s-lab\/k3s=running twin\.k3s-lab\/ready-at=/.test(c))).toBe(true);
  });
});
