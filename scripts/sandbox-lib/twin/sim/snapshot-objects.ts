// K3s (1.27+) records every etcd snapshot as a cluster-scoped ETCDSnapshotFile object
// (k3s.cattle.io/v1, docs.k3s.io/cli/etcd-snapshot): the simulator's `k3s etcd-snapshot
// save|prune|delete` creates and deletes them as K3s does, so `kubectl get etcdsnapshotfiles`
// answers as in the lab. The facts below were learnt from the K3s source (the CRD in pkg/crd,
// the type in k3s-io/api k3s.cattle.io/v1, the naming in pkg/etcd/snapshot/types.go):
//   - name: "local-" + the lowercased file name + "-" + the first 6 hex digits of
//     sha256(node name + location); when the file name is no DNS-1123 subdomain, or too long
//     for the prefix and suffix, "etcd-snapshot-<node's short name>-<unix time>" (+ ".zip")
//     stands in for it;
//   - label etcd.k3s.cattle.io/snapshot-storage-node: <node>;
//   - annotation etcd.k3s.cattle.io/snapshot-token-hash (the twin's own hash, named as such);
//   - spec {snapshotName, nodeName, location: file://…}, status {size, creationTime, readyToUse}.
import { createHash } from 'node:crypto';
import { kubectl } from './kube.ts';
import { SimError, type Node } from './node.ts';

export const STORAGE_NODE_LABEL = 'etcd.k3s.cattle.io/snapshot-storage-node';
export const TOKEN_HASH_ANNOTATION = 'etcd.k3s.cattle.io/snapshot-token-hash';
/** The twin marks what it made, so a test (or a person) can tell it from a real K3s record. */
export const SIMULATED_ANNOTATION = 'twin.k3s-lab/simulated';

export interface SnapshotRecord {
  /** The file name: <name>-<node>-<unix time>[.zip]. */
  file: string;
  node: string;
  /** The path on the node (the snapshot dir as K3s sees it). */
  path: string;
  size: number;
  createdAt: Date;
  compressed: boolean;
  tokenHash: string;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The object name K3s gives a local snapshot's record. */
export function snapshotObjectName(
  file: string,
  node: string,
  location: string,
  createdAt: Date,
  compressed: boolean,
): string {
  let name = file.toLowerCase();
  const digest = createHash('sha256')
    .update(node + location)
    .digest('hex')
    .slice(0, 6);
  if (!DNS1123_SUBDOMAIN.test(name) || name.length + 13 > 253) {
    name = `etcd-snapshot-${node.split('.')[0]}-${Math.floor(createdAt.getTime() / 1000)}${compressed ? '.zip' : ''}`;
  }
  return `local-${name}-${digest}`;
}

export function snapshotObject(rec: SnapshotRecord): Record<string, unknown> {
  const location = `file://${rec.path}`;
  return {
    apiVersion: 'k3s.cattle.io/v1',
    kind: 'ETCDSnapshotFile',
    metadata: {
      name: snapshotObjectName(rec.file, rec.node, location, rec.createdAt, rec.compressed),
      labels: { [STORAGE_NODE_LABEL]: rec.node },
      annotations: {
        [TOKEN_HASH_ANNOTATION]: rec.tokenHash,
        [SIMULATED_ANNOTATION]: 'lab twin: recorded by the simulated k3s etcd-snapshot',
      },
    },
    spec: { snapshotName: rec.file, nodeName: rec.node, location },
  };
}

/**
 * Creates (or replaces) the record of a snapshot just saved. K3s's CRD has no status
 * subresource (pkg/crd), so the status is written with the object, as K3s writes it.
 */
export function recordSnapshot(node: Node, rec: SnapshotRecord): void {
  const obj = {
    ...snapshotObject(rec),
    status: {
      size: String(rec.size),
      creationTime: rec.createdAt.toISOString().replace(/\.\d+Z$/, 'Z'),
      readyToUse: true,
    },
  };
  run(
    node,
    `record the snapshot ${rec.file}`,
    ['apply', '--server-side', '--force-conflicts', '--field-manager=k3s', '-f', '-'],
    JSON.stringify(obj),
  );
}

/** Deletes the records of the given files on this node (after `delete` or `prune` removed them). */
export function forgetSnapshots(node: Node, files: Array<{ file: string; path: string; createdAt: Date }>): void {
  for (const f of files) {
    const location = `file://${f.path}`;
    const name = snapshotObjectName(f.file, node.name, location, f.createdAt, f.file.endsWith('.zip'));
    run(node, `delete the record of ${f.file}`, [
      'delete',
      'etcdsnapshotfiles.k3s.cattle.io',
      name,
      '--ignore-not-found',
      '--wait=false',
    ]);
  }
}

function run(node: Node, what: string, args: string[], input?: string): void {
  const r = kubectl(node, args, input);
  if (r.status !== 0) {
    throw new SimError(
      `FATA[0000] could not ${what} as an ETCDSnapshotFile (lab twin simulation): ${r.stderr.trim() || r.stdout.trim()}`,
      1,
    );
  }
}

/** A snapshot file's creation time, from the Unix time K3s puts at the end of its name (or the file's mtime). */
export function createdAtOf(file: string, mtimeMs: number): Date {
  const m = /-(\d{9,11})(\.zip)?$/.exec(file);
  return m ? new Date(Number(m[1]) * 1000) : new Date(Math.floor(mtimeMs / 1000) * 1000);
}
