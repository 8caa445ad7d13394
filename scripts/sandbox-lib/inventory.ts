// A small reader for the lab inventory: only the fields the sandbox needs.
// (runner/inventory has the full, validated loader; the sandbox stays
// independent of it so it can start a cluster for the runner's own tests.)
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface SandboxNode {
  name: string;
  roles: string[];
  labels: Record<string, string>;
  hardware: Record<string, unknown>;
}

export interface SandboxInventory {
  clusterName: string;
  context: string;
  k3sVersion: string;
  datastore: string | undefined;
  podCidr: string;
  serviceCidr: string;
  nodes: SandboxNode[];
}

export function loadInventory(file: string): SandboxInventory {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read inventory ${file}: ${(err as Error).message}`);
  }
  const fail = (what: string): never => {
    throw new Error(`inventory ${file}: ${what}`);
  };
  const root = asRecord(doc) ?? fail('not a YAML mapping');
  const cluster = asRecord(root.cluster) ?? fail('missing `cluster:` mapping');
  const str = (v: unknown, what: string): string =>
    typeof v === 'string' && v.length > 0 ? v : fail(`missing ${what}`);
  const network = asRecord(cluster.network) ?? {};
  const k3sVersion = str(cluster.k3sVersion, 'cluster.k3sVersion');
  if (!/^v1\.\d+\.\d+/.test(k3sVersion)) fail(`cluster.k3sVersion ${k3sVersion} is not like v1.34.3+k3s1`);
  const nodesRaw = Array.isArray(root.nodes) ? root.nodes : fail('missing `nodes:` list');
  if (nodesRaw.length === 0) fail('`nodes:` is empty');

  const nodes = nodesRaw.map((n, i): SandboxNode => {
    const node = asRecord(n) ?? fail(`nodes[${i}] is not a mapping`);
    const name = str(node.name, `nodes[${i}].name`);
    const roles = Array.isArray(node.roles) ? node.roles.map(String) : fail(`nodes[${i}].roles`);
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(node.labels) ?? {})) labels[k] = String(v);
    return { name, roles, labels, hardware: asRecord(node.hardware) ?? {} };
  });
  const names = new Set<string>();
  for (const n of nodes) {
    if (names.has(n.name)) fail(`node ${n.name} is listed twice`);
    names.add(n.name);
  }
  return {
    clusterName: str(cluster.name, 'cluster.name'),
    context: str(cluster.context, 'cluster.context'),
    k3sVersion,
    datastore: typeof cluster.datastore === 'string' ? cluster.datastore : undefined,
    podCidr: typeof network.podCidr === 'string' ? network.podCidr : '10.42.0.0/16',
    serviceCidr: typeof network.serviceCidr === 'string' ? network.serviceCidr : '10.43.0.0/16',
    nodes,
  };
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
