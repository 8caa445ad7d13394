// Server-side dry-run, what `runbook check`/a runbook's preflight uses to
// validate manifests: the real API server's admission and validation answer.
import { AppsV1Api, ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubectl, sandbox, uniqueName } from './helpers.ts';

const name = uniqueName('dryrun');
const good = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: default
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: web, image: nginx:1.27, ports: [{ containerPort: 80 }] }]
`;

describe('server-side dry-run apply', () => {
  const { kc } = sandbox();
  const apps = kc.makeApiClient(AppsV1Api);

  it('accepts a valid manifest without creating anything', async () => {
    const r = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], good);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`deployment.apps/${name} serverside-applied (server dry run)`);
    const err = await apps.readNamespacedDeployment({ name, namespace: 'default' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ApiException<unknown>).code).toBe(404);
  });

  it("rejects a manifest whose selector does not match its template, with the API's message", () => {
    const bad = good.replace(
      `template:\n    metadata: { labels: { app: ${name} } }`,
      'template:\n    metadata: { labels: { app: other } }',
    );
    const r = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], bad);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`The Deployment "${name}" is invalid`);
    expect(r.stderr).toContain('spec.template.metadata.labels: Invalid value');
    expect(r.stderr).toContain('`selector` does not match template `labels`');
  });

  it('rejects an unknown field (strict server-side field validation)', () => {
    const r = kubectl(
      ['apply', '--server-side', '--dry-run=server', '-f', '-'],
      good.replace('replicas: 2', 'replicaz: 2'),
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('.spec.replicaz: field not declared in schema');
  });

  it('answers client-node dry-run creates with an ApiException carrying the API status', async () => {
    const body = {
      metadata: { name: 'Not_A_Valid_Name' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    };
    const err = await apps.createNamespacedDeployment({ namespace: 'default', body, dryRun: 'All' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiException);
    const api = err as ApiException<string>;
    expect(api.code).toBe(422);
    const status = JSON.parse(api.body) as { reason: string; message: string };
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain('metadata.name: Invalid value: "Not_A_Valid_Name"');
  });
});
