import type { V1Lease } from '@kubernetes/client-node';
import { apiTimeoutMs, callApi, ClusterApiError, type Cluster } from './api.ts';
import { hostname } from 'node:os';
import { describeError, UsageError } from '../errors.ts';
import { pidAlive } from '../execute/process-group.ts';
import {
  ANNOTATION,
  DEFAULT_LEASE_SECONDS,
  PREFIX,
  text,
  describeHolder,
  HOLDER_KEYS,
  holderIdentity,
  holderWho,
  LEASE_NAMESPACE,
  leaseName,
  viewLease,
  type ClusterLease,
  type LeaseHolder,
  type LeaseHolderView,
} from './lease-view.ts';

export * from './lease-view.ts';

/**
 * The cluster-wide lock: one coordination.k8s.io/v1 Lease per cluster, in
 * kube-system, named `runbook-<cluster name>`. A medium- or high-risk run takes it
 * before its first step, renews it while it lasts and gives it up at the end, so
 * two runs against the same cluster — from a laptop and a CI job, or two
 * operators — cannot overlap. The per-machine file lock (runner/record/lock.ts)
 * only sees runs on one machine.
 *
 * The Lease says who holds it in two places: spec.holderIdentity
 * (`<operator>@<host>/<runId>`, unique per run, what ownership is decided by) and
 * annotations `runbook.k3s-lab/*` (operator, host, runbook, run id, start time: what
 * a person is shown). Every write carries the resourceVersion it read, so of two
 * writers racing for the same Lease exactly one wins and the other gets 409 Conflict.
 *
 * Expiry: a held Lease is expired when renewTime + leaseDurationSeconds is in the
 * past *by the reader's clock*. renewTime is written by the holder from its own
 * clock, so this assumes the machines' clocks agree to within a few seconds (NTP).
 * With the defaults (60 s, renewed every 20 s) a reader whose clock runs up to ~40 s
 * ahead still sees a live holder's Lease as fresh; more skew than that lets a second
 * run take over a live lease (and the first run then stops before its next step,
 * since it finds the Lease no longer its own).
 */

/** How long release() may take when the API does not answer. */
const RELEASE_BUDGET_MS = 3_000;
/** How long the check before a step waits for the API. */
const CONFIRM_MS = 2_000;

export interface HeldLease {
  namespace: string;
  name: string;
  /** Set when an expired lease of another holder was taken over. */
  takenOver?: { holder: string; renewedAt?: string };
  /** Why the lease is no longer ours, as the last renewal found out, else undefined. Synchronous, no API call. */
  lost(): string | undefined;
  /**
   * Asks the API now (one GET, a short deadline): why the lease is no longer ours, else undefined. Asked
   * before every step, so a lease broken or taken between renewals stops the run at once. An API that does
   * not answer is no loss (k3s-upgrade restarts it): the renewals keep trying.
   */
  confirm(): Promise<string | undefined>;
  /** Stops renewing and gives the lease up if it is still ours. Never throws; bounded time (a few seconds at most when the API is down). */
  release(): Promise<void>;
}

export interface LeaseOptions {
  /** leaseDurationSeconds (default 60). */
  durationSeconds?: number;
  /** How often the holder renews (default a third of the duration). */
  renewEveryMs?: number;
  /** Told once when renewal starts failing (the API went away) and once when it works again. */
  onNote?: (message: string) => void;
}

const isApi = (err: unknown, code: number) => err instanceof ClusterApiError && err.code === code;

async function readLease(cluster: Cluster, name: string, ms?: number): Promise<V1Lease | undefined> {
  try {
    return await callApi(cluster, () =>
      cluster.coordination.readNamespacedLease({ name, namespace: LEASE_NAMESPACE }, cluster.within(ms)),
    );
  } catch (err) {
    if (isApi(err, 404)) return undefined;
    throw err;
  }
}

/** The cluster's lease as it is now, or undefined when no run ever took it. */
export async function readClusterLease(cluster: Cluster, clusterName: string): Promise<ClusterLease | undefined> {
  const name = leaseName(clusterName);
  let lease: V1Lease | undefined;
  try {
    lease = await readLease(cluster, name);
  } catch (err) {
    throw leaseProblem(`cannot read the cluster lease ${LEASE_NAMESPACE}/${name}`, err);
  }
  return lease && viewLease(lease);
}

function leaseProblem(what: string, err: unknown): UsageError {
  if (err instanceof UsageError) return err;
  if (isApi(err, 403)) {
    return new UsageError(
      `${what}: ${describeError(err)}. The kubeconfig's user needs get, create and update on leases.coordination.k8s.io in ${LEASE_NAMESPACE}.`,
    );
  }
  return new UsageError(`${what}: ${describeError(err)}`);
}

// ---------------------------------------------------------------- writing

const microTime = (ms = Date.now()) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** The Lease body that says `holder` has it, built on what was read (other tools' labels and annotations are kept). */
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

/** The same Lease, free: no holder; the last holder's annotations stay, with when and by whom it was released. */
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

function withoutRunbookAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !k.startsWith(PREFIX)));
}

const replace = (cluster: Cluster, body: V1Lease, ms?: number) =>
  callApi(cluster, () =>
    cluster.coordination.replaceNamespacedLease(
      { name: body.metadata!.name!, namespace: LEASE_NAMESPACE, body, fieldManager: 'runbook' },
      cluster.within(ms),
    ),
  );

function heldMessage(clusterName: string, state: ClusterLease, verb: 'is held' | 'was taken'): string {
  const h = state.holder!;
  const since = h.startedAt ?? state.acquiredAt;
  const facts = [
    h.runbook && `runbook ${h.runbook}`,
    h.runId && `run ${h.runId}`,
    since && `since ${since}`,
    state.renewedAt && `last renewed ${state.renewedAt}`,
    state.expiresAt && `expires ${state.expiresAt} unless renewed`,
  ].filter(Boolean);
  const head = `the cluster ${clusterName} ${verb} by ${h.who} (${facts.join(', ')}): lease ${state.namespace}/${state.name}. `;
  if (h.host === hostname() && h.pid && !pidAlive(Number(h.pid))) {
    return (
      head +
      `That run (pid ${h.pid}) is no longer running on this machine: its lease expires by itself and is then taken ` +
      'over, or `runbook lock --release` frees it now.'
    );
  }
  return (
    head +
    'Wait for that run to finish. `runbook lock` shows the lease; `runbook lock --release --force` breaks it ' +
    '(only when that run is really gone: a lease left by a killed run expires by itself and is then taken over).'
  );
}

/**
 * Takes the cluster's lease for this run and keeps it renewed, or throws the
 * UsageError the operator sees: who holds it, since when, until when, and what to do.
 */
export async function takeClusterLease(
  cluster: Cluster,
  clusterName: string,
  holder: LeaseHolder,
  opts: LeaseOptions = {},
): Promise<HeldLease> {
  const name = leaseName(clusterName);
  const durationSeconds = Math.max(1, Math.round(opts.durationSeconds ?? DEFAULT_LEASE_SECONDS));
  const identity = holderIdentity(holder);
  const problem = (err: unknown) => leaseProblem(`cannot take the cluster lease ${LEASE_NAMESPACE}/${name}`, err);
  let written: V1Lease | undefined;
  let takenOver: HeldLease['takenOver'];
  try {
    for (let attempt = 0; attempt < 3 && !written; attempt++) {
      try {
        written = await callApi(cluster, () =>
          cluster.coordination.createNamespacedLease(
            { namespace: LEASE_NAMESPACE, body: heldBody(name, holder, durationSeconds), fieldManager: 'runbook' },
            cluster.within(),
          ),
        );
        break;
      } catch (err) {
        if (!isApi(err, 409)) throw err; // AlreadyExists is the only answer that means "read it"
      }
      const read = await readLease(cluster, name);
      if (!read) continue; // deleted meanwhile: create again
      const state = viewLease(read);
      const mine = state.holder?.identity === identity; // the same run again (a resume): still its lease
      if (state.holder && !state.expired && !mine) throw new UsageError(heldMessage(clusterName, state, 'is held'));
      try {
        written = await replace(cluster, heldBody(name, holder, durationSeconds, read));
      } catch (err) {
        if (!isApi(err, 409)) throw err;
        // Someone wrote it between our read and our update: whoever it is won.
        const now = await readLease(cluster, name);
        const winner = now && viewLease(now);
        if (winner?.holder && winner.holder.identity !== identity)
          throw new UsageError(heldMessage(clusterName, winner, 'was taken'));
        continue;
      }
      if (state.holder && !mine) {
        takenOver = {
          holder: describeHolder(state.holder),
          ...(state.renewedAt ? { renewedAt: state.renewedAt } : {}),
        };
      }
    }
  } catch (err) {
    throw problem(err);
  }
  if (!written)
    throw new UsageError(
      `cannot take the cluster lease ${LEASE_NAMESPACE}/${name}: it changed under every attempt; try again`,
    );
  return holdLease(cluster, clusterName, written, identity, durationSeconds, takenOver, opts);
}

/** The renewal loop and the release of a lease we hold. */
function holdLease(
  cluster: Cluster,
  clusterName: string,
  written: V1Lease,
  identity: string,
  durationSeconds: number,
  takenOver: HeldLease['takenOver'],
  opts: LeaseOptions,
): HeldLease {
  const name = written.metadata!.name!;
  const every = Math.max(50, opts.renewEveryMs ?? (durationSeconds * 1000) / 3);
  // A renewal never outlives its turn: a hung API (SIGSTOPped, a dead link) gets the next tick a fresh try.
  const callMs = Math.min(apiTimeoutMs(), Math.max(every, 1_000));
  const note = opts.onNote ?? (() => {});
  let last = written;
  let lostReason: string | undefined;
  let stopped = false;
  let outage: string | undefined; // the first failure of the current outage
  let timer: NodeJS.Timeout | undefined;
  let releasing: Promise<void> | undefined;

  const loseTo = (read: V1Lease | undefined) => {
    if (!read) {
      lostReason = `the cluster lease ${LEASE_NAMESPACE}/${name} was deleted by someone else; another run may hold the cluster ${clusterName} now`;
      return;
    }
    const state = viewLease(read);
    if (state.holder) {
      const facts = [state.acquiredAt && `since ${state.acquiredAt}`].filter(Boolean).join(', ');
      lostReason = `the cluster lease ${LEASE_NAMESPACE}/${name} is now held by ${describeHolder(state.holder)}${facts ? `, ${facts}` : ''}: another run has the cluster ${clusterName}`;
    } else {
      const by = state.released?.by ? ` by ${state.released.by}` : '';
      const at = state.released?.at ? ` at ${state.released.at}` : '';
      lostReason = `the cluster lease ${LEASE_NAMESPACE}/${name} was released${by}${at} (runbook lock --release), so this run no longer holds the cluster ${clusterName}`;
    }
  };

  /** One renewal: an update with the resourceVersion we last saw; on 409 read what is there and decide. */
  const renew = async () => {
    try {
      try {
        last = await replace(cluster, renewed(last), callMs);
      } catch (err) {
        if (!isApi(err, 409)) throw err;
        const read = await readLease(cluster, name, callMs);
        if (stopped) return;
        // Still ours (someone only touched it, or it expired during an outage and nobody took it): renew on top.
        if (read && text(read.spec?.holderIdentity) === identity) last = await replace(cluster, renewed(read), callMs);
        else return loseTo(read);
      }
      if (outage && !stopped)
        note(
          `the API server answers again; the cluster lease ${LEASE_NAMESPACE}/${name} is renewed and still held by this run`,
        );
      outage = undefined;
    } catch (err) {
      if (stopped) return;
      if (isApi(err, 404)) return loseTo(undefined);
      // The API went away (k3s-upgrade restarts the server) or answered with an error: keep trying, quietly.
      if (!outage) {
        outage = describeError(err);
        note(
          `cannot renew the cluster lease ${LEASE_NAMESPACE}/${name} (${outage}); the run keeps it and retries every ${Math.round(every / 100) / 10} s`,
        );
      }
    }
  };

  const schedule = () => {
    if (stopped || lostReason) return;
    timer = setTimeout(() => void renew().finally(schedule), every);
    timer.unref(); // never what keeps the process alive
  };
  schedule();

  return {
    namespace: LEASE_NAMESPACE,
    name,
    ...(takenOver ? { takenOver } : {}),
    lost: () => lostReason,
    confirm: async () => {
      if (lostReason || stopped) return lostReason;
      let read: V1Lease | undefined;
      try {
        read = await readLease(cluster, name, CONFIRM_MS);
      } catch {
        return lostReason; // no answer: not a loss
      }
      if (!read || text(read.spec?.holderIdentity) !== identity) loseTo(read);
      return lostReason;
    },
    // Once: a second call (a finally after a signal handler) waits for the first.
    release: () => (releasing ??= giveUp()),
  };

  async function giveUp(): Promise<void> {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (lostReason) return;
    const deadline = Date.now() + RELEASE_BUDGET_MS;
    const left = () => Math.max(100, deadline - Date.now());
    try {
      let current: V1Lease | undefined = last;
      for (let attempt = 0; attempt < 3 && current && Date.now() < deadline; attempt++) {
        if (text(current.spec?.holderIdentity) !== identity) return; // not ours any more: never touch another's
        try {
          await replace(cluster, freedBody(current, holderWhoOf(current)), left());
          return;
        } catch (err) {
          if (!isApi(err, 409)) return;
          current = await readLease(cluster, name, left()); // a renewal in flight won the race: look again
        }
      }
    } catch {
      // Unreachable now: the lease expires by itself after its duration.
    }
  }
}

function holderWhoOf(lease: V1Lease): string {
  const a = lease.metadata?.annotations ?? {};
  return a[ANNOTATION.operator]
    ? holderWho({ operator: a[ANNOTATION.operator]!, host: a[ANNOTATION.host] ?? '' })
    : 'its holder';
}

function renewed(lease: V1Lease): V1Lease {
  return {
    ...lease,
    metadata: { ...lease.metadata, managedFields: undefined },
    spec: { ...lease.spec, renewTime: microTime() as never },
  };
}

/**
 * Frees the cluster's lease whoever holds it (`runbook lock --release [--force]`).
 * `onlyHeldBy` (operator@host): refuse, naming the holder, when someone else holds it.
 * Returns the lease as it was and the holder that was removed (undefined when it was free).
 */
export async function breakClusterLease(
  cluster: Cluster,
  clusterName: string,
  opts: { by: string; onlyHeldBy?: string; aliveHere?: (holder: LeaseHolderView) => boolean },
): Promise<{ before?: ClusterLease; broken?: LeaseHolderView }> {
  const name = leaseName(clusterName);
  const problem = (err: unknown) => leaseProblem(`cannot release the cluster lease ${LEASE_NAMESPACE}/${name}`, err);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const read = await readLease(cluster, name);
      if (!read) return {};
      const before = viewLease(read);
      if (!before.holder) return { before };
      if (opts.onlyHeldBy && before.holder.who !== opts.onlyHeldBy) {
        const state = before.expired
          ? `expired at ${before.expiresAt}; the next run takes it over anyway`
          : `expires ${before.expiresAt} unless renewed`;
        throw new UsageError(
          `the cluster lease ${LEASE_NAMESPACE}/${name} is held by ${describeHolder(before.holder)}, not by you (${opts.onlyHeldBy}); ` +
            `it ${state}. To break it anyway: runbook lock --release --force`,
        );
      }
      if (opts.onlyHeldBy && opts.aliveHere?.(before.holder)) {
        throw new UsageError(
          `the cluster lease ${LEASE_NAMESPACE}/${name} is held by your run ${before.holder.runId ?? '?'} (pid ${before.holder.pid}), ` +
            'which is still running here: stop it (Ctrl-C ends it and gives the lease up), or pass --force to break the lease under it',
        );
      }
      try {
        await replace(cluster, freedBody(read, opts.by));
        return { before, broken: before.holder };
      } catch (err) {
        if (!isApi(err, 409)) throw err; // renewed meanwhile: read again
      }
    }
  } catch (err) {
    throw problem(err);
  }
  throw new UsageError(
    `cannot release the cluster lease ${LEASE_NAMESPACE}/${name}: it changed under every attempt (its holder renews it); try again`,
  );
}
