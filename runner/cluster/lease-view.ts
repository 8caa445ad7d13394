import type { V1Lease } from '@kubernetes/client-node';

/**
 * How the cluster-wide lock reads: its name, who holds it and since when, said for people.
 * The Lease itself is taken, renewed and given up by ./lease.ts.
 */

export const LEASE_NAMESPACE = 'kube-system';
export const DEFAULT_LEASE_SECONDS = 60;
export const PREFIX = 'runbook.k3s-lab/';
export const ANNOTATION = {
  operator: `${PREFIX}operator`,
  host: `${PREFIX}host`,
  runbook: `${PREFIX}runbook`,
  runId: `${PREFIX}run-id`,
  startedAt: `${PREFIX}started-at`,
  /** The runner's pid on its host: `runbook lock --release` never frees the lease of a run still alive there. */
  pid: `${PREFIX}pid`,
  /** The spec.holderIdentity these annotations describe: another tool taking the Lease leaves them stale, and then they are not believed. */
  identity: `${PREFIX}identity`,
  /** Set when the lease is given up: when, and by whom (a forced break names the breaker). */
  releasedAt: `${PREFIX}released-at`,
  releasedBy: `${PREFIX}released-by`,
} as const;
export const HOLDER_KEYS = ['operator', 'host', 'runbook', 'runId', 'startedAt', 'pid'] as const;

export interface LeaseHolder {
  operator: string;
  host: string;
  runbook: string;
  runId: string;
  startedAt: string;
  pid?: string;
}

/** A holder as read from a Lease: the identity always, the rest when a runner wrote it. */
export interface LeaseHolderView {
  identity: string;
  /** `operator@host`, or the identity for a Lease some other tool wrote. */
  who: string;
  operator?: string;
  host?: string;
  runbook?: string;
  runId?: string;
  startedAt?: string;
  pid?: string;
}

export interface ClusterLease {
  namespace: string;
  name: string;
  /** Undefined when the lease is free (released, or never held). */
  holder?: LeaseHolderView;
  /** Held, and not renewed within its duration (by this machine's clock): the next run takes it over. */
  expired: boolean;
  acquiredAt?: string;
  renewedAt?: string;
  /** renewTime + duration, when held. */
  expiresAt?: string;
  durationSeconds: number;
  transitions: number;
  /** The last holder's release, when the lease is free: when and by whom. */
  released?: { at?: string; by?: string; last?: LeaseHolderView };
  resourceVersion: string;
}

export function leaseName(clusterName: string): string {
  return `runbook-${clusterName}`;
}

/** `alice@lab1`: the operator as given when it already names a host (runner/run/record.ts operatorName), else with the host. */
export function holderWho(holder: Pick<LeaseHolder, 'operator' | 'host'>): string {
  return holder.operator.includes('@') || !holder.host ? holder.operator : `${holder.operator}@${holder.host}`;
}

export function holderIdentity(holder: LeaseHolder): string {
  return `${holderWho(holder)}/${holder.runId}`;
}

/** `alice@lab1 (runbook k3s-upgrade, run 2026…-3f9a)`: a holder as a person reads it. */
export function describeHolder(h: LeaseHolderView): string {
  const parts = [h.runbook && `runbook ${h.runbook}`, h.runId && `run ${h.runId}`].filter(Boolean);
  return parts.length ? `${h.who} (${parts.join(', ')})` : h.who;
}

// ---------------------------------------------------------------- reading

/** A string field's value, or undefined for anything else (annotations written by other tools). */
export const text = (v: unknown): string | undefined => {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/**
 * Who holds it. spec.holderIdentity decides; the annotations only describe that holder when they were
 * written with it (a Lease another tool took, or a holder it replaced, leaves stale ones behind).
 */
function holderFrom(identity: string, annotations: Record<string, string>): LeaseHolderView {
  if (identity && !describes(identity, annotations)) return { identity, who: identity };
  const operator = annotations[ANNOTATION.operator];
  const host = annotations[ANNOTATION.host];
  const view: LeaseHolderView = { identity, who: operator ? holderWho({ operator, host: host ?? '' }) : identity };
  for (const key of HOLDER_KEYS) {
    const value = annotations[ANNOTATION[key]];
    if (value) view[key] = value;
  }
  return view;
}

function describes(identity: string, annotations: Record<string, string>): boolean {
  const written = annotations[ANNOTATION.identity];
  if (written !== undefined) return written === identity;
  // Leases written before the identity annotation: the identity is built from the annotations themselves.
  const operator = annotations[ANNOTATION.operator];
  const runId = annotations[ANNOTATION.runId];
  return (
    !!operator &&
    !!runId &&
    identity === `${holderWho({ operator, host: annotations[ANNOTATION.host] ?? '' })}/${runId}`
  );
}

/** A Lease as the runner sees it; `now` is this machine's clock (see the clock-skew note in ./lease.ts). */
export function viewLease(lease: V1Lease, now = Date.now()): ClusterLease {
  const spec = lease.spec ?? {};
  const annotations = lease.metadata?.annotations ?? {};
  const durationSeconds = spec.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
  const identity = text(spec.holderIdentity);
  const renewedAt = text(spec.renewTime);
  const acquiredAt = text(spec.acquireTime);
  const base = {
    namespace: lease.metadata?.namespace ?? LEASE_NAMESPACE,
    name: lease.metadata?.name ?? '',
    durationSeconds,
    transitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    ...(acquiredAt ? { acquiredAt } : {}),
    ...(renewedAt ? { renewedAt } : {}),
  };
  if (!identity) {
    const last = annotations[ANNOTATION.runId] ? holderFrom('', annotations) : undefined;
    const at = annotations[ANNOTATION.releasedAt];
    const by = annotations[ANNOTATION.releasedBy];
    const released =
      last || at || by ? { ...(at ? { at } : {}), ...(by ? { by } : {}), ...(last ? { last } : {}) } : undefined;
    return { ...base, expired: false, ...(released ? { released } : {}) };
  }
  // A Lease without renewTime has never been renewed: it counts from its acquisition, or as expired.
  const since = Date.parse(renewedAt ?? acquiredAt ?? '');
  const expiresMs = Number.isNaN(since) ? undefined : since + durationSeconds * 1000;
  return {
    ...base,
    holder: holderFrom(identity, annotations),
    expired: expiresMs === undefined || expiresMs < now,
    ...(expiresMs !== undefined ? { expiresAt: new Date(expiresMs).toISOString() } : {}),
  };
}
