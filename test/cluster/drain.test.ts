// Node maintenance as a runbook does it: cordon, drain (evictions, which a
// PodDisruptionBudget first refuses with 429 and then allows) and uncordon.
// Needs the scheduler (re-placing pods), the controller-manager (ReplicaSets,
// the disruption controller computing the budget) and kwok (pod deletion).
import { ApiException, AppsV1Api, CoreV1Api, PolicyV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlOk, sandbox, uniqueName } from './helpers.ts';

const ns = uniqueName('drain');
const app = uniqueName('drained');

describe('cordon, drain and uncordon', () => {
  const { kc } = sandbox();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  let node = '';

  const appPods = async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
  const runningOn = (pods: V1Pod[], n: string) =>
    pods.filter((p) => p.spec?.nodeName === n && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);

  beforeAll(async () => {
    // An agent node if the inventory has one: that is what a drain runbook targets.
    const nodes = (await core.listNode()).items;
    const agent = nodes.find((n) => !n.metadata?.labels?.['node-role.kubernetes.io/control-plane']) ?? nodes[0]!;
    node = agent.metadata!.name!;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    // Two replicas pinned to the node, and a budget that allows no disruption.
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: app },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: {
              nodeSelector: { 'kubernetes.io/hostname': node },
              containers: [{ name: 'app', image: 'nginx:1.27' }],
            },
          },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: {
        metadata: { name: app },
        spec: { minAvailable: 2, selector: { matchLabels: { app } } },
      },
    });
    await eventually('2 pods Running on the node', async () => runningOn(await appPods(), node).length === 2);
    await eventually('the budget to be observed', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: app, namespace: ns });
      return pdb.status?.currentHealthy === 2 && pdb.status.disruptionsAllowed === 0;
    });
  });

  afterAll(async () => {
    kubectl(['uncordon', node]);
    await core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it('cordon marks the node unschedulable', async () => {
    expect(kubectlOk(['cordon', node])).toContain('cordoned');
    expect((await core.readNode({ name: node })).spec?.unschedulable).toBe(true);
    // The node lifecycle controller (controller-manager) adds the matching taint, a moment later.
    await eventually('the unschedulable taint', async () =>
      (await core.readNode({ name: node })).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable'),
    );
  });

  it('an eviction that would break the budget is refused with 429', async () => {
    const pod = (await appPods())[0]!;
    const err = await core
      .createNamespacedPodEviction({
        name: pod.metadata!.name!,
        namespace: ns,
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata!.name!, namespace: ns } },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApiException);
    const api = err as ApiException<string>;
    expect(api.code).toBe(429);
    expect(String(api.body)).toContain('disruption budget');
  });

  it('drain gives up while the budget blocks it, and leaves the pods running', () => {
    const r = kubectl([
      'drain',
      node,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      `--pod-selector=app=${app}`,
      '--timeout=8s',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/violate the pod's disruption budget/);
  });

  it('drain evicts the pods once the budget allows it', async () => {
    expect(runningOn(await appPods(), node)).toHaveLength(2);
    await policy.patchNamespacedPodDisruptionBudget({
      name: app,
      namespace: ns,
      body: [{ op: 'replace', path: '/spec/minAvailable', value: 0 }],
    });
    await eventually(
      'the budget to allow 2 disruptions',
      async () =>
        (await policy.readNamespacedPodDisruptionBudget({ name: app, namespace: ns })).status?.disruptionsAllowed === 2,
    );

    const out = kubectlOk([
      'drain',
      node,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      `--pod-selector=app=${app}`,
      '--timeout=60s',
    ]);
    expect(out).toMatch(/evicted/);
    expect(out).toContain(`node/${node} drained`);
    // Replacements cannot go anywhere: pinned to a cordoned node.
    await eventually('replacements Pending', async () => {
      const pods = await appPods();
      return pods.length === 2 && pods.every((p) => p.status?.phase === 'Pending' && !p.spec?.nodeName);
    });
  });

  it('uncordon lets the pods come back', async () => {
    expect(kubectlOk(['uncordon', node])).toContain('uncordoned');
    expect((await core.readNode({ name: node })).spec?.unschedulable).toBeFalsy();
    await eventually('2 pods Running on the node again', async () => runningOn(await appPods(), node).length === 2);
  });
});
