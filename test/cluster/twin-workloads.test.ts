// The lab's workloads (src/content/lab/workloads.yaml) applied as the twin
// applies them, on a sandbox of its own (it fills kube-system, which the shared
// sandbox's other suites read): the checks k3s-upgrade, cluster-health and the
// ADRs run against the lab pass against it, and a one-node drain gets through the
// lab's PDBs as it does in the lab.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../scripts/sandbox-lib/inventory.ts';
import { down, up, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { applyLabWorkloads, FIELD_MANAGER, type AppliedWorkloads } from '../../scripts/sandbox-lib/twin/workloads.ts';

let stateDir = '';
let state: SandboxState;
let applied: AppliedWorkloads;

const kubectl = (...args: string[]) => {
  const r = spawnSync(state.kubectl, args, {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: state.kubeconfig },
    timeout: 150_000,
  });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
};
const ok = (...args: string[]) => {
  const r = kubectl(...args);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}):\n${r.out}`);
  return r.out;
};

describe("the lab's workloads on the twin", () => {
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-workloads-'));
    state = await up({ stateDir });
    applied = await applyLabWorkloads({ kubeconfig: state.kubeconfig, nodes: loadInventory(state.inventory).nodes });
  }, 180_000);

  afterAll(async () => {
    if (stateDir) {
      await down(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('applies them all and waits until they are available', () => {
    expect(applied.workloads).toBeGreaterThanOrEqual(20);
    // 3 nodes × 4 DaemonSets + one pod per Deployment/StatefulSet.
    expect(applied.pods).toBe(34);
    const managers = ok(
      '-n',
      'cert-manager',
      'get',
      'deployment',
      'cert-manager',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    );
    expect(managers).toContain(FIELD_MANAGER);
  });

  it("k3s-upgrade's system-workloads and no-stuck-pods checks pass", () => {
    expect(ok('-n', 'kube-system', 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=3m')).toMatch(
      /deployment.apps\/traefik condition met/,
    );
    expect(ok('-n', 'metallb-system', 'rollout', 'status', 'daemonset/metallb-speaker', '--timeout=2m')).toContain(
      'successfully rolled out',
    );
    expect(
      ok('-n', 'metallb-system', 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=2m'),
    ).toContain('metallb-controller condition met');
    const cm = ok('-n', 'cert-manager', 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=2m');
    for (const d of ['cert-manager', 'cert-manager-cainjector', 'cert-manager-webhook'])
      expect(cm).toContain(`deployment.apps/${d} condition met`);
    expect(
      ok('get', 'pods', '-A', '--field-selector=status.phase!=Running,status.phase!=Succeeded', '--no-headers').trim(),
    ).toMatch(/^(No resources found.*)?$/);
  });

  it('places the pods as the lab runs them: DaemonSets on every node, the rest on the agents', () => {
    const pods = ok(
      'get',
      'pods',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.spec.nodeName}{"\\n"}{end}',
    )
      .trim()
      .split('\n');
    const speakers = pods
      .filter((p) => p.startsWith('metallb-system/metallb-speaker-'))
      .map((p) => p.split(' ')[1])
      .sort();
    expect(speakers).toEqual(['k3s-master', 'k3s-worker-01', 'k3s-worker-02']);
    const onServer = pods.filter((p) => p.endsWith(' k3s-master')).map((p) => p.split(' ')[0]!);
    for (const p of onServer)
      expect(p, `${p} runs on the server`).toMatch(
        /^(kube-system|metallb-system\/metallb-speaker|monitoring\/kube-prometheus-stack-prometheus-node-exporter|velero\/node-agent)/,
      );
  });

  it('the objects the runbooks wait for are Ready, Bound and addressed', () => {
    expect(
      ok(
        'wait',
        '--for=condition=Ready',
        'clusterissuer/letsencrypt-staging',
        'clusterissuer/letsencrypt-prod',
        '--timeout=30s',
      ),
    ).toContain('condition met');
    for (const [ns, c] of [
      ['apps', 'n8n-tls'],
      ['ml', 'ollama-tls'],
      ['demo', 'whoami-tls'],
      ['monitoring', 'grafana-tls'],
    ]) {
      expect(ok('-n', ns!, 'wait', '--for=condition=Ready', `certificate/${c}`, '--timeout=30s')).toContain(
        'condition met',
      );
    }
    expect(ok('get', 'certificates', '-A')).toMatch(/grafana-tls\s+True\s+grafana-tls/);
    expect(
      ok('-n', 'kube-system', 'get', 'service', 'traefik', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'),
    ).toBe('192.168.2.100');
    expect(
      ok('-n', 'metallb-system', 'get', 'ipaddresspools.metallb.io', 'lab-pool', '-o', 'jsonpath={.spec.addresses[*]}'),
    ).toBe('192.168.2.100-192.168.2.120');
    expect(
      ok(
        '-n',
        'metallb-system',
        'get',
        'l2advertisements.metallb.io',
        'lab-l2',
        '-o',
        'jsonpath={.spec.ipAddressPools[*]}',
      ),
    ).toBe('lab-pool');
    expect(
      ok('get', 'storageclass', 'nfs-csi', '-o', 'jsonpath={.provisioner} {.parameters.server} {.parameters.share}'),
    ).toBe('nfs.csi.k8s.io 192.168.2.2 /volume1/k3s');
    expect(ok('-n', 'data', 'wait', '--for=condition=Ready', 'pod/postgres-postgresql-0', '--timeout=30s')).toContain(
      'condition met',
    );
    expect(ok('-n', 'data', 'rollout', 'status', 'statefulset/postgres-postgresql', '--timeout=30s')).toContain(
      'complete',
    );
    const claims = ok(
      'get',
      'pvc',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.phase}{"\\n"}{end}',
    )
      .trim()
      .split('\n');
    expect(claims.length).toBeGreaterThanOrEqual(7);
    for (const c of claims) expect(c).toMatch(/ Bound$/);
    expect(
      ok(
        '-n',
        'velero',
        'get',
        'backupstoragelocations.velero.io',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{end}',
      ),
    ).toBe('default Available');
  });

  it("cluster-health's pod check finds nothing stuck and no svclb DaemonSet exists", () => {
    expect(
      ok(
        'get',
        'pods',
        '--all-namespaces',
        '--field-selector=status.phase!=Running,status.phase!=Succeeded',
        '--no-headers',
      ).trim(),
    ).toMatch(/^(No resources found.*)?$/);
    expect(ok('-n', 'kube-system', 'get', 'daemonsets', '-o', 'name')).not.toContain('svclb-');
  });

  it("drains one node at a time through the lab's PDBs, as k3s-upgrade does, and everything comes back", () => {
    expect(ok('get', 'pdb', '-n', 'data', 'postgres-postgresql', '-o', 'jsonpath={.status.disruptionsAllowed}')).toBe(
      '1',
    );
    for (const node of ['k3s-master', 'k3s-worker-01', 'k3s-worker-02']) {
      const drained = ok('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s');
      expect(drained).toContain(`node/${node} drained`);
      ok('uncordon', node);
    }
    // postgres-postgresql-0 was evicted through its PDB (it ran on one of the agents).
    ok('-n', 'data', 'rollout', 'status', 'statefulset/postgres-postgresql', '--timeout=60s');
    ok(
      '-n',
      'monitoring',
      'rollout',
      'status',
      'statefulset/prometheus-kube-prometheus-stack-prometheus',
      '--timeout=60s',
    );
    for (const ns of ['kube-system', 'metallb-system', 'cert-manager', 'monitoring', 'apps', 'ml']) {
      ok('-n', ns, 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=60s');
    }
    ok('-n', 'metallb-system', 'rollout', 'status', 'daemonset/metallb-speaker', '--timeout=60s');
  });

  it('the budget is what lets the drain through: set to allow no disruption, the same drain is refused', () => {
    const node = ok('-n', 'data', 'get', 'pod', 'postgres-postgresql-0', '-o', 'jsonpath={.spec.nodeName}');
    ok('-n', 'data', 'patch', 'pdb', 'postgres-postgresql', '--type=merge', '-p', '{"spec":{"maxUnavailable":0}}');
    try {
      const r = kubectl(
        'drain',
        node,
        '--ignore-daemonsets',
        '--delete-emptydir-data',
        '--pod-selector=app.kubernetes.io/name=postgresql',
        '--timeout=5s',
      );
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/disruption budget/i);
    } finally {
      ok('uncordon', node);
      ok('-n', 'data', 'patch', 'pdb', 'postgres-postgresql', '--type=merge', '-p', '{"spec":{"maxUnavailable":1}}');
    }
  });
});
