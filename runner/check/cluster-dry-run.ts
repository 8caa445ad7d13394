import { resolve } from 'node:path';
import type { Diagnostic, Procedure, Step } from '../format/model.ts';
import { parseProcedure } from '../format/parse.ts';
import { readRegularFile } from '../read-file.ts';
import type { Cluster } from '../cluster/api.ts';
import { applyObject, contextNamespace, objectRef, readManifest } from '../cluster/apply.ts';
import { UsageError, describeError } from '../errors.ts';

/**
 * `runbook check --cluster`: every apply step's manifest, object by object, as a server-side
 * dry run (dryRun=All) against the inventory's cluster: validated, defaulted and admitted as a
 * real apply would be, and never stored. Each object the API refuses is a diagnostic at the
 * line of that object in the page, with the API's own message (rule `cluster-dry-run`).
 *
 * Loaded by `check` only with --cluster: plain check stays offline and never loads client-node.
 */

export const RULE = 'cluster-dry-run';

export interface DryRunSummary {
  server: string;
  /** Apply steps and objects sent. */
  steps: number;
  objects: number;
  refused: number;
  /** Pages left out because they name another cluster than the inventory's. */
  otherCluster: string[];
  diagnostics: Diagnostic[];
}

/** The namespace that stands in for one the page creates earlier (a dry run creates nothing): it always exists. */
const STAND_IN_NAMESPACE = 'default';
/** Pages dry-run at once. */
const PAGES_AT_ONCE = 4;

export async function clusterDryRun(
  root: string,
  files: readonly string[],
  cluster: Cluster,
  clusterName: string,
): Promise<DryRunSummary> {
  const summary: DryRunSummary = {
    server: cluster.server,
    steps: 0,
    objects: 0,
    refused: 0,
    otherCluster: [],
    diagnostics: [],
  };
  const namespace = contextNamespace(cluster);
  const pages = files.flatMap((file) => {
    const procedure = readProcedure(root, file);
    const steps = procedure?.steps.filter((s) => s.kind === 'apply' && s.attrs.apply) ?? [];
    if (!procedure || steps.length === 0) return [];
    if (procedure.runbook?.cluster && procedure.runbook.cluster !== clusterName) {
      summary.otherCluster.push(file);
      return [];
    }
    return [{ file, steps }];
  });
  // Pages side by side (a few requests in flight), steps in page order within each.
  const queue = [...pages];
  const worker = async () => {
    for (let page = queue.shift(); page; page = queue.shift()) {
      // Namespaces the page's earlier objects create: in a dry run they do not come to exist.
      const pageNamespaces = new Set<string>();
      for (const step of page.steps) await dryRunStep(page.file, step, { cluster, namespace, pageNamespaces, summary });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PAGES_AT_ONCE, queue.length) }, worker));
  summary.diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return summary;
}

/** A yaml fence with step= on its line: only such pages are parsed again (parsing every page would double check's time). */
const APPLY_FENCE = /^[ \t>]*(?:`{3,}|~{3,})[ \t]*ya?ml\b[^\n]*\bstep=/im;

function readProcedure(root: string, file: string): Procedure | undefined {
  try {
    const bytes = readRegularFile(resolve(root, file));
    if (!APPLY_FENCE.test(bytes.toString('utf8'))) return undefined;
    return parseProcedure(bytes, file);
  } catch {
    return undefined; // unreadable: plain check reports it
  }
}

interface StepContext {
  cluster: Cluster;
  namespace: string;
  pageNamespaces: Set<string>;
  summary: DryRunSummary;
}

async function dryRunStep(file: string, step: Step, ctx: StepContext): Promise<void> {
  const manifest = readManifest(step.code);
  if ('error' in manifest) return; // yaml-manifest, from plain check
  ctx.summary.steps++;
  for (const { object, line } of manifest.objects) {
    ctx.summary.objects++;
    let outcome = await dryRun(ctx.cluster, object, ctx.namespace);
    const ns = outcome.namespace;
    // An object in a namespace the page creates earlier: checked in a stand-in that exists, so its own fields are still validated.
    if (
      outcome.result === 'failed' &&
      ns &&
      ctx.pageNamespaces.has(ns) &&
      outcome.error === `namespaces "${ns}" not found`
    ) {
      const moved = {
        ...object,
        metadata: { ...(object.metadata as Record<string, unknown>), namespace: STAND_IN_NAMESPACE },
      };
      outcome = { ...(await dryRun(ctx.cluster, moved, ctx.namespace)), namespace: ns };
    }
    if (outcome.result !== 'failed') {
      if (object.apiVersion === 'v1' && object.kind === 'Namespace') ctx.pageNamespaces.add(outcome.name);
      continue;
    }
    ctx.summary.refused++;
    ctx.summary.diagnostics.push({
      file,
      // The fence is on the step's first line; the manifest's line 1 is the line after it.
      line: step.position.start.line + line,
      column: step.position.start.column,
      severity: 'error',
      rule: RULE,
      message: `step "${step.id}": ${objectRef(outcome)}${ns ? ` (namespace ${ns})` : ''}: ${outcome.error}`,
    });
  }
}

async function dryRun(cluster: Cluster, object: Record<string, unknown>, namespace: string) {
  try {
    return await applyObject(cluster, object, { dryRun: true, namespace });
  } catch (err) {
    // Nobody answered: the rest of the sweep would say the same, so it stops here.
    throw new UsageError(`check --cluster: ${describeError(err)}. Nothing more was checked against the cluster.`);
  }
}
