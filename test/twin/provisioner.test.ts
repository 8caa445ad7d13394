// The twin's simulated storage provisioner (scripts/sandbox-lib/twin/provisioner.ts) on a twin
// of its own: a claim of the lab's nfs-csi class gets a pvc-<uid> volume and its directory on
// the NAS twin (subDir from the StorageClass), grows when expanded, and is archived when
// deleted (onDelete: archive); a local-path claim gets its volume once a pod picks a node;
// `down` leaves no provisioner behind.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { down } from '../../scripts/sandbox-lib/sandbox.ts';
import { PROVISIONER, readTwin, twinStatus } from '../../scripts/sandbox-lib/twin/index.ts';
import { isOurs } from '../../scripts/sandbox-lib/processes.ts';
import { rehearsalTwin } from './helpers.ts';

const twin = rehearsalTwin('k3s-provisioner-');
const apply = (yaml: string) => {
  const r = spawnSync(twin.state().kubectl, ['apply', '-f', '-'], {
    input: yaml,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: twin.state().kubeconfig },
  });
  expect(r.status, r.stderr).toBe(0);
};
async function until<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
const claim = (ns: string, name: string) => JSON.parse(twin.kubectl('-n', ns, 'get', 'pvc', name, '-o', 'json'));
const share = () => join(twin.stateDir, 'twin', 'nas', 'volume1', 'k3s');

describe("the twin's simulated storage provisioner", () => {
  it('runs as a process of the twin that status shows', async () => {
    expect((await twinStatus(twin.stateDir))?.provisioner).toBe(true);
  });

  it('an nfs-csi claim is Bound to a new volume whose directory is on the NAS twin; expanding it grows the volume; deleting it archives the directory', async () => {
    apply(`apiVersion: v1
kind: Namespace
metadata: { name: prov-test }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: scratch, namespace: prov-test }
spec:
  accessModes: [ReadWriteMany]
  storageClassName: nfs-csi
  resources: { requests: { storage: 16Mi } }
`);
    const bound = await until('the claim to be Bound', () => {
      const c = claim('prov-test', 'scratch');
      return c.status.phase === 'Bound' ? c : undefined;
    });
    const pv = JSON.parse(twin.kubectl('get', 'pv', bound.spec.volumeName, '-o', 'json'));
    expect(pv.metadata.name).toBe(`pvc-${bound.metadata.uid}`);
    expect(pv.spec.csi.driver).toBe('nfs.csi.k8s.io');
    expect(pv.spec.csi.volumeHandle).toBe(`192.168.2.2#volume1/k3s#prov-test-scratch#${pv.metadata.name}#archive`);
    expect(pv.spec.mountOptions).toEqual(['nfsvers=4.1']);
    expect(existsSync(join(share(), 'prov-test-scratch'))).toBe(true);

    twin.kubectl(
      '-n',
      'prov-test',
      'patch',
      'pvc',
      'scratch',
      '--type=merge',
      '-p',
      '{"spec":{"resources":{"requests":{"storage":"32Mi"}}}}',
    );
    await until('the claim to grow', () => claim('prov-test', 'scratch').status.capacity?.storage === '32Mi');
    expect(JSON.parse(twin.kubectl('get', 'pv', pv.metadata.name, '-o', 'json')).spec.capacity.storage).toBe('32Mi');

    twin.kubectl('delete', 'namespace', 'prov-test', '--wait', '--timeout=60s');
    await until('the volume to be deleted', () => !twin.kubectl('get', 'pv', '-o', 'name').includes(pv.metadata.name));
    expect(existsSync(join(share(), 'prov-test-scratch'))).toBe(false);
    expect(readdirSync(share())).toContain('archived-prov-test-scratch');
  }, 120_000);

  it("a local-path claim gets its volume on the node the scheduler picked, in that node's /var/lib/rancher/k3s/storage", async () => {
    apply(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: local-scratch, namespace: default }
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources: { requests: { storage: 8Mi } }
---
apiVersion: v1
kind: Pod
metadata: { name: local-scratch-user, namespace: default }
spec:
  nodeSelector: { kubernetes.io/hostname: k3s-worker-01 }
  tolerations: [{ operator: Exists }]
  containers: [{ name: c, image: busybox:1.36, volumeMounts: [{ name: d, mountPath: /d }] }]
  volumes: [{ name: d, persistentVolumeClaim: { claimName: local-scratch } }]
`);
    const bound = await until('the local-path claim to be Bound', () => {
      const c = claim('default', 'local-scratch');
      return c.status.phase === 'Bound' ? c : undefined;
    });
    const pv = JSON.parse(twin.kubectl('get', 'pv', bound.spec.volumeName, '-o', 'json'));
    const path = `/var/lib/rancher/k3s/storage/${pv.metadata.name}_default_local-scratch`;
    expect(pv.spec.hostPath.path).toBe(path);
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual(['k3s-worker-01']);
    expect(existsSync(join(twin.stateDir, 'twin', 'nodes', 'k3s-worker-01', 'root', path))).toBe(true);
    twin.kubectl('-n', 'default', 'delete', 'pod', 'local-scratch-user', '--grace-period=0', '--force', '--wait=false');
  }, 120_000);

  it('down stops the provisioner', async () => {
    const rec = readTwin(twin.stateDir)!.processes.find((p) => p.name === PROVISIONER)!;
    expect(isOurs(rec)).toBe(true);
    await down(twin.stateDir);
    expect(isOurs(rec)).toBe(false);
  }, 60_000);
});
