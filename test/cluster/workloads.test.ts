// Controllers and scheduler are real: a Deployment's pods are created by the
// ReplicaSet controller, scheduled onto the simulated nodes, and reported
// Running by kwok.
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectlOk, sandbox, uniqueName } from './helpers.ts';

const ns = uniqueName('workloads');

describe('a Deployment on simulated nodes', () => {
  const { kc } = sandbox();
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  afterAll(async () => {
    await core.deleteNamespace({ name: ns }).catch(() => {});
  });

  it('gets its pods Running, each on an inventory node', async () => {
    kubectlOk(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3']);
    const pods = await eventually('3 Running pods', async () => {
      const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      const running = list.items.filter((p: V1Pod) => p.status?.phase === 'Running');
      return running.length === 3 ? running : undefined;
    });
    const nodeNames = new Set((await core.listNode()).items.map((n) => n.metadata!.name));
    for (const p of pods) {
      expect(nodeNames.has(p.spec!.nodeName!), `${p.metadata!.name} on ${p.spec!.nodeName}`).toBe(true);
      expect(p.status!.podIP).toMatch(/^10\.42\./); // the inventory's pod CIDR
      expect(p.status!.containerStatuses?.[0]?.ready).toBe(true);
    }

    const d = await eventually('deployment available', async () => {
      const dep = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      return dep.status?.availableReplicas === 3 ? dep : undefined;
    });
    expect(d.status?.readyReplicas).toBe(3);
    expect(kubectlOk(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s'])).toContain(
      'successfully rolled out',
    );
  });

  it('scales down through the ReplicaSet controller', async () => {
    kubectlOk(['-n', ns, 'scale', 'deployment/web', '--replicas=1']);
    await eventually('1 pod left', async () => {
      const list = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      return list.items.length === 1 && list.items[0]!.status?.phase === 'Running';
    });
  });
});
