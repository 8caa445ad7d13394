// The lab's workloads on the twin: applies src/content/lab/workloads.yaml
// (workloads-manifests.ts) to the sandbox with server-side apply as field
// manager `lab-twin`, writes the status the absent controllers would, and
// waits until every Deployment, DaemonSet and StatefulSet is available.
//
// Raw HTTPS requests on one keep-alive agent rather than kubectl or the typed
// client: about a hundred small PATCHes go out in parallel per phase, which
// keeps this under a second or two of `up`.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { loadWorkloads } from './workloads-schema.ts';
import {
  CRDS,
  objectPath,
  TWIN_SELECTOR,
  twinManifests,
  type KubeObject,
  type PlacementNode,
  type TwinManifests,
} from './workloads-manifests.ts';

export const FIELD_MANAGER = 'lab-twin';

export interface ApplyWorkloadsOptions {
  /** Defaults to src/content/lab/workloads.yaml. */
  file?: string;
  log?: (line: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AppliedWorkloads {
  objects: number;
  workloads: number;
  pods: number;
  ms: { apply: number; available: number };
}

/** What applyLabWorkloads needs of the sandbox (a subset of SandboxState). */
export interface WorkloadsHost {
  kubeconfig: string;
  nodes: PlacementNode[];
}

/** Raw HTTPS calls to the sandbox API on one keep-alive agent (also history.ts's). */
export class Api {
  private readonly agent: Agent;
  private readonly url: URL;
  constructor(kubeconfig: string) {
    const kc = parse(readFileSync(kubeconfig, 'utf8')) as {
      'current-context': string;
      contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
      clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
      users: Array<{ name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }>;
    };
    const ctx = kc.contexts.find((c) => c.name === kc['current-context'])!.context;
    const cluster = kc.clusters.find((c) => c.name === ctx.cluster)!.cluster;
    const user = kc.users.find((u) => u.name === ctx.user)!.user;
    const b64 = (s: string) => Buffer.from(s, 'base64');
    this.url = new URL(cluster.server);
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 16,
      ca: b64(cluster['certificate-authority-data']),
      cert: b64(user['client-certificate-data']),
      key: b64(user['client-key-data']),
    });
  }

  call(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path,
          method,
          headers: {
            accept: 'application/json',
            ...(data ? { 'content-type': contentType, 'content-length': data.length } : {}),
          },
          timeout: 15_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 15 s`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Server-side apply (force: the twin owns these fields), optionally of the status subresource. */
  async apply(
    o: KubeObject,
    subresource?: 'status',
    manager = FIELD_MANAGER,
  ): Promise<KubeObject & { metadata: { uid?: string } }> {
    const path = `${objectPath(o)}${subresource ? `/${subresource}` : ''}?fieldManager=${manager}&force=true`;
    const r = await this.call('PATCH', path, o, 'application/apply-patch+yaml');
    if (r.status >= 300) {
      const msg = (r.body as { message?: string })?.message ?? String(r.body).slice(0, 300);
      throw new Error(
        `the twin could not apply ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}${subresource ? ` (${subresource})` : ''}: ${r.status} ${msg}`,
      );
    }
    return r.body as KubeObject & { metadata: { uid?: string } };
  }

  close() {
    this.agent.destroy();
  }
}

/** Applies the file's objects to the sandbox and waits until its workloads are available. */
export async function applyLabWorkloads(
  host: WorkloadsHost,
  opts: ApplyWorkloadsOptions = {},
): Promise<AppliedWorkloads> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const doc = loadWorkloads(opts.file);
  const m = twinManifests(doc, host.nodes);
  const api = new Api(host.kubeconfig);
  const t0 = Date.now();
  try {
    const all = (objs: KubeObject[], sub?: 'status') => Promise.all(objs.map((o) => api.apply(o, sub)));
    await all(m.foundation);
    await waitEstablished(api, m, timeoutMs, opts.signal);
    const applied = await all(m.objects);
    const uid = new Map(
      applied
        .filter((o) => o.kind === 'PersistentVolumeClaim')
        .map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o.metadata.uid]),
    );
    await Promise.all(
      m.volumes.map(({ claim, pv }) => {
        const ref = (pv.spec as { claimRef: Record<string, unknown> }).claimRef;
        return api.apply({
          ...pv,
          spec: { ...(pv.spec as object), claimRef: { ...ref, uid: uid.get(`${claim.namespace}/${claim.name}`) } },
        });
      }),
    );
    await waitBound(api, m, timeoutMs, opts.signal);
    await all(m.afterClaims);
    await all(m.statuses, 'status');
    const count = m.foundation.length + m.objects.length + m.volumes.length + m.afterClaims.length;
    const t1 = Date.now();
    log(`twin: lab workloads applied (${count} objects from ${doc.namespaces.length} namespaces, ${t1 - t0} ms)`);
    const pods = await waitAvailable(api, m, timeoutMs, opts.signal);
    const t2 = Date.now();
    log(`twin: ${m.workloads.length} lab workloads available, ${pods} pods Running (${t2 - t1} ms)`);
    return { objects: count, workloads: m.workloads.length, pods, ms: { apply: t1 - t0, available: t2 - t1 } };
  } finally {
    api.close();
  }
}

async function waitEstablished(api: Api, m: TwinManifests, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const crds = m.foundation.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = await Promise.all(
      crds.map((n) => api.call('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${n}`)),
    );
    const pending = crds.filter((_, i) => {
      const conds =
        (answers[i]!.body as { status?: { conditions?: Array<{ type: string; status: string }> } })?.status
          ?.conditions ?? [];
      return !conds.some((c) => c.type === 'Established' && c.status === 'True');
    });
    if (!pending.length) return;
    signal?.throwIfAborted();
    if (Date.now() > deadline)
      throw new Error(`the twin's CRDs are not established after ${timeoutMs / 1000}s: ${pending.join(', ')}`);
    await sleep(50);
  }
}

async function waitBound(api: Api, m: TwinManifests, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const want = new Set(m.volumes.map(({ claim: c }) => `${c.namespace}/${c.name}`));
  for (;;) {
    const r = await api.call(
      'GET',
      `/api/v1/persistentvolumeclaims?labelSelector=${encodeURIComponent(TWIN_SELECTOR)}`,
    );
    const items =
      (r.body as { items?: Array<{ metadata: { namespace: string; name: string }; status?: { phase?: string } }> })
        ?.items ?? [];
    const bound = new Set(
      items.filter((c) => c.status?.phase === 'Bound').map((c) => `${c.metadata.namespace}/${c.metadata.name}`),
    );
    const pending = [...want].filter((c) => !bound.has(c));
    if (!pending.length) return;
    signal?.throwIfAborted();
    if (Date.now() > deadline)
      throw new Error(
        `the twin's volume claims are not Bound after ${timeoutMs / 1000}s: ${pending.slice(0, 8).join(', ')}`,
      );
    await sleep(50);
  }
}

type Status = Record<string, number | string | undefined>;
interface Listed {
  metadata: { name: string; namespace: string; generation?: number };
  spec?: { replicas?: number };
  status?: Status;
}

/** Why a workload is not yet what `kubectl rollout status` / `wait --for=condition=Available` accept, or undefined. */
export function notAvailable(kind: string, o: Listed): string | undefined {
  const s = o.status ?? {};
  const num = (k: string) => Number(s[k] ?? 0);
  if ((o.metadata.generation ?? 0) > num('observedGeneration')) return 'not observed yet';
  if (kind === 'DaemonSet') {
    const want = num('desiredNumberScheduled');
    if (want === 0) return 'no node scheduled';
    return num('numberAvailable') === want && num('updatedNumberScheduled') === want
      ? undefined
      : `${num('numberAvailable')}/${want} available`;
  }
  const want = o.spec?.replicas ?? 1;
  const ready = kind === 'StatefulSet' ? num('readyReplicas') : num('availableReplicas');
  return ready === want && num('updatedReplicas') === want
    ? undefined
    : `${ready}/${want} ${kind === 'StatefulSet' ? 'ready' : 'available'}`;
}

async function waitAvailable(api: Api, m: TwinManifests, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const q = `?labelSelector=${encodeURIComponent(TWIN_SELECTOR)}`;
  const plural = { Deployment: 'deployments', DaemonSet: 'daemonsets', StatefulSet: 'statefulsets' } as const;
  for (;;) {
    const lists = await Promise.all(
      (Object.keys(plural) as Array<keyof typeof plural>).map(async (kind) => {
        const r = await api.call('GET', `/apis/apps/v1/${plural[kind]}${q}`);
        return ((r.body as { items?: Listed[] })?.items ?? []).map((o) => ({ kind, o }));
      }),
    );
    const seen = new Map(
      lists.flat().map(({ kind, o }) => [`${kind}/${o.metadata.namespace}/${o.metadata.name}`, notAvailable(kind, o)]),
    );
    const waiting = m.workloads
      .map((w) => ({
        w,
        why: seen.has(`${w.kind}/${w.namespace}/${w.name}`) ? seen.get(`${w.kind}/${w.namespace}/${w.name}`) : 'absent',
      }))
      .filter((x) => x.why);
    if (!waiting.length) {
      const pods = await api.call(
        'GET',
        `/api/v1/pods?labelSelector=${encodeURIComponent(TWIN_SELECTOR)}&fieldSelector=status.phase%3DRunning`,
      );
      return ((pods.body as { items?: unknown[] })?.items ?? []).length;
    }
    signal?.throwIfAborted();
    if (Date.now() > deadline) {
      throw new Error(
        `the twin's lab workloads are not available after ${timeoutMs / 1000}s: ` +
          waiting
            .slice(0, 8)
            .map(({ w, why }) => `${w.kind.toLowerCase()}/${w.name} in ${w.namespace} (${why})`)
            .join(', '),
      );
    }
    await sleep(100);
  }
}

/** The kinds of custom resource the twin defines (for docs and tests). */
export const TWIN_CRDS = Object.values(CRDS).map((c) => `${c.plural}.${c.group}`);
