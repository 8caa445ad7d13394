import { ClusterApiError, type Cluster, type RawRequest } from './api.ts';
import { yamlLib } from '../format/yaml-lib.ts';

/**
 * Server-side apply of an `apply` step's manifest, object by object, as field manager
 * `runbook`; and the same as a server-side dry run for `runbook check --cluster`.
 *
 * The requests are made here rather than through client-node's KubernetesObjectApi.patch:
 * that one re-serialises the object through its typed models (an unknown field is dropped
 * before the API can refuse it, so a typo would apply "successfully"), ignores per-call
 * options (no deadline, no Ctrl-C), and parses the answer into model classes we do not need.
 * The connection, TLS and credentials are still client-node's (Cluster.request).
 */

/** The field manager every apply step writes as (`kubectl get -o yaml --show-managed-fields` shows it). */
export const FIELD_MANAGER = 'runbook';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged' | 'failed';

/** One object of a manifest, as the record keeps it (runner/record/schema.ts `applied`). */
export interface AppliedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  result: ApplyOutcome;
  /** The API's own message, when it refused the object. */
  error?: string;
}

/** A document of a manifest and the line (1-based, within the manifest text) where it starts. */
export interface ManifestObject {
  object: Record<string, unknown>;
  line: number;
}

export type ManifestRead = { objects: ManifestObject[] } | { error: string; line: number };

/**
 * The objects of a (multi-document) manifest, in order; empty documents (a trailing `---`)
 * are skipped. `runbook check` refuses manifests this cannot read, so an error here is a
 * page that skipped check.
 */
export function readManifest(text: string): ManifestRead {
  const { LineCounter, parseAllDocuments } = yamlLib();
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const docs = Array.isArray(parsed) ? parsed : [];
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const objects: ManifestObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length)
      return { error: `invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, line: lineOf(doc.errors[0]!.pos[0]) };
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    // The line of the first key, not of a `---` or comment above it.
    const line = lineOf(doc.contents?.range?.[0] ?? doc.range[0]);
    if (typeof value !== 'object' || Array.isArray(value))
      return { error: 'a document is not a mapping (an object with apiVersion, kind and metadata)', line };
    const object = value as Record<string, unknown>;
    const meta = object.metadata as Record<string, unknown> | undefined;
    if (
      typeof object.apiVersion !== 'string' ||
      typeof object.kind !== 'string' ||
      typeof meta !== 'object' ||
      meta === null
    ) {
      return { error: 'an object lacks apiVersion, kind or metadata', line };
    }
    objects.push({ object, line });
  }
  if (objects.length === 0) return { error: 'the manifest has no objects', line: 1 };
  return { objects };
}

export interface ApplyOptions {
  /** Server-side dry run (dryRun=All): validated and admitted, never stored. */
  dryRun?: boolean;
  /** Aborts every request (Ctrl-C, the step's timeout); each request also has the API deadline. */
  signal?: AbortSignal;
  /** Where a namespaced object without metadata.namespace goes (the kube context's namespace); `default` otherwise. */
  namespace?: string;
}

/** How kubectl names an object in its output: `deployment.apps/web`, `namespace/smoke`. */
export function objectRef(o: Pick<AppliedObject, 'apiVersion' | 'kind' | 'name'>): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '';
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${o.name}`;
}

/**
 * Applies one object. An answer that says no (invalid, forbidden, conflict, unknown kind) is a
 * `failed` result with the API's message; an API that does not answer, or an abort, throws
 * (ClusterUnreachable, or the abort's reason), since no later object could fare better.
 *
 * created / configured / unchanged: the object is read first (absent → created; the apply
 * answering 201 says so too), then its resourceVersion is compared with the apply's answer:
 * the API stores nothing, and keeps the resourceVersion, when an apply changes nothing.
 */
export async function applyObject(
  cluster: Cluster,
  object: Record<string, unknown>,
  opts: ApplyOptions = {},
): Promise<AppliedObject> {
  const apiVersion = object.apiVersion as string;
  const kind = object.kind as string;
  const meta = { ...(object.metadata as Record<string, unknown>) };
  const name = typeof meta.name === 'string' ? meta.name : '';
  const entry = (result: ApplyOutcome, namespace?: string, error?: string): AppliedObject => ({
    apiVersion,
    kind,
    ...(namespace ? { namespace } : {}),
    name,
    result,
    ...(error ? { error } : {}),
  });
  if (!name) {
    const why =
      typeof meta.generateName === 'string'
        ? 'apply needs metadata.name (generateName cannot be applied)'
        : 'the object has no metadata.name';
    return entry('failed', undefined, why);
  }
  const api = rawApi(cluster, opts.signal);
  const resource = await api.resourceOf(apiVersion, kind);
  if (!resource)
    return entry(
      'failed',
      undefined,
      `the API serves no kind "${kind}" in version "${apiVersion}" (is its CRD installed?)`,
    );
  const namespace = resource.namespaced
    ? (typeof meta.namespace === 'string' && meta.namespace) || opts.namespace || 'default'
    : undefined;
  if (namespace) meta.namespace = namespace;
  else delete meta.namespace; // a cluster-scoped object has none, whatever the manifest says
  const path = `${apiRoot(apiVersion)}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${resource.name}/${encodeURIComponent(name)}`;
  try {
    const before = opts.dryRun
      ? undefined
      : await api.send('GET', path, {}).then(
          (r) => r.body,
          (err: unknown) => (err instanceof ClusterApiError && err.code === 404 ? null : Promise.reject(err)),
        );
    const answer = await api.send('PATCH', path, {
      query: {
        fieldManager: FIELD_MANAGER,
        // Fields another manager owns are taken over, as `kubectl apply` overwrote them: the manifest is what the step declares.
        force: 'true',
        // Unknown or duplicate fields are refused, as kubectl's default --validate=strict does, rather than dropped.
        fieldValidation: 'Strict',
        ...(opts.dryRun ? { dryRun: 'All' } : {}),
      },
      contentType: 'application/apply-patch+yaml',
      // JSON is YAML: the apply patch takes it as it is, every field as written.
      body: JSON.stringify({ ...object, metadata: meta }),
    });
    if (opts.dryRun) return entry(answer.status === 201 ? 'created' : 'configured', namespace);
    const result =
      answer.status === 201 || before === null
        ? 'created'
        : sameContent(before, answer.body)
          ? 'unchanged'
          : 'configured';
    return entry(result, namespace);
  } catch (err) {
    if (err instanceof ClusterApiError) return entry('failed', namespace, err.apiMessage);
    throw err;
  }
}

/**
 * Whether the apply left the object as it was. Not the resourceVersion alone: an apply that
 * only records field ownership is a write too (the first apply to an object whose fields nobody
 * owned yet, such as a Namespace with a name only, adds a `before-first-apply` entry), and it
 * changed nothing the manifest says. Status is the controllers' (an apply cannot set it; it may
 * move between the read and the apply), so it is left out as well.
 */
export function sameContent(before: unknown, after: unknown): boolean {
  return canonical(content(before)) === canonical(content(after));
}

function content(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const { status: _status, metadata, ...rest } = body as Record<string, unknown>;
  if (!metadata || typeof metadata !== 'object') return rest;
  const { resourceVersion: _rv, managedFields: _mf, generation: _gen, ...meta } = metadata as Record<string, unknown>;
  return { ...rest, metadata: meta };
}

/** JSON with keys sorted, so two answers about the same object compare as text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

const apiRoot = (apiVersion: string) => (apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

interface ResourceInfo {
  name: string;
  namespaced: boolean;
}

/** Discovery answers per cluster client and apiVersion: one request per group version and run. */
const discovery = new WeakMap<Cluster, Map<string, Promise<Map<string, ResourceInfo>>>>();

/** Discovery over the cluster's plain requests, cached per client and apiVersion. */
function rawApi(cluster: Cluster, signal: AbortSignal | undefined) {
  const send = (method: 'GET' | 'PATCH', path: string, opts: RawRequest) =>
    cluster.request(method, path, { ...opts, ...(signal ? { signal } : {}) });

  const fetchResources = async (apiVersion: string): Promise<Map<string, ResourceInfo>> => {
    const byKind = new Map<string, ResourceInfo>();
    try {
      const list = (await send('GET', apiRoot(apiVersion), {})).body as {
        resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
      };
      // Subresources (deployments/scale) share their parent's kind: the first, plain name wins.
      for (const r of list.resources ?? [])
        if (!r.name.includes('/') && !byKind.has(r.kind))
          byKind.set(r.kind, { name: r.name, namespaced: r.namespaced });
    } catch (err) {
      if (!(err instanceof ClusterApiError && err.code === 404)) throw err; // 404: the group version is not served
    }
    return byKind;
  };

  const resourceOf = async (apiVersion: string, kind: string): Promise<ResourceInfo | undefined> => {
    let cache = discovery.get(cluster);
    if (!cache) discovery.set(cluster, (cache = new Map()));
    const cached = cache.get(apiVersion);
    const known = cached ? await cached.catch(() => undefined) : undefined;
    if (known?.has(kind)) return known.get(kind);
    // Not known yet: ask again (a CRD applied a moment ago serves its kind now).
    const fresh = fetchResources(apiVersion);
    cache.set(apiVersion, fresh);
    return (await fresh).get(kind);
  };

  return { send, resourceOf };
}

/** The kube context's namespace, where namespaced objects without one go. */
export function contextNamespace(cluster: Cluster): string {
  return cluster.namespace;
}
