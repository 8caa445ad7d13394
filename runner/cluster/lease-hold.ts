import type { V1Lease } from '@kubernetes/client-node';
import { describeError } from '../errors.ts';
import { apiTimeoutMs, type Cluster } from './api.ts';
import { describeHolder, LEASE_NAMESPACE, text, viewLease } from './lease-view.ts';
import { freedBody, holderWhoOf, isApi, readLease, renewed, replace } from './lease-wire.ts';

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

/** What a lease taken from us is, for the operator: the Lease read now (undefined: deleted). */
function lossReason(read: V1Lease | undefined, name: string, clusterName: string): string {
  const lease = `the cluster lease ${LEASE_NAMESPACE}/${name}`;
  if (!read) return `${lease} was deleted by someone else; another run may hold the cluster ${clusterName} now`;
  const state = viewLease(read);
  if (state.holder) {
    const since = state.acquiredAt ? `, since ${state.acquiredAt}` : '';
    return `${lease} is now held by ${describeHolder(state.holder)}${since}: another run has the cluster ${clusterName}`;
  }
  const by = state.released?.by ? ` by ${state.released.by}` : '';
  const at = state.released?.at ? ` at ${state.released.at}` : '';
  return `${lease} was released${by}${at} (runbook lock --release), so this run no longer holds the cluster ${clusterName}`;
}

/**
 * Gives the lease up if it is still `identity`'s, within RELEASE_BUDGET_MS. Never touches another
 * holder's lease; a 409 (our own renewal in flight won the race) reads again, at most three times.
 */
async function giveUp(cluster: Cluster, name: string, last: V1Lease, identity: string): Promise<void> {
  const deadline = Date.now() + RELEASE_BUDGET_MS;
  const left = () => Math.max(100, deadline - Date.now());
  try {
    let current: V1Lease | undefined = last;
    for (let attempt = 0; attempt < 3 && current && Date.now() < deadline; attempt++) {
      if (text(current.spec?.holderIdentity) !== identity) return;
      try {
        await replace(cluster, freedBody(current, holderWhoOf(current)), left());
        return;
      } catch (err) {
        if (!isApi(err, 409)) return;
        current = await readLease(cluster, name, left());
      }
    }
  } catch {
    // Unreachable now: the lease expires by itself after its duration.
  }
}

/** The renewal loop and the release of a lease we hold (`written`: the Lease as our take wrote it). */
export function holdLease(
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
  const where = `the cluster lease ${LEASE_NAMESPACE}/${name}`;
  let last = written;
  let lostReason: string | undefined;
  let stopped = false;
  let outage: string | undefined; // the first failure of the current outage
  let timer: NodeJS.Timeout | undefined;
  let releasing: Promise<void> | undefined;
  const loseTo = (read: V1Lease | undefined) => {
    lostReason = lossReason(read, name, clusterName);
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
      if (outage && !stopped) note(`the API server answers again; ${where} is renewed and still held by this run`);
      outage = undefined;
    } catch (err) {
      if (stopped) return;
      if (isApi(err, 404)) return loseTo(undefined);
      // The API went away (k3s-upgrade restarts the server) or answered with an error: keep trying, quietly.
      if (!outage) {
        outage = describeError(err);
        note(`cannot renew ${where} (${outage}); the run keeps it and retries every ${Math.round(every / 100) / 10} s`);
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
    release: () =>
      (releasing ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        if (!lostReason) await giveUp(cluster, name, last, identity);
      })()),
  };
}
