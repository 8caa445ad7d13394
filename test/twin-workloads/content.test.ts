// src/content/lab/workloads.yaml against the content: it parses, and every
// namespace and object a step names with kubectl exists in it, so the twin's
// workloads and the pages cannot drift apart.
import { describe, expect, it } from 'vitest';
import { loadAll } from '../../runner/project.ts';
import { missingFromWorkloads, stepRefs, type StepRef } from '../../scripts/sandbox-lib/twin/workloads-refs.ts';
import { loadWorkloads } from '../../scripts/sandbox-lib/twin/workloads-schema.ts';
import { TWIN_LABEL, twinManifests } from '../../scripts/sandbox-lib/twin/workloads-manifests.ts';

const root = new URL('../..', import.meta.url).pathname;
const doc = loadWorkloads();
const refs = stepRefs(loadAll(root));

/**
 * Namespaces whose objects the steps make themselves, so the lab does not run them:
 * default (weekend 1's hello, weekend 2's probe pods and claim, the canary Jobs) and
 * nfs-smoke-test (the smoke test's own apply step creates and deletes it).
 */
const MADE_BY_STEPS = new Set(['default', 'nfs-smoke-test']);
const exempt = (r: StepRef) => MADE_BY_STEPS.has(r.kind === 'namespace' ? r.name! : (r.namespace ?? 'default'));

describe('the workloads file', () => {
  it('parses and names the namespaces the lab runs', () => {
    expect(doc.namespaces.map((n) => n.name)).toEqual(
      expect.arrayContaining(['kube-system', 'metallb-system', 'cert-manager', 'monitoring', 'data', 'apps', 'ml']),
    );
  });

  it('has every namespace and object a step names', () => {
    const missing = [
      ...new Set(
        refs
          .filter((r) => !exempt(r))
          .map((r) => {
            const why = missingFromWorkloads(doc, r);
            return why && `${r.page} step ${r.step}: ${why}\n    ${r.line}`;
          })
          .filter(Boolean),
      ),
    ];
    expect(missing, missing.join('\n')).toEqual([]);
  });

  it('the scanner sees what k3s-upgrade and the runbooks wait for', () => {
    const names = (page: string) =>
      refs.filter((r) => r.page === page).map((r) => `${r.namespace ?? ''}:${r.kind}/${r.name}`);
    expect(names('k3s-upgrade')).toEqual(
      expect.arrayContaining([
        ':namespace/kube-system',
        ':namespace/metallb-system',
        ':namespace/cert-manager',
        'metallb-system:daemonset/metallb-speaker',
      ]),
    );
    // $PG_NAMESPACE/$PG_POD are read as the params' defaults.
    expect(names('postgres-backup')).toContain('data:pod/postgres-postgresql-0');
    expect(names('storage-expansion')).toContain('data:pvc/data-postgres-postgresql-0');
    expect(names('weekend-5-applications')).toContain('ml:certificate/ollama-tls');
  });

  it('a name the file lacks is reported', () => {
    const ref: StepRef = {
      page: 'p',
      step: 's',
      namespace: 'metallb-system',
      kind: 'daemonset',
      name: 'speaker',
      line: '',
    };
    expect(missingFromWorkloads(doc, ref)).toMatch(
      /daemonset\/speaker in namespace metallb-system is not in workloads.yaml/,
    );
  });
});

describe('the twin objects made from it', () => {
  const nodes = [
    { name: 'k3s-master', roles: ['server'] },
    { name: 'k3s-worker-01', roles: ['agent'] },
    { name: 'k3s-worker-02', roles: ['agent'] },
  ];
  const m = twinManifests(doc, nodes, new Date('2026-01-01T00:00:00Z'));
  const everything = [...m.foundation, ...m.objects, ...m.volumes.map((v) => v.pv), ...m.afterClaims];

  it("labels every object as the twin's", () => {
    for (const o of everything) expect(o.metadata.labels?.[TWIN_LABEL], `${o.kind} ${o.metadata.name}`).toBe('true');
  });

  it('places DaemonSets on every node and ordinary workloads off the server', () => {
    const spec = (o: Record<string, unknown>) =>
      (o.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const ds = everything.filter((o) => o.kind === 'DaemonSet');
    expect(ds.length).toBeGreaterThanOrEqual(4);
    for (const d of ds) expect(spec(d).tolerations).toEqual([{ operator: 'Exists' }]);
    const n8n = everything.find((o) => o.kind === 'Deployment' && o.metadata.name === 'n8n')!;
    expect(JSON.stringify(spec(n8n).affinity)).toContain(
      '"node-role.kubernetes.io/control-plane","operator":"DoesNotExist"',
    );
  });

  it('gives each claim its own PV, a local-path one pinned to an agent', () => {
    expect(m.volumes.length).toBe(everything.filter((o) => o.kind === 'PersistentVolumeClaim').length);
    const prom = m.volumes.find((v) => v.claim.name.startsWith('prometheus-'))!;
    expect(JSON.stringify(prom.pv.spec)).toContain('"values":["k3s-worker-01"]');
  });

  it('writes the status MetalLB and cert-manager would', () => {
    const traefik = m.statuses.find((s) => s.kind === 'Service' && s.metadata.name === 'traefik')!;
    expect(traefik.status).toEqual({ loadBalancer: { ingress: [{ ip: '192.168.2.100', ipMode: 'VIP' }] } });
    const cert = m.statuses.find((s) => s.kind === 'Certificate' && s.metadata.name === 'grafana-tls')!;
    expect((cert.status as { conditions: Array<{ type: string; status: string }> }).conditions[0]).toMatchObject({
      type: 'Ready',
      status: 'True',
    });
  });
});
