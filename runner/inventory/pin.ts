import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseDocument } from 'yaml';
import type { ProjectContext } from '../project-context.ts';
import { UsageError } from '../errors.ts';
import { connectView } from '../cluster/api.ts';
import { clusterUid } from '../cluster/identity.ts';
import { guardedView } from '../cluster/open.ts';
import { replaceFileDurably } from '../record/durable.ts';
import { parseInventory } from './load.ts';

export interface PinResult {
  file: string;
  cluster: string;
  uid: string;
  changed: boolean;
  previous?: string;
}

/**
 * `runbook inventory pin`: the UID of the cluster behind the accepted context, written as
 * cluster.uid. The YAML document is edited in place (comments, order and quoting kept),
 * re-validated, and replaced durably: an inventory is never left half-written.
 */
export async function pinInventory(ctx: ProjectContext, opts: { context?: string; force?: boolean }): Promise<PinResult> {
  const { file, inventory } = ctx.loadInventory();
  const shown = relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file);
  const cluster = await connectView(guardedView(inventory, shown, opts.context, 'refusing to pin'));
  const uid = await clusterUid(cluster).catch((err: unknown) => {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot pin: ${(err as Error).message}. Check that the cluster is up and the kube context is right.`);
  });
  const previous = inventory.cluster.uid;
  const result = { file: shown, cluster: inventory.cluster.name, uid };
  if (previous === uid) return { ...result, changed: false };
  if (previous && !opts.force) {
    throw new UsageError(
      `${shown} pins cluster ${inventory.cluster.name} as UID ${previous}, but ${cluster.server} answers ${uid}. ` +
        'If the lab was rebuilt and this is it, pass --force to replace the pin; otherwise switch the kube context.',
    );
  }
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['cluster', 'uid'], uid);
  const text = doc.toString();
  parseInventory(text, shown); // the edit must leave a valid inventory
  replaceFileDurably(file, text);
  return { ...result, changed: true, ...(previous ? { previous } : {}) };
}
