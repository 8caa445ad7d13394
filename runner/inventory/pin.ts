import { accessSync, constants, chmodSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Pair, type YAMLMap } from 'yaml';
import type { ProjectContext } from '../project-context.ts';
import { describeError, UsageError } from '../errors.ts';
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
 * cluster.uid. Only that one line changes (every other byte of the file stays: comments,
 * blank lines, quoting); the result is re-validated and replaced durably, keeping the file's
 * mode, and through a symlink the file it points to is the one updated.
 */
export async function pinInventory(
  ctx: ProjectContext,
  opts: { context?: string; force?: boolean },
): Promise<PinResult> {
  const { file, inventory } = ctx.loadInventory();
  const shown = relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file);
  const target = realpathSync(file);
  try {
    accessSync(target, constants.W_OK);
  } catch (err) {
    throw new UsageError(
      `cannot pin: ${shown} is not writable (${describeError(err)}); pin a copy you can write, or fix its mode`,
    );
  }
  const cluster = await connectView(guardedView(inventory, shown, opts.context, 'refusing to pin'));
  const uid = await clusterUid(cluster).catch((err: unknown) => {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `cannot pin: ${(err as Error).message}. Check that the cluster is up and the kube context is right.`,
    );
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
  const text = withUid(readFileSync(target, 'utf8'), uid, shown);
  parseInventory(text, shown); // the edit must leave a valid inventory
  const { mode } = statSync(target);
  try {
    replaceFileDurably(target, text, { mode: mode & 0o7777 });
    chmodSync(target, mode & 0o7777); // the umask narrowed the new file's mode: give it the old one exactly
  } catch (err) {
    throw new UsageError(`cannot pin: writing ${shown} failed (${describeError(err)}); the inventory is unchanged`);
  }
  return { ...result, changed: true, ...(previous ? { previous } : {}) };
}

/** The inventory text with cluster.uid set: the old uid value replaced in place, or a line added after `server:`. */
export function withUid(text: string, uid: string, shown: string): string {
  const doc = parseDocument(text);
  const cluster = doc.get('cluster', true);
  if (!isMap(cluster)) throw new UsageError(`cannot pin: ${shown} has no cluster: mapping`);
  const pair = (key: string) => (cluster as YAMLMap).items.find((p: Pair) => isScalar(p.key) && p.key.value === key);
  const existing = pair('uid');
  if (existing && isScalar(existing.value) && existing.value.range) {
    const [start, end] = existing.value.range;
    return text.slice(0, start) + uid + text.slice(end);
  }
  const anchor = pair('server') ?? (cluster as YAMLMap).items[0];
  if (!anchor || !isScalar(anchor.key) || !anchor.key.range || !isScalar(anchor.value) || !anchor.value.range) {
    throw new UsageError(
      `cannot pin: ${shown}'s cluster: mapping is not written one key per line; add "uid: ${uid}" under cluster: yourself`,
    );
  }
  const lines = new LineCounter();
  parseDocument(text, { lineCounter: lines });
  const indent = ' '.repeat(lines.linePos(anchor.key.range[0]).col - 1);
  const lineEnd = text.indexOf('\n', anchor.value.range[1]);
  const at = lineEnd < 0 ? text.length : lineEnd;
  return `${text.slice(0, at)}\n${indent}uid: ${uid}${text.slice(at)}`;
}
