// The recovery runbooks rehearsed on a twin of their own: node-failure-recovery against a
// node whose K3s stopped, and cluster-backup followed by cluster-restore's rollback path
// (INSTALL_VERSION set: every node reinstalled at that release, the server reset to the
// snapshot). The real pages of src/content/docs/runbooks, local steps in the twin's operator namespace.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearFaults, injectFault } from '../../scripts/sandbox-lib/twin/faults.ts';
import { namespaceFile } from '../../scripts/sandbox-lib/twin/operator.ts';
import { rehearsalTwin } from './helpers.ts';

const twin = rehearsalTwin('k3s-recovery-');
const succeededAll = (id: string) => {
  const rec = twin.last(id)!;
  expect(
    rec.steps.filter((s) => s.status !== 'succeeded' && s.status !== 'skipped').map((s) => `${s.id}: ${s.status}`),
  ).toEqual([]);
  expect(rec.rehearsal?.twin).toBe(true);
  return rec;
};

/** A command in the operator's namespace (network and mounts), as the runner runs a local step. */
const onOperator = (command: string) => {
  const pid = JSON.parse(readFileSync(namespaceFile(twin.stateDir), 'utf8')).pid as number;
  return spawnSync(
    'nsenter',
    [`--net=/proc/${pid}/ns/net`, `--mount=/proc/${pid}/ns/mnt`, '--', 'bash', '-c', command],
    { encoding: 'utf8', timeout: 20_000 },
  );
};

describe('recovery runbooks rehearsed on the lab twin', () => {
  it("from the operator's machine a node answers ping and port 22, and neither while it is unreachable", async () => {
    const reach = 'ping -c 1 -W 1 127.0.1.3 && timeout 3 bash -c "</dev/tcp/127.0.1.3/22"';
    expect(onOperator(reach).status).toBe(0);
    expect(onOperator('ping -c 1 192.0.2.1').status).not.toBe(0);
    await injectFault(twin.stateDir, 'unreachable', { node: 'k3s-worker-02' });
    try {
      expect(onOperator('ping -c 1 -W 1 127.0.1.3').stdout).toContain('Destination Host Unreachable');
      expect(onOperator('timeout 3 bash -c "</dev/tcp/127.0.1.3/22"').status).not.toBe(0);
      expect(onOperator('timeout 3 bash -c "</dev/tcp/127.0.1.2/22"').status).toBe(0);
    } finally {
      await clearFaults(twin.stateDir);
    }
    expect(onOperator(reach).status).toBe(0);
  }, 60_000);

  it('node-failure-recovery: a worker whose K3s stopped comes back Ready and uncordoned', async () => {
    await injectFault(twin.stateDir, 'k3s-stopped', { node: 'k3s-worker-02' });
    try {
      const r = twin.run('node-failure-recovery', ['FAILED_NODE=k3s-worker-02']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    } finally {
      await clearFaults(twin.stateDir);
    }
    const rec = succeededAll('node-failure-recovery');
    expect(rec.rehearsal?.faults.map((f) => f.kind)).toContain('k3s-stopped');
    const node = JSON.parse(twin.kubectl('get', 'node', 'k3s-worker-02', '-o', 'json'));
    expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status).toBe('True');
    expect(node.spec.unschedulable ?? false).toBe(false);
  }, 300_000);

  it('cluster-backup then cluster-restore (rollback): both succeed, the snapshot is on the NAS twin with .token and .sha256, and recorded as an ETCDSnapshotFile', () => {
    const backup = twin.run('cluster-backup');
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    succeededAll('cluster-backup');

    const etcdDir = join(twin.stateDir, 'twin', 'nas', 'volume1', 'k3s-backups', 'etcd');
    const snap = readdirSync(etcdDir)
      .filter((f) => /^manual-k3s-master-\d+$/.test(f))
      .sort()
      .at(-1)!;
    expect(snap).toBeTruthy();
    for (const ext of ['.token', '.sha256']) expect(existsSync(join(etcdDir, snap + ext))).toBe(true);

    const objects = JSON.parse(twin.kubectl('get', 'etcdsnapshotfiles.k3s.cattle.io', '-o', 'json')).items as Array<{
      metadata: { name: string; labels: Record<string, string> };
      spec: { snapshotName: string; nodeName: string; location: string };
      status: { readyToUse: boolean; size: string | number };
    }>;
    const mine = objects.find((o) => o.spec.snapshotName === snap);
    expect(mine, JSON.stringify(objects)).toBeDefined();
    expect(mine!.metadata.name).toMatch(new RegExp(`^local-${snap}-[0-9a-f]{6}$`));
    expect(mine!.metadata.labels['etcd.k3s.cattle.io/snapshot-storage-node']).toBe('k3s-master');
    expect(mine!.spec).toMatchObject({
      nodeName: 'k3s-master',
      location: `file:///var/lib/rancher/k3s/server/db/snapshots/${snap}`,
    });
    expect(mine!.status.readyToUse).toBe(true);
    expect(Number(mine!.status.size)).toBeGreaterThan(0);

    const version = JSON.parse(twin.kubectl('get', 'node', 'k3s-master', '-o', 'json')).status.nodeInfo
      .kubeletVersion as string;
    const restore = twin.run('cluster-restore', [`SNAPSHOT=${snap}`, `INSTALL_VERSION=${version}`]);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    const rec = succeededAll('cluster-restore');
    // The rollback path ran: the release was installed on the nodes, not skipped.
    expect(
      rec.steps
        .filter((s) => s.id.startsWith('install-server-release') || s.id.startsWith('prepare-agent'))
        .some((s) => s.status === 'succeeded'),
    ).toBe(true);
    // The snapshot's record is still there after the restore (the sandbox's own etcd is not reset).
    expect(twin.kubectl('get', 'etcdsnapshotfiles.k3s.cattle.io', '-o', 'name')).toContain(`local-${snap}-`);
  }, 400_000);
});
