import { z } from 'zod';

/**
 * What the cluster looked like just before a run's first step and just after its
 * last: compact on purpose (a record is read by the site at build time, and kept
 * in git), capped by the SNAPSHOT_LIMITS below, and validated like the rest of
 * the record. Taken by runner/cluster/snapshot.ts.
 */

export const SNAPSHOT_LIMITS = {
  /** Nodes listed one by one; a bigger cluster keeps the first ones and says how many it left out. */
  nodes: 200,
  /** Namespaces with stuck pods listed. */
  namespaces: 50,
  /** Pod names kept per namespace (the count is always exact). */
  podNamesPerNamespace: 5,
  /** Workloads and PDBs listed. */
  workloads: 100,
} as const;

export const snapshotNodeSchema = z.object({
  name: z.string(),
  roles: z.array(z.string()),
  kubeletVersion: z.string(),
  ready: z.boolean(),
  unschedulable: z.boolean(),
  /** `key=value:Effect` (or `key:Effect`), as kubectl prints them. */
  taints: z.array(z.string()),
});

export const stuckPodsSchema = z.object({
  namespace: z.string(),
  /** Pods in this namespace not Running or Succeeded. */
  count: z.number().int().min(0),
  /** The first few of them, as `name (phase or reason)`. */
  pods: z.array(z.string()),
});

export const unavailableWorkloadSchema = z.object({
  kind: z.enum(['Deployment', 'DaemonSet', 'StatefulSet']),
  namespace: z.string(),
  name: z.string(),
  ready: z.number().int().min(0),
  desired: z.number().int().min(0),
});

export const blockingPdbSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  /** status.disruptionsAllowed, which is 0 for every PDB listed. */
  disruptionsAllowed: z.number().int(),
});

export const clusterSnapshotSchema = z.object({
  takenAt: z.string(),
  /** gitVersion of the API server, e.g. v1.34.3+k3s1. */
  serverVersion: z.string(),
  nodes: z.array(snapshotNodeSchema).max(SNAPSHOT_LIMITS.nodes),
  stuckPods: z.array(stuckPodsSchema).max(SNAPSHOT_LIMITS.namespaces),
  unavailable: z.array(unavailableWorkloadSchema).max(SNAPSHOT_LIMITS.workloads),
  blockingPdbs: z.array(blockingPdbSchema).max(SNAPSHOT_LIMITS.workloads),
  /** What the caps left out, per list, when a list was longer than its cap. */
  omitted: z
    .object({
      nodes: z.number().int(),
      namespaces: z.number().int(),
      workloads: z.number().int(),
      pdbs: z.number().int(),
    })
    .partial()
    .optional(),
});

/** A snapshot, or why there is none (the API was down, as it may be while k3s restarts). */
export const snapshotSlotSchema = z.union([
  clusterSnapshotSchema,
  z.object({ takenAt: z.string(), error: z.string() }),
]);

export type ClusterSnapshot = z.infer<typeof clusterSnapshotSchema>;
export type SnapshotSlot = z.infer<typeof snapshotSlotSchema>;

export const isSnapshot = (slot: SnapshotSlot | undefined): slot is ClusterSnapshot =>
  slot !== undefined && !('error' in slot);
