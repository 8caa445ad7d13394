import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import type { Inventory } from '../inventory/schema.ts';

/**
 * The context guard: before a runbook touches a cluster, the kube context the
 * operator's tools will use must be the one the inventory names for that
 * cluster. Read from the kubeconfig files alone (no API call), with kubectl's
 * merge rules: KUBECONFIG lists files, the first to set a value wins.
 * (The yaml parser is used rather than @kubernetes/client-node, which costs a
 * second of start-up for the same answer.)
 */

export interface KubeView {
  files: string[];
  /** The context in effect: `--context`, else the first current-context. */
  context?: string;
  /** That context's cluster server, if the context exists. */
  server?: string;
  contextExists: boolean;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name?: string; context?: { cluster?: string } }>;
  clusters?: Array<{ name?: string; cluster?: { server?: string } }>;
}

export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter(Boolean);
  return [join(env.HOME || homedir(), '.kube', 'config')];
}

export function readKubeconfig(env: NodeJS.ProcessEnv = process.env, contextOverride?: string): KubeView {
  const files = kubeconfigFiles(env);
  let current: string | undefined;
  const contexts = new Map<string, string | undefined>();
  const servers = new Map<string, string | undefined>();
  for (const file of files) {
    if (!existsSync(file)) continue; // kubectl skips missing files too
    let doc: KubeconfigFile;
    try {
      doc = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
    } catch (err) {
      throw new Error(`${file}: not a readable kubeconfig (${(err as Error).message.split('\n')[0]})`);
    }
    current ??= doc['current-context'] || undefined;
    for (const c of doc.contexts ?? []) if (c.name && !contexts.has(c.name)) contexts.set(c.name, c.context?.cluster);
    for (const c of doc.clusters ?? []) if (c.name && !servers.has(c.name)) servers.set(c.name, c.cluster?.server);
  }
  const context = contextOverride ?? current;
  const cluster = context ? contexts.get(context) : undefined;
  return {
    files,
    ...(context ? { context } : {}),
    ...(cluster && servers.get(cluster) ? { server: servers.get(cluster) } : {}),
    contextExists: context !== undefined && contexts.has(context),
  };
}

const sameServer = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Why this kubeconfig must not be used for `cluster`, or undefined when it is the right one. */
export function contextMismatch(cluster: Inventory['cluster'], view: KubeView, inventoryFile: string): string | undefined {
  const expected = `context "${cluster.context}" with server ${cluster.server} (cluster ${cluster.name} in ${inventoryFile})`;
  const where = `kubeconfig ${view.files.join(delimiter)}`;
  if (!view.context) return `no kube context is set: expected ${expected}, found no current-context in ${where}. Pass --context ${cluster.context} or run \`kubectl config use-context ${cluster.context}\`.`;
  if (!view.contextExists) return `expected ${expected}, but context "${view.context}" does not exist in ${where}.`;
  if (view.context !== cluster.context || !view.server || !sameServer(view.server, cluster.server)) {
    return `wrong cluster: expected ${expected}, found context "${view.context}" with server ${view.server ?? '(none)'} in ${where}. Switch with --context or \`kubectl config use-context\`, or fix the inventory.`;
  }
  return undefined;
}

/**
 * With `--context`, steps must use that context too: a one-line kubeconfig that
 * only sets current-context goes first in KUBECONFIG, which kubectl, helm and
 * friends merge with the operator's files.
 */
export function pinContext(context: string, dir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const file = join(dir, 'current-context.kubeconfig');
  writeFileSync(file, `apiVersion: v1\nkind: Config\ncurrent-context: ${JSON.stringify(context)}\n`);
  return { KUBECONFIG: [file, ...kubeconfigFiles(env)].join(delimiter) };
}
