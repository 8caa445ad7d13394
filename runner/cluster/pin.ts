import { writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { KubeEntry, KubeView } from './kubeconfig.ts';

/**
 * The kube context a run's guard accepted, pinned: a private kubeconfig (0600, in
 * the run's own temp folder) holding exactly that context, its cluster and its user,
 * copied from the files the guard read. Steps get KUBECONFIG=<this file> alone, so a
 * step (or anything else) that rewrites the operator's kubeconfig mid-run cannot
 * point later steps at another cluster.
 */

/** Fields kubectl resolves relative to the file that holds them (client-go's ResolveLocalPaths). */
const CLUSTER_PATHS = ['certificate-authority'];
const USER_PATHS = ['client-certificate', 'client-key', 'tokenFile'];

export function writePinnedKubeconfig(view: KubeView, dir: string): string {
  const file = join(dir, 'kubeconfig');
  // JSON is YAML: kubectl, helm and client libraries read it as a kubeconfig. `wx`: never over an existing file.
  writeFileSync(file, `${JSON.stringify(pinnedKubeconfig(view), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

/** The accepted context alone as a kubeconfig document (what is pinned, and what API clients are built from). */
export function pinnedKubeconfig(view: KubeView): Record<string, unknown> {
  const entries = view.entries;
  if (!entries) throw new Error('pinnedKubeconfig: the guard accepted no context');
  const { context, cluster, user } = entries;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': context.name,
    contexts: [{ name: context.name, context: context.body }],
    clusters: cluster ? [{ name: cluster.name, cluster: absolutePaths(cluster, CLUSTER_PATHS) }] : [],
    users: user ? [{ name: user.name, user: userWithAbsolutePaths(user) }] : [],
    preferences: {},
  };
}

function absolutePaths(entry: KubeEntry, fields: readonly string[]): Record<string, unknown> {
  const body = { ...entry.body };
  for (const field of fields) {
    const value = body[field];
    if (typeof value === 'string' && value !== '' && !isAbsolute(value))
      body[field] = resolve(dirname(entry.file), value);
  }
  return body;
}

/** An exec plugin named by a path (not looked up on PATH) is resolved like the file fields. */
function userWithAbsolutePaths(user: KubeEntry): Record<string, unknown> {
  const body = absolutePaths(user, USER_PATHS);
  const exec = body.exec as { command?: unknown } | undefined;
  if (
    exec &&
    typeof exec === 'object' &&
    typeof exec.command === 'string' &&
    exec.command.includes('/') &&
    !isAbsolute(exec.command)
  ) {
    body.exec = { ...exec, command: resolve(dirname(user.file), exec.command) };
  }
  return body;
}
