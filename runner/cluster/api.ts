import type * as k8s from '@kubernetes/client-node';
import { delimiter } from 'node:path';
import { errnoWords, UsageError } from '../errors.ts';
import type { KubeView } from './kubeconfig.ts';
import { pinnedKubeconfig } from './pin.ts';

/**
 * The runner's one door to the Kubernetes API, through @kubernetes/client-node.
 * The library costs about 0.3 s to load (it evaluates ~2,700 generated model
 * classes), so it is imported here on first use only: verbs that never talk to
 * the API (check, show, list, run --dry-run) never load it.
 *
 * Every call has a deadline, so an API that is down or unreachable is a clear
 * answer in seconds, not a hang: `ClusterUnreachable` for "nobody answered",
 * `ClusterApiError` for an answer that said no.
 */

export interface Cluster {
  /** The API server URL the kubeconfig points at. */
  server: string;
  /** The kubeconfig this client was built from (a file, or the files KUBECONFIG lists). */
  kubeconfig: string;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  policy: k8s.PolicyV1Api;
  coordination: k8s.CoordinationV1Api;
  version: k8s.VersionApi;
  /** Generic objects. */
  objects: k8s.KubernetesObjectApi;
  /** The kube context's namespace (`default` when it names none): where namespaced objects without one go. */
  namespace: string;
  /**
   * A plain request over the client's connection, TLS and credentials, answered as JSON. For what the
   * typed clients cannot say (a server-side apply must reach the API as written: their models drop
   * unknown fields). A status >= 400 is a ClusterApiError; no answer a ClusterUnreachable.
   */
  request(method: 'GET' | 'PATCH', path: string, opts?: RawRequest): Promise<RawAnswer>;
  /** Per-call options: a deadline for this one request. */
  within(ms?: number): k8s.ConfigurationOptions;
}

export interface RawRequest {
  query?: Record<string, string>;
  body?: string;
  contentType?: string;
  /** Ctrl-C or a step deadline; the per-request API deadline applies too. */
  signal?: AbortSignal;
}

export interface RawAnswer {
  status: number;
  body: unknown;
}

/** Default deadline of one API request. RUNBOOK_API_TIMEOUT_MS overrides it. */
export const DEFAULT_API_TIMEOUT_MS = 10_000;

export function apiTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RUNBOOK_API_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_API_TIMEOUT_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new UsageError(
      `RUNBOOK_API_TIMEOUT_MS=${raw} is not a number of milliseconds (e.g. 10000); fix it or unset it`,
    );
  }
  return n;
}

let library: Promise<typeof k8s> | undefined;
/** The library, imported once (the import is what costs; start it early to overlap it with other work). */
export function loadClientLibrary(): Promise<typeof k8s> {
  return (library ??= import('@kubernetes/client-node'));
}

/** An API client for the kubeconfig file's current context (the run's pinned kubeconfig holds exactly one). */
export async function connectCluster(kubeconfig: string, context?: string): Promise<Cluster> {
  const lib = await loadClientLibrary();
  return clientFor(lib, kubeconfig, (kc) => {
    kc.loadFromFile(kubeconfig);
    if (context) kc.setCurrentContext(context);
  });
}

/** An API client for the context the guard accepted (read from however many files KUBECONFIG lists). */
export async function connectView(view: KubeView): Promise<Cluster> {
  const lib = await loadClientLibrary();
  const origin = view.entries?.context.file ?? view.files.join(delimiter);
  return clientFor(lib, origin, (kc) => kc.loadFromString(JSON.stringify(pinnedKubeconfig(view))));
}

function clientFor(lib: typeof k8s, origin: string, load: (kc: k8s.KubeConfig) => void): Cluster {
  const kc = new lib.KubeConfig();
  const kubeconfig = origin;
  try {
    load(kc);
  } catch (err) {
    throw new UsageError(`kubeconfig ${kubeconfig}: ${(err as Error).message.split('\n')[0]}`);
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server)
    throw new UsageError(`kubeconfig ${kubeconfig}: the context "${kc.getCurrentContext()}" names no cluster server`);
  const defaultMs = apiTimeoutMs();
  const config = lib.createConfiguration({
    baseServer: new lib.ServerConfiguration(server, {}),
    authMethods: { default: kc },
  });
  const request: Cluster['request'] = async (method, path, opts = {}) => {
    const req = config.baseServer.makeRequestContext(path, method as k8s.HttpMethod);
    req.setHeaderParam('Accept', 'application/json');
    for (const [k, v] of Object.entries(opts.query ?? {})) req.setQueryParam(k, v);
    if (opts.body !== undefined) {
      req.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
      req.setBody(opts.body);
    }
    const timeout = AbortSignal.timeout(defaultMs);
    req.setSignal(opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout);
    let status: number;
    let text: string;
    try {
      await config.authMethods.default?.applySecurityAuthentication(req);
      const response = await config.httpApi.send(req).toPromise();
      status = response.httpStatusCode;
      text = await response.body.text();
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw apiFailure(server, err);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status >= 400) throw apiFailure(server, { code: status, body: body ?? text });
    return { status, body };
  };
  return {
    server,
    kubeconfig,
    core: kc.makeApiClient(lib.CoreV1Api),
    apps: kc.makeApiClient(lib.AppsV1Api),
    policy: kc.makeApiClient(lib.PolicyV1Api),
    coordination: kc.makeApiClient(lib.CoordinationV1Api),
    version: kc.makeApiClient(lib.VersionApi),
    objects: lib.KubernetesObjectApi.makeApiClient(kc),
    namespace: kc.getContextObject(kc.getCurrentContext())?.namespace || 'default',
    request,
    within: (ms = defaultMs) => ({
      middleware: [
        {
          pre: (ctx) => {
            ctx.setSignal(AbortSignal.timeout(ms));
            return new lib.Observable(Promise.resolve(ctx));
          },
          post: (ctx) => new lib.Observable(Promise.resolve(ctx)),
        },
      ],
      middlewareMergeStrategy: 'append',
    }),
  };
}

/**
 * A TCP connect to the server's port: why it is down ("connection refused", no route, no answer within
 * `ms`), or undefined when something accepts connections there (then the real call decides).
 */
export async function probeServer(server: string, ms = 2_000): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined; // not a URL: let the client library say what it makes of it
  }
  const { connect } = await import('node:net');
  const port = Number(url.port) || (url.protocol === 'http:' ? 80 : 443);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | undefined) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(why);
    };
    const timer = setTimeout(() => done(`no answer within ${ms} ms`), ms);
    socket.once('connect', () => done(undefined));
    socket.once('error', (err) => done(networkCause(err)));
  });
}

/** Nobody answered: connection refused, DNS, TLS, or the deadline passed. */
export class ClusterUnreachable extends Error {
  constructor(server: string, cause: string) {
    super(`the API server ${server} did not answer: ${cause}`);
    this.name = 'ClusterUnreachable';
  }
}

/** The API answered with an error status: the code and the API's own message. */
export class ClusterApiError extends Error {
  readonly code: number;
  /** The Status object's reason (NotFound, Conflict, AlreadyExists, Invalid…), when it has one. */
  readonly reason: string | undefined;
  readonly apiMessage: string;
  constructor(code: number, apiMessage: string, reason?: string) {
    super(`the API said ${code}${reason ? ` ${reason}` : ''}: ${apiMessage}`);
    this.name = 'ClusterApiError';
    this.code = code;
    this.reason = reason;
    this.apiMessage = apiMessage;
  }
}

/**
 * Runs one API call and turns its failure into one of the two errors above, in plain words
 * (client-node's own errors carry the whole response, headers included, in their message).
 */
export async function callApi<T>(cluster: Pick<Cluster, 'server'>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw apiFailure(cluster.server, err);
  }
}

export function apiFailure(server: string, err: unknown): Error {
  if (err instanceof ClusterUnreachable || err instanceof ClusterApiError || err instanceof UsageError) return err;
  const unreadable = unreadableFile(err);
  if (unreadable) return unreadable;
  const e = err as { code?: unknown; body?: unknown; name?: string; message?: string; cause?: unknown };
  if (typeof e?.code === 'number' && e.code >= 100) {
    const status = parseStatus(e.body);
    return new ClusterApiError(e.code, status.message ?? `HTTP ${e.code}`, status.reason);
  }
  return new ClusterUnreachable(server, networkCause(err));
}

function parseStatus(body: unknown): { message?: string; reason?: string } {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().slice(0, 300) } : {};
    }
  }
  if (value && typeof value === 'object') {
    const { message, reason } = value as { message?: unknown; reason?: unknown };
    return {
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof reason === 'string' && reason ? { reason } : {}),
    };
  }
  return {};
}

/** A file the kubeconfig names (a CA, a client key) that cannot be read is the kubeconfig's problem, not the server's. */
function unreadableFile(err: unknown): UsageError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const { code, path, cause } = e as { code?: unknown; path?: unknown; cause?: unknown };
    if (
      typeof code === 'string' &&
      typeof path === 'string' &&
      ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR'].includes(code)
    ) {
      return new UsageError(
        `the kubeconfig names ${path}, which cannot be read (${errnoWords(code)}); fix the kubeconfig's file paths`,
      );
    }
    e = cause;
  }
  return undefined;
}

/** The innermost cause of a failed fetch, said as a person would: "connection refused", "timed out after 10 s". */
function networkCause(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const { name, code, message, cause } = e as { name?: string; code?: string; message?: string; cause?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError')
      return 'no answer before the deadline (RUNBOOK_API_TIMEOUT_MS)';
    if (code === 'ECONNREFUSED') return 'connection refused';
    if (code === 'ECONNRESET') return 'the connection was reset';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'no route to the host';
    if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED/.test(code)) return `TLS: ${message ?? code}`;
    if (!cause) return message?.split('\n')[0] || String(code ?? name ?? 'unknown error');
    e = cause;
  }
  return String(err);
}
