import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, contextOption, inventoryOption, jsonOption } from './options.ts';
import type { ProjectOptions } from '../project-context.ts';
import type { ClusterLease, LeaseHolderView } from '../cluster/lease.ts';
import { EXIT, UsageError } from '../errors.ts';
import { printJson } from '../ui/json.ts';

interface LockOptions extends ProjectOptions {
  json?: boolean;
  context?: string;
  release?: boolean;
  force?: boolean;
}

export function registerLock(program: Command) {
  addCommon(
    program
      .command('lock')
      .description('show the cluster-wide lock (the Lease a medium- or high-risk run holds), or release it'),
    jsonOption(),
    inventoryOption(),
    contextOption(),
  )
    .option('--release', 'give up the lease if you (operator@host) hold it')
    .option('--force', 'with --release: break the lease whoever holds it')
    .addHelpText(
      'after',
      `
The lock is the Lease kube-system/runbook-<cluster name> in the inventory's cluster (reached after the
same kube-context guard and kube-system UID check as a run). Without options it shows who holds it
(operator@host, runbook, run id), since when, when it was last renewed and when it expires, or that
it is free. A lease that was not renewed within its duration (60 s) is expired: the next run takes it
over and its record says so. --release gives up a lease held by you (this user on this host), for a
run that was killed and left it behind; someone else's is refused. --release --force breaks anyone's
lease and says whose it was: that run, if it is still going, stops before its next step.
Exit: 0 shown or released, 2 refused (someone else holds it, wrong or unreachable cluster).`,
    )
    .action(async (opts: LockOptions) => {
      process.exitCode = await lockCommand(opts);
    });
}

async function lockCommand(opts: LockOptions): Promise<number> {
  if (opts.force && !opts.release)
    throw new UsageError('--force only goes with --release: runbook lock --release --force');
  // Loaded on use: the API client stays out of --help and the other verbs.
  const [{ projectContext }, { openInventoryCluster }, lease, { operatorName }] = await Promise.all([
    import('../project-context.ts'),
    import('../cluster/open.ts'),
    import('../cluster/lease.ts'),
    import('../run/record.ts'),
  ]);
  const open = await openInventoryCluster(projectContext(opts), { ...(opts.context ? { context: opts.context } : {}) });
  const clusterName = open.inventory.cluster.name;
  const where = { cluster: clusterName, namespace: lease.LEASE_NAMESPACE, name: lease.leaseName(clusterName) };

  if (!opts.release) {
    const state = await lease.readClusterLease(open.cluster, clusterName);
    if (opts.json) printJson({ ...where, ...leaseJson(state) });
    else process.stdout.write(describeLease(where, state));
    return EXIT.ok;
  }

  const me = operatorName();
  const by = opts.force ? `${me} (forced)` : me;
  const { hostname } = await import('node:os');
  const { pidAlive } = await import('../execute/process-group.ts');
  // A run of yours that is still alive on this machine is not a leftover: only --force breaks its lease.
  const aliveHere = (h: LeaseHolderView) => h.host === hostname() && !!h.pid && pidAlive(Number(h.pid));
  const result = await lease.breakClusterLease(open.cluster, clusterName, {
    by,
    ...(opts.force ? {} : { onlyHeldBy: me, aliveHere }),
  });
  if (opts.json) {
    printJson({
      ...where,
      ...leaseJson(result.before),
      released: Boolean(result.broken),
      forced: Boolean(opts.force),
      by: me,
    });
    return EXIT.ok;
  }
  const id = `${where.namespace}/${where.name}`;
  if (!result.broken) {
    process.stdout.write(`The cluster lease ${id} of ${clusterName} is free: nothing to release.\n`);
    return EXIT.ok;
  }
  const whose = lease.describeHolder(result.broken);
  const still = result.before?.expired
    ? ' (it had expired)'
    : ': if that run is still going, it stops before its next step';
  process.stdout.write(
    opts.force && result.broken.who !== me
      ? `${pc.yellow('Broke')} the cluster lease ${id} of ${clusterName}, held by ${whose}${still}.\n`
      : `Released the cluster lease ${id} of ${clusterName}, held by ${whose}${still}.\n`,
  );
  return EXIT.ok;
}

function leaseJson(state: ClusterLease | undefined) {
  if (!state) return { state: 'free', holder: null };
  const { namespace: _n, name: _m, resourceVersion: _r, expired, holder, ...rest } = state;
  return { state: !holder ? 'free' : expired ? 'expired' : 'held', holder: holder ?? null, ...rest };
}

/** The lease as a small block of `label value` lines. */
export function describeLease(
  where: { cluster: string; namespace: string; name: string },
  state: ClusterLease | undefined,
  now = Date.now(),
): string {
  const head = `${pc.bold(`Cluster ${where.cluster}`)} ${pc.dim(`· lease ${where.namespace}/${where.name}`)}\n`;
  const line = (label: string, value: string) => `  ${label.padEnd(9)} ${value}\n`;
  const when = (iso: string | undefined) => (iso ? `${iso} ${pc.dim(`(${relative(Date.parse(iso), now)})`)}` : '-');
  if (!state?.holder) {
    let out = head + line('state', `${pc.green('free')}: no run holds the cluster`);
    const r = state?.released;
    if (r?.last) out += line('last', holderLine(r.last));
    if (r?.at || r?.by) out += line('released', `${r.at ? when(r.at) : ''}${r.by ? ` by ${r.by}` : ''}`.trim());
    if (!state) out += line('', pc.dim('(no run has taken it yet)'));
    return out;
  }
  const h = state.holder;
  let out = head;
  out += line('state', state.expired ? `${pc.yellow('expired')}: the next run takes it over` : pc.red('held'));
  out += line('holder', h.who);
  if (h.runbook) out += line('runbook', h.runbook);
  if (h.runId) out += line('run', h.runId);
  out += line('since', when(h.startedAt ?? state.acquiredAt));
  out += line('renewed', when(state.renewedAt));
  out += line(
    state.expired ? 'expired' : 'expires',
    `${when(state.expiresAt)} ${pc.dim(`· duration ${state.durationSeconds} s`)}`,
  );
  if (!state.expired) out += pc.dim('  Break it only when that run is gone: runbook lock --release --force\n');
  return out;
}

function holderLine(h: LeaseHolderView): string {
  return [h.who, h.runbook && `runbook ${h.runbook}`, h.runId && `run ${h.runId}`].filter(Boolean).join(', ');
}

/** "12 s ago", "in 48 s", "5 min ago", "3 h ago". */
export function relative(ms: number, now: number): string {
  if (Number.isNaN(ms)) return 'unknown';
  const d = Math.round((ms - now) / 1000);
  const a = Math.abs(d);
  const amount =
    a < 120
      ? `${a} s`
      : a < 7200
        ? `${Math.round(a / 60)} min`
        : a < 172_800
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86_400)} days`;
  // 0 reads "0 s ago": a lease taken this instant (the API clock a few ms ahead) was not taken "in 0 s".
  return d > 0 ? `in ${amount}` : `${amount} ago`;
}
