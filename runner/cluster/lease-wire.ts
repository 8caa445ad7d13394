import type { V1Lease } from '@kubernetes/client-node';
import { callApi, ClusterApiError, type Cluster } from './api.ts';
import {
  ANNOTATION,
  HOLDER_KEYS,
  holderIdentity,
  holderWho,
  LEASE_NAMESPACE,
  PREFIX,
  text,
  type LeaseHolder,
} from './lease-view.ts';

/**
 * The Lease on the wire: the bodies a holder writes (held, renewed, freed) and the three API calls
 * the lock makes (read, create, replace). Every write sends the resourceVersion it read, so a
 * concurrent writer gets 409 Conflict instead of overwriting (./lease.ts decides what that means).
 */

export const isApi = (err: unknown, code: number) => err instanceof ClusterApiError && err.code === code;

/** The Lease, or undefined when it does not exist (404). */
export async function readLease(cluster: Cluster, name: string, ms?: number): Promise<V1Lease | undefined> {
  try {
    return await callApi(cluster, () =>
      cluster.coordination.readNamespacedLease({ name, namespace: LEASE_NAMESPACE }, cluster.within(ms)),
    );
  } catch (err) {
    if (isApi(err, 404)) return undefined;
    throw err;
  }
}

export const replace = (cluster: Cluster, body: V1Lease, ms?: number) =>
  callApi(cluster, () =>
    cluster.coordination.replaceNamespacedLease(
      { name: body.metadata!.name!, namespace: LEASE_NAMESPACE, body, fieldManager: 'runbook' },
      cluster.within(ms),
    ),
  );

export const create = (cluster: Cluster, body: V1Lease) =>
  callApi(cluster, () =>
    cluster.coordination.createNamespacedLease(
      { namespace: LEASE_NAMESPACE, body, fieldManager: 'runbook' },
      cluster.within(),
    ),
  );

const microTime = (ms = Date.now()) => new Date(ms).toISOString().replace(/Z$/, '000Z');

export /** The Lease body that says `holder` has it, built on what was read (other tools' labels and annotations are kept). */
function heldBody(name: string, holder: LeaseHolder, durationSeconds: number, read?: V1Lease): V1Lease {
  const now = microTime();
  const annotations = { ...withoutRunbookAnnotations(read?.metadata?.annotations) };
  for (const key of HOLDER_KEYS) if (holder[key] !== undefined) annotations[ANNOTATION[key]] = holder[key]!;
  const identity = holderIdentity(holder);
  annotations[ANNOTATION.identity] = identity;
  const sameHolder = text(read?.spec?.holderIdentity) === identity;
  const transitions = (read?.spec?.leaseTransitions ?? 0) + (read && !sameHolder ? 1 : 0);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...(read?.metadata ?? {}),
      name,
      namespace: LEASE_NAMESPACE,
      annotations,
      // Server-owned bookkeeping is not sent back; resourceVersion is (optimistic concurrency).
      managedFields: undefined,
    },
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      // The client types these as V1MicroTime (a Date); the wire format is an RFC 3339 string with microseconds.
      acquireTime: (sameHolder ? (text(read?.spec?.acquireTime) ?? now) : now) as never,
      renewTime: now as never,
      leaseTransitions: transitions,
    },
  };
}

export /** The same Lease, free: no holder; the last holder's annotations stay, with when and by whom it was released. */
function freedBody(read: V1Lease, releasedBy: string): V1Lease {
  const annotations = { ...(read.metadata?.annotations ?? {}) };
  annotations[ANNOTATION.releasedAt] = new Date().toISOString();
  annotations[ANNOTATION.releasedBy] = releasedBy;
  return {
    ...read,
    metadata: { ...read.metadata, annotations, managedFields: undefined },
    spec: {
      ...(read.spec ?? {}),
      holderIdentity: undefined,
      acquireTime: undefined,
      renewTime: undefined,
    },
  };
}

export function renewed(lease: V1Lease): V1Lease {
  return {
    ...lease,
    metadata: { ...lease.metadata, managedFields: undefined },
    spec: { ...lease.spec, renewTime: microTime() as never },
  };
}

/** Who a freed Lease names as its releaser when the holder itself gives it up. */
export function holderWhoOf(lease: V1Lease): string {
  const a = lease.metadata?.annotations ?? {};
  return a[ANNOTATION.operator]
    ? holderWho({ operator: a[ANNOTATION.operator]!, host: a[ANNOTATION.host] ?? '' })
    : 'its holder';
}

function withoutRunbookAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !k.startsWith(PREFIX)));
}
