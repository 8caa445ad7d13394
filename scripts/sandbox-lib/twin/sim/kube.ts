// The simulator drives the node's Node object through the API, as the node's kubelet
// would: with the sandbox kubectl and the node's kubeconfig (https://127.0.0.1:6443
// inside the node's netns, forwarded to the sandbox apiserver). Ready/NotReady itself
// is decided by our kwok stages (test/cluster/kwok/stages.yaml) from the annotations
// set here; the kubelet version goes through the status subresource.
import { spawnSync } from 'node:child_process';
import { SimError, type Node } from './node.ts';

export const k3sAnnotation = 'twin.k3s-lab/k3s';
export const readyAtAnnotation = 'twin.k3s-lab/ready-at';

export function kubectl(
  node: Node,
  args: string[],
  input?: string,
): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(node.state.kubectl, [`--kubeconfig=${node.state.kubeconfig}`, '--request-timeout=10s', ...args], {
    encoding: 'utf8',
    input,
    timeout: 20_000,
  });
  if (r.error)
    throw new SimError(
      `lab twin simulator: cannot run the sandbox kubectl ${node.state.kubectl}: ${r.error.message}`,
      2,
    );
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function must(node: Node, what: string, args: string[]): string {
  const r = kubectl(node, args);
  if (r.status !== 0) {
    throw new SimError(
      `lab twin simulator: could not ${what} for node ${node.name} through the API: ${r.stderr.trim() || r.stdout.trim()}`,
      1,
    );
  }
  return r.stdout;
}

/** k3s went down: the kwok stage turns the node's conditions Unknown ("Kubelet stopped posting node status."). */
export function markStopped(node: Node): void {
  must(node, 'mark k3s stopped', ['annotate', 'node', node.name, `${k3sAnnotation}=stopped`, '--overwrite']);
}

/**
 * k3s came up at `version`: the kubelet reports its version (status subresource), and
 * the kwok stage makes the node Ready once `ready-at` has passed.
 */
export function markRunning(node: Node, version: string, delayMs: number): void {
  // A kubelet reports the machine's boot id too: after a reboot it is new (node-maintenance waits for that).
  const info = {
    status: { nodeInfo: { kubeletVersion: version, kubeProxyVersion: version, bootID: node.state.bootId } },
  };
  must(node, 'report the kubelet version', [
    'patch',
    'node',
    node.name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(info),
  ]);
  const at = new Date(Date.now() + Math.max(0, delayMs)).toISOString();
  must(node, 'mark k3s running', [
    'annotate',
    'node',
    node.name,
    `${k3sAnnotation}=running`,
    `${readyAtAnnotation}=${at}`,
    '--overwrite',
  ]);
}

/** The node's Ready condition status as the API shows it ('True', 'False', 'Unknown' or '' when absent). */
export function readyStatus(node: Node): string {
  return must(node, 'read the Ready condition', [
    'get',
    'node',
    node.name,
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
  ]).trim();
}

export async function waitReady(node: Node, want: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (readyStatus(node) === want) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 150));
  }
}
