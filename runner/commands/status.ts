import type { Command } from 'commander';
import pc from 'picocolors';
import { addCommon, contextOption, inventoryOption, jsonOption } from './options.ts';
import type { ProjectOptions } from '../project-context.ts';
import type { DriftReport, NodeStatus } from '../cluster/drift.ts';
import { EXIT, UsageError } from '../errors.ts';
import { printJson } from '../ui/json.ts';
import { table } from '../ui/table.ts';

interface StatusOptions extends ProjectOptions {
  json?: boolean;
  context?: string;
}

export function registerStatus(program: Command) {
  addCommon(
    program
      .command('status')
      .description(
        'the inventory against the live cluster: nodes missing or extra, kubelet versions, roles, labels, Ready',
      ),
    jsonOption(),
    inventoryOption(),
    contextOption(),
  )
    .addHelpText(
      'after',
      `
Reads the nodes from the API of the inventory's cluster (after the same kube-context guard and
kube-system UID check as a run) and compares them with the inventory: a node missing or extra, a
kubelet version other than cluster.k3sVersion, roles (node-role.kubernetes.io/* labels; K3s's own
control-plane, master and etcd labels read as the server role, a node without them as an agent),
each label the inventory lists, and the Ready condition. Cordoned nodes are shown, not counted as drift.
Changes nothing. Exit: 0 the cluster matches the inventory, 1 drift found, 2 refused (wrong or
unreachable cluster, bad inventory).`,
    )
    .action(async (opts: StatusOptions) => {
      process.exitCode = await clusterStatus(opts);
    });
}

async function clusterStatus(opts: StatusOptions): Promise<number> {
  // Loaded on use: the API client stays out of --help and the other verbs.
  const [{ projectContext }, { openInventoryCluster }, { callApi }, { compareInventory, liveNodeOf }] =
    await Promise.all([
      import('../project-context.ts'),
      import('../cluster/open.ts'),
      import('../cluster/api.ts'),
      import('../cluster/drift.ts'),
    ]);
  const ctx = projectContext(opts);
  const open = await openInventoryCluster(ctx, { ...(opts.context ? { context: opts.context } : {}) });
  const { cluster, inventory } = open;
  const list = await callApi(cluster, () => cluster.core.listNode({}, cluster.within())).catch((err: unknown) => {
    throw new UsageError(
      `cannot list the nodes of ${inventory.cluster.name} (${cluster.server}): ${(err as Error).message}`,
    );
  });
  const report = compareInventory(inventory, list.items.map(liveNodeOf));
  if (opts.json) {
    printJson({
      cluster: {
        name: inventory.cluster.name,
        context: open.kube.context ?? null,
        server: cluster.server,
        uid: open.uid,
        identity: open.identity,
        k3sVersion: inventory.cluster.k3sVersion,
      },
      inventory: open.inventoryFile,
      ok: report.drift.length === 0,
      nodes: report.nodes,
      drift: report.drift,
    });
  } else {
    process.stdout.write(
      describeStatus(report, {
        cluster: inventory.cluster.name,
        server: cluster.server,
        identity:
          open.identity === 'pinned' ? `uid ${open.uid}` : `uid ${open.uid}, not pinned (runbook inventory pin)`,
      }),
    );
  }
  return report.drift.length === 0 ? EXIT.ok : EXIT.stepFailed;
}

/** The human report: one row per node, then every difference, one a line. */
export function describeStatus(
  report: DriftReport,
  where: { cluster: string; server: string; identity: string },
): string {
  const rows = report.nodes.map((n) => [
    n.name,
    presence(n),
    rolesCell(n),
    versionCell(n, report.k3sVersion),
    n.ready === null ? '-' : n.ready ? pc.green('Ready') : pc.red('NotReady'),
    n.unschedulable ? pc.yellow('cordoned') : n.unschedulable === null ? '-' : 'yes',
    n.drift.length ? pc.red(String(n.drift.length)) : pc.green('0'),
  ]);
  const head = `${pc.bold(`Cluster ${where.cluster}`)} ${pc.dim(`· ${where.server} · ${where.identity} · inventory k3sVersion ${report.k3sVersion}`)}\n\n`;
  const body = `${table(['NODE', 'IN', 'ROLES', 'KUBELET', 'READY', 'SCHEDULABLE', 'DRIFT'], rows)}\n\n`;
  if (report.drift.length === 0) return `${head}${body}${pc.green('No drift:')} the cluster matches the inventory.\n`;
  const list = report.drift.map((d) => `  ${pc.red('✗')} ${pc.dim(`[${d.kind}]`)} ${d.message}\n`).join('');
  const count = `${report.drift.length} difference${report.drift.length === 1 ? '' : 's'}`;
  return `${head}${body}${pc.red(`Drift: ${count}`)} between the inventory and the cluster:\n${list}`;
}

const presence = (n: NodeStatus) =>
  n.inInventory && n.inCluster ? 'both' : n.inInventory ? pc.red('inventory only') : pc.red('cluster only');

function rolesCell(n: NodeStatus): string {
  const want = n.roles.join(',');
  const have = n.liveRoles.join(',');
  if (!n.inCluster) return want;
  if (!n.inInventory || want === have) return have;
  return pc.red(`${have} (inventory: ${want})`);
}

function versionCell(n: NodeStatus, expected: string): string {
  if (n.kubeletVersion === null) return '-';
  return n.kubeletVersion === expected || !n.inInventory ? n.kubeletVersion : pc.red(n.kubeletVersion);
}
