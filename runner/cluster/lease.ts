import type { V1Lease } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { describeError, UsageError } from '../errors.ts';
import { pidAlive } from '../execute/process-group.ts';
import type { Cluster } from './api.ts';
import { type HeldLease, holdLease, type LeaseOptions } from './lease-hold.ts';
import {
  type ClusterLease,
  DEFAULT_LEASE_SECONDS,
  describeHolder,
  holderIdentity,
  LEASE_NAMESPACE,
  type LeaseHolder,
  type LeaseHolderView,
  leaseName,
  viewLease,
} from './lease-view.ts';
import { create, freedBody, heldBody, isApi, readLease, replace } from './lease-wire.ts';

export type { HeldLease, LeaseOptions } from './lease-hold.ts';
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
        written = await create(cluster, heldBody(name, holder, durationSeconds));
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
