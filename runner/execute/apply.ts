import type { ExecRequest, ExecResult } from './types.ts';
import type { Cluster } from '../cluster/api.ts';
import { applyObject, contextNamespace, objectRef, readManifest, type AppliedObject } from '../cluster/apply.ts';
import { readKubeconfig } from '../cluster/kubeconfig.ts';
import { describeError, UsageError } from '../errors.ts';

/**
 * Runs a local `yaml … apply` step through the Kubernetes API: server-side apply of each
 * object of the manifest, in order, as field manager `runbook` (runner/cluster/apply.ts).
 * One request is one attempt, like the other executors: retries, masking and the record
 * are the run loop's. The output reads like kubectl's (`deployment.apps/web created`).
 *
 * The cluster is the one the step's KUBECONFIG names: the run's pinned copy of the context
 * the guard accepted (runner/run/prepare.ts). A page that names no cluster has none pinned,
 * and the step uses what kubectl would: KUBECONFIG of the environment, else ~/.kube/config.
 */

export interface ApplyExecResult extends ExecResult {
  /** Each object tried, in manifest order, with what the API did with it. */
  applied: AppliedObject[];
}

export interface ApplyExecutor {
  exec(request: ExecRequest): Promise<ApplyExecResult>;
}

export function createApplyExecutor(): ApplyExecutor {
  // One client per kubeconfig (and context) in a run: its discovery answers are reused by later steps.
  const clients = new Map<string, Promise<Cluster>>();
  const clientFor = (env: NodeJS.ProcessEnv): Promise<Cluster> => {
    const view = readKubeconfig(env);
    if (!view.contextExists || !view.entries) {
      const where = view.files.join(', ');
      throw new UsageError(
        view.context
          ? `the kube context "${view.context}" does not exist in ${where}`
          : `no kube context is set in ${where}: set KUBECONFIG or run \`kubectl config use-context\``,
      );
    }
    const key = `${view.files.join('\0')}\0${view.context}`;
    let client = clients.get(key);
    if (!client) {
      client = import('../cluster/api.ts').then((api) => api.connectView(view));
      client.catch(() => clients.delete(key));
      clients.set(key, client);
    }
    return client;
  };
  return { exec: (request) => applyStep(request, clientFor) };
}

async function applyStep(
  req: ExecRequest,
  clientFor: (env: NodeJS.ProcessEnv) => Promise<Cluster>,
): Promise<ApplyExecResult> {
  const applied: AppliedObject[] = [];
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    req.onOutput(`${line}\n`);
  };
  const result = (r: Partial<ExecResult>): ApplyExecResult => ({
    exitCode: null,
    signal: null,
    timedOut: false,
    interrupted: false,
    ...r,
    output: lines.map((l) => `${l}\n`).join(''),
    applied,
  });
  if (req.signal.aborted) return result({ interrupted: true, error: 'interrupted before it started' });
  // The format refuses `check` on an apply step (check-writes); should one get here, it still never applies.
  if (req.instance.step.attrs.check) return result({ error: 'a check step never applies a manifest (check-writes)' });

  const manifest = readManifest(req.instance.step.code);
  if ('error' in manifest) return result({ error: `the manifest, line ${manifest.line}: ${manifest.error}` });

  // The step's timeout covers the whole manifest; Ctrl-C stops it between (and inside) requests.
  const deadline = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, deadline]);
  const stopped = (): ApplyExecResult | undefined =>
    req.signal.aborted ? result({ interrupted: true }) : deadline.aborted ? result({ timedOut: true }) : undefined;

  let cluster: Cluster;
  try {
    cluster = await clientFor({ ...process.env, ...req.env });
  } catch (err) {
    return result({ error: describeError(err) });
  }
  const namespace = contextNamespace(cluster);
  for (const { object } of manifest.objects) {
    let outcome: AppliedObject;
    try {
      outcome = await applyObject(cluster, object, { signal, namespace });
    } catch (err) {
      // Nobody answered (or the run was stopped): later objects would fare no better.
      const stop = stopped();
      if (stop) return stop;
      const message = describeError(err);
      applied.push(unanswered(object, message));
      say(`error: ${message}`);
      return result({ error: message });
    }
    applied.push(outcome);
    say(
      outcome.result === 'failed'
        ? `${objectRef(outcome)} failed: ${outcome.error}`
        : `${objectRef(outcome)} ${outcome.result}`,
    );
    const stop = stopped();
    if (stop) return stop;
  }
  // Like kubectl, every object is tried; the step fails when any was refused.
  const failed = applied.filter((a) => a.result === 'failed');
  if (failed.length === 0) return result({ exitCode: 0 });
  const first = `${objectRef(failed[0]!)}: ${failed[0]!.error}`;
  const error = failed.length === 1 ? first : `${failed.length} of ${applied.length} objects were refused; ${first}`;
  return result({ exitCode: 1, error });
}

/** The object no answer came for, recorded as failed with the reason (its namespace as the manifest gives it). */
function unanswered(object: Record<string, unknown>, error: string): AppliedObject {
  const meta = (object.metadata ?? {}) as Record<string, unknown>;
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : undefined;
  return {
    apiVersion: String(object.apiVersion),
    kind: String(object.kind),
    ...(namespace ? { namespace } : {}),
    name: typeof meta.name === 'string' ? meta.name : '',
    result: 'failed',
    error,
  };
}
