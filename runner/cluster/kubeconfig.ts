import { readRegularFile, somethingAt } from '../read-file.ts';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import type { Inventory } from '../inventory/schema.ts';
import { describeError, UsageError } from '../errors.ts';
import { shellCommand } from '../ui/shell-quote.ts';

/**
 * The context guard: before a runbook touches a cluster, the kube context the
 * operator's tools will use must be the one the inventory names for that
 * cluster. Read from the kubeconfig files alone (no API call), with kubectl's
 * merge rules: KUBECONFIG lists files, the first to set a value wins.
 * (The yaml parser is used rather than @kubernetes/client-node, which costs a
 * second of start-up for the same answer.)
 */

/** A named entry of a kubeconfig list, and the file it came from (relative paths in it are relative to that file). */
export interface KubeEntry {
  name: string;
  body: Record<string, unknown>;
  file: string;
}

export interface KubeView {
  files: string[];
  /** The context in effect: `--context`, else the first current-context. */
  context?: string;
  /** That context's cluster server, if the context exists. */
  server?: string;
  contextExists: boolean;
  /** The entries that context is made of, as read: what a run pins for its steps. */
  entries?: { context: KubeEntry; cluster?: KubeEntry; user?: KubeEntry };
}

const LISTS = { contexts: 'context', clusters: 'cluster', users: 'user' } as const;
type ListName = keyof typeof LISTS;

export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter(Boolean);
  return [join(env.HOME || homedir(), '.kube', 'config')];
}

export function readKubeconfig(env: NodeJS.ProcessEnv = process.env, contextOverride?: string): KubeView {
  const files = kubeconfigFiles(env);
  let current: string | undefined;
  const entries: Record<ListName, Map<string, KubeEntry>> = {
    contexts: new Map(),
    clusters: new Map(),
    users: new Map(),
  };
  for (const file of files) {
    if (!somethingAt(file)) continue; // kubectl skips missing files too (a symlink loop is not missing)
    const doc = readKubeconfigFile(file);
    if (
      doc['current-context'] !== undefined &&
      doc['current-context'] !== null &&
      typeof doc['current-context'] !== 'string'
    ) {
      throw new UsageError(`${file}: not a usable kubeconfig: current-context must be a context name`);
    }
    current ??= (doc['current-context'] as string | undefined) || undefined;
    for (const list of Object.keys(LISTS) as ListName[]) {
      for (const entry of listEntries(doc, list, file))
        if (!entries[list].has(entry.name)) entries[list].set(entry.name, entry);
    }
  }
  const context = contextOverride ?? current;
  const ctx = context === undefined ? undefined : entries.contexts.get(context);
  if (!ctx) return { files, ...(context ? { context } : {}), contextExists: false };
  const clusterName = ctx.body.cluster;
  if (typeof clusterName !== 'string' || clusterName === '') {
    throw new UsageError(
      `${ctx.file}: not a usable kubeconfig: context "${ctx.name}" names no cluster (context.cluster)`,
    );
  }
  const cluster = entries.clusters.get(clusterName);
  const server = cluster?.body.server;
  if (server !== undefined && typeof server !== 'string') {
    throw new UsageError(
      `${cluster!.file}: not a usable kubeconfig: cluster "${clusterName}" has a server that is not a URL`,
    );
  }
  const userName = ctx.body.user;
  const user = typeof userName === 'string' ? entries.users.get(userName) : undefined;
  return {
    files,
    context: ctx.name,
    ...(server ? { server } : {}),
    contextExists: true,
    entries: { context: ctx, ...(cluster ? { cluster } : {}), ...(user ? { user } : {}) },
  };
}

/** One file, parsed and checked to be a mapping; every shape problem names the file. */
function readKubeconfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readRegularFile(file).toString('utf8');
  } catch (err) {
    throw new UsageError(`kubeconfig ${file}: ${describeError(err)}. Fix KUBECONFIG or the file.`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not a readable kubeconfig (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return {}; // an empty file, as kubectl reads it
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    const kind = Array.isArray(doc) ? 'a list' : `a ${typeof doc} (${JSON.stringify(doc).slice(0, 40)})`;
    throw new UsageError(
      `${file}: not a kubeconfig: the YAML is ${kind}, expected a mapping with clusters, contexts and users`,
    );
  }
  return doc as Record<string, unknown>;
}

function listEntries(doc: Record<string, unknown>, list: ListName, file: string): KubeEntry[] {
  const items = doc[list];
  if (items === undefined || items === null) return [];
  const bad = (what: string) => new UsageError(`${file}: not a usable kubeconfig: ${what}`);
  if (!Array.isArray(items)) throw bad(`${list} must be a list of {name, ${LISTS[list]}} entries`);
  return items.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw bad(`${list}[${i}] is not a {name, ${LISTS[list]}} entry`);
    const { name, [LISTS[list]]: body } = item as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw bad(`${list}[${i}] has no name`);
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
      throw bad(`${list}[${i}] (${name}): ${LISTS[list]} must be a mapping`);
    }
    return { name, body: (body ?? {}) as Record<string, unknown>, file };
  });
}

const sameServer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Why this kubeconfig must not be used for `cluster`, or undefined when it is the right one. */
export function contextMismatch(
  cluster: Inventory['cluster'],
  view: KubeView,
  inventoryFile: string,
): string | undefined {
  const expected = `context "${cluster.context}" with server ${cluster.server} (cluster ${cluster.name} in ${inventoryFile})`;
  const where = `kubeconfig ${view.files.join(delimiter)}`;
  const useIt = shellCommand(['kubectl', 'config', 'use-context', cluster.context]);
  if (!view.context) {
    const pass = shellCommand(['--context', cluster.context]);
    return `no kube context is set: expected ${expected}, found no current-context in ${where}. Pass ${pass} or run \`${useIt}\`.`;
  }
  if (!view.contextExists) return `expected ${expected}, but context "${view.context}" does not exist in ${where}.`;
  if (view.context !== cluster.context || !view.server || !sameServer(view.server, cluster.server)) {
    return (
      `wrong cluster: expected ${expected}, found context "${view.context}" with server ${view.server ?? '(none)'} in ${where}. ` +
      'Switch with --context or `kubectl config use-context`, or fix the inventory.'
    );
  }
  return undefined;
}
