// Apply steps through the API, against the sandbox: server-side apply as field manager
// `runbook`, each object's result in the record (created, unchanged, configured, failed with
// the API's message), and `runbook check --cluster`, the same objects as a server-side dry run
// reported at their lines. Plain `check` is shown not to open a connection at all.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runbook } from '../helpers/cli.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { kubectlOk, sandbox, uniqueName } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'runbook-apply-'));
const records = join(dir, 'runs');
// A cluster name of its own, so the run's lease never meets another suite's on the shared sandbox.
const clusterName = uniqueName('apply');
const inventory = join(dir, 'inventory.yaml');
const ns = uniqueName('apply-ns');
const env = () => ({ KUBECONFIG: inject('kubeconfig'), RUNBOOK_LOCK_DIR: join(dir, 'locks') });

/** A manifest of three objects: the namespace, a ConfigMap in it, a Deployment in it. */
function manifest(opts: { data?: string; replicas?: string; extra?: string } = {}): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: ${ns}
data:
  greeting: ${opts.data ?? 'hello'}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: ${opts.replicas ?? '1'}${opts.extra ?? ''}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: nginx:1.27 }]`;
}

/** The page: frontmatter (8 lines), a blank line, a heading, a blank line, then the fence on line 12. */
const FENCE_LINE = 12;
function page(id: string, yaml: string): string {
  const file = join(dir, `${id}.mdx`);
  writeFileSync(
    file,
    `---\ntitle: ${id}\nrunbook:\n  id: ${id}\n  risk: low\n  cluster: ${clusterName}\n  requires: [kubectl]\n---\n\n# ${id}\n\n\`\`\`yaml step=web apply\n${yaml}\n\`\`\`\n`,
  );
  return file;
}

function records_(id: string): RunRecord[] {
  return readdirSync(join(records, id))
    .sort()
    .map((name) => runRecordSchema.parse(JSON.parse(readFileSync(join(records, id, name), 'utf8'))));
}

/** The CLI without blocking this process (the listener below must go on accepting meanwhile). */
function runbookAsync(
  args: string[],
  extraEnv: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['runner/cli.ts', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const results = (rec: RunRecord) => rec.steps[0]!.applied?.map((a) => `${a.kind}/${a.name} ${a.result}`);

beforeAll(() => {
  const inv = parse(readFileSync(join(inject('sandboxStateDir'), 'inventory.yaml'), 'utf8'));
  inv.cluster.name = clusterName;
  writeFileSync(inventory, stringify(inv));
});

afterAll(async () => {
  await sandbox()
    .kc.makeApiClient(CoreV1Api)
    .deleteNamespace({ name: ns })
    .catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('apply steps go through the API (server-side apply, field manager runbook)', () => {
  const run = (file: string) => runbook(['run', file, '--inventory', inventory, '--records', records], { env: env() });

  it('created on the first run, unchanged on the second, configured after a change; the record says so', () => {
    const file = page('apply-web', manifest());
    const first = run(file);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toContain(`namespace/${ns} created`);
    expect(first.stdout).toContain('configmap/web-config created');
    expect(first.stdout).toContain('deployment.apps/web created');

    const second = run(file);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toContain('deployment.apps/web unchanged');

    page('apply-web', manifest({ data: 'changed' }));
    const third = run(file);
    expect(third.code, third.stderr + third.stdout).toBe(0);

    const [a, b, c] = records_('apply-web');
    expect(results(a!)).toEqual([`Namespace/${ns} created`, 'ConfigMap/web-config created', 'Deployment/web created']);
    expect(results(b!)).toEqual([
      `Namespace/${ns} unchanged`,
      'ConfigMap/web-config unchanged',
      'Deployment/web unchanged',
    ]);
    expect(results(c!)).toEqual([
      `Namespace/${ns} unchanged`,
      'ConfigMap/web-config configured',
      'Deployment/web unchanged',
    ]);
    expect(a!.steps[0]!.applied![0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', name: ns, result: 'created' });
    expect(a!.steps[0]!.applied![2]).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'web',
      result: 'created',
    });
    expect(c!.steps[0]!.output).toBe(
      `namespace/${ns} unchanged\nconfigmap/web-config configured\ndeployment.apps/web unchanged\n`,
    );

    // The cluster has it, owned by the field manager `runbook`.
    const cm = JSON.parse(
      kubectlOk(['get', 'configmap', 'web-config', '-n', ns, '-o', 'json', '--show-managed-fields']),
    );
    expect(cm.data).toEqual({ greeting: 'changed' });
    expect(
      cm.metadata.managedFields.map((m: { manager: string; operation: string }) => `${m.manager} ${m.operation}`),
    ).toContain('runbook Apply');
  });

  it("a namespaced object without a namespace goes to the kube context's (here: default)", () => {
    const name = uniqueName('cm');
    const file = page(
      'apply-default-ns',
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"`,
    );
    try {
      const r = run(file);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(records_('apply-default-ns')[0]!.steps[0]!.applied).toEqual([
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name, result: 'created' },
      ]);
    } finally {
      kubectlOk(['delete', 'configmap', name, '-n', 'default', '--ignore-not-found']);
    }
  });

  it("an invalid manifest fails the step with the API's own message per object; the valid ones are still applied", () => {
    const file = page('apply-invalid', manifest({ data: 'changed', replicas: '"2"' }));
    const r = run(file);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const step = records_('apply-invalid')[0]!.steps[0]!;
    expect(step.status).toBe('failed');
    expect(step.applied?.map((a) => a.result)).toEqual(['unchanged', 'unchanged', 'failed']);
    expect(step.applied![2]!.error).toMatch(/\.spec\.replicas: expected numeric \(int or float\), got string/);
    expect(step.error).toMatch(/^deployment\.apps\/web: .*\.spec\.replicas: expected numeric/);
    expect(r.stdout).toMatch(/deployment\.apps\/web failed: .*\.spec\.replicas: expected numeric/);

    // A field the schema lacks is refused (strict field validation), not dropped.
    const typo = page('apply-typo', manifest({ data: 'changed', extra: '\n  replicaz: 3' }));
    const t = run(typo);
    expect(t.code).toBe(1);
    expect(records_('apply-typo')[0]!.steps[0]!.applied![2]!.error).toMatch(
      /\.spec\.replicaz: field not declared in schema/,
    );
  });

  it('a manifest of more objects than a record keeps: 200 in applied, failures first, and the count of the rest', () => {
    const prefix = uniqueName('many');
    const objects = Array.from(
      { length: 205 },
      (_, i) =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${prefix}-${i}\n  namespace: ${ns}\ndata:\n  n: ${i === 204 ? '[not, a, string]' : `"${i}"`}`,
    );
    const file = page('apply-many', objects.join('\n---\n'));
    const r = run(file);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const step = records_('apply-many')[0]!.steps[0]!;
    expect(step.applied).toHaveLength(200);
    expect(step.appliedOmitted).toBe(5);
    expect(step.applied![0]).toMatchObject({ name: `${prefix}-204`, result: 'failed' });
    expect(step.applied!.slice(1).every((o) => o.result === 'created')).toBe(true);
  });
});

describe('runbook check --cluster: a server-side dry run of every apply step', () => {
  const check = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runbook(['check', ...args, '--inventory', inventory], { env: { ...env(), ...extraEnv } });

  it("reports each object the API refuses at its line with the API's message, exit 1; nothing is created", async () => {
    const fresh = uniqueName('dry-ns');
    const file = page('dry-invalid', manifest({ replicas: '"2"' }).replaceAll(ns, fresh));
    const r = check(['--cluster', file]);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    // The Deployment's `apiVersion:` is line 14 of the manifest, so the page's line FENCE_LINE + 14.
    const line = FENCE_LINE + 14;
    expect(r.stdout).toMatch(
      new RegExp(
        `dry-invalid\\.mdx:${line}:1  error  cluster-dry-run  step "web": deployment\\.apps/web \\(namespace ${fresh}\\): .*\\.spec\\.replicas: expected numeric \\(int or float\\), got string`,
      ),
    );
    expect(r.stdout.match(/cluster-dry-run/g)).toHaveLength(1); // the namespace and the ConfigMap pass (in a namespace the page creates)
    expect(r.stderr).toMatch(
      /server-side dry run against https:\/\/127\.0\.0\.1:\d+: 3 objects in 1 apply step, 1 refused/,
    );
    const { kc } = sandbox();
    const err = await kc
      .makeApiClient(CoreV1Api)
      .readNamespace({ name: fresh })
      .then(
        () => undefined,
        (e: { code?: number }) => e,
      );
    expect(err?.code).toBe(404);

    const json = check(['--cluster', '--json', file]);
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout);
    expect(out.ok).toBe(false);
    expect(out.cluster).toMatchObject({ objects: 3, refused: 1, steps: 1 });
    expect(out.diagnostics.find((d: { rule: string }) => d.rule === 'cluster-dry-run')).toMatchObject({
      line,
      severity: 'error',
    });
  });

  it('a valid manifest: exit 0', () => {
    const file = page('dry-valid', manifest().replaceAll(ns, uniqueName('dry-ok')));
    const r = check(['--cluster', file]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toContain('3 objects in 1 apply step, 0 refused');
  });

  it('--context without --cluster is refused: plain check talks to no cluster', () => {
    const r = check(['--context', 'homelab', page('dry-context', manifest())]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--context is used with --cluster only');
  });

  describe('plain check does not talk to the API', () => {
    let server: Server;
    let connections = 0;
    let listening = '';
    beforeAll(async () => {
      server = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      listening = `https://127.0.0.1:${port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('with a kubeconfig and inventory pointing at a listener, check opens no connection; check --cluster does', async () => {
      const inv = parse(readFileSync(inventory, 'utf8'));
      inv.cluster.server = listening;
      const otherInventory = join(dir, 'listener-inventory.yaml');
      writeFileSync(otherInventory, stringify(inv));
      const kubeconfig = parse(readFileSync(inject('kubeconfig'), 'utf8'));
      for (const c of kubeconfig.clusters) c.cluster.server = listening;
      const otherKubeconfig = join(dir, 'listener-kubeconfig');
      writeFileSync(otherKubeconfig, stringify(kubeconfig));
      const file = page('dry-offline', manifest({ replicas: '"2"' }));
      const args = (extra: string[]) => ['check', ...extra, file, '--inventory', otherInventory];
      const opts = { env: { ...env(), KUBECONFIG: otherKubeconfig, RUNBOOK_API_TIMEOUT_MS: '2000' } };

      const plain = await runbookAsync(args([]), opts.env);
      expect(plain.code, plain.stderr + plain.stdout).toBe(0);
      expect(plain.stdout).not.toContain('cluster-dry-run');
      expect(connections).toBe(0);

      const withCluster = await runbookAsync(args(['--cluster']), opts.env);
      expect(withCluster.code).toBe(2);
      expect(connections).toBeGreaterThan(0);
    });
  });
});
