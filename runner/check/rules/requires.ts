import type { Diagnostic } from '../../format/model.ts';
import { analyseShell } from '../../shell/analyse.ts';
import type { PageRule } from '../types.ts';

/** Tools an operator may lack: a runbook that uses one locally should list it in `requires`. */
export const TOOLS = [
  'kubectl',
  'helm',
  'velero',
  'cmctl',
  'jq',
  'curl',
  'flux',
  'ssh',
  'scp',
  'psql',
  'pg_dump',
  'yq',
  'tailscale',
];

/**
 * A tool counts where the step's shell runs it: through wrappers, `bash -c` and `$(…)` (parsed,
 * see shell/analyse.ts), but not on the far side of ssh or `kubectl exec`, where it runs on a node
 * or in a pod (`kubectl exec … -- psql` needs no psql here).
 */
export const requiresRule: PageRule = (procedure) => {
  const rb = procedure.runbook;
  if (!rb) return [];
  const missing = new Map<string, number>();
  for (const step of procedure.steps) {
    const note = (tool: string, line: number) => {
      if (!rb.requires.includes(tool) && !missing.has(tool)) missing.set(tool, line);
    };
    // An apply step needs no kubectl here: the runner applies it through the API (on a node, that node's kubectl does).
    if (step.attrs.on !== 'local') note('ssh', step.position.start.line);
    if (step.kind !== 'shell' || step.attrs.on !== 'local') continue;
    // Only a tool not yet listed or found can add a finding, and its name must appear in the raw code.
    if (!TOOLS.some((tool) => !rb.requires.includes(tool) && !missing.has(tool) && step.code.includes(tool))) continue;
    const analysis = analyseShell(step.code);
    // A step the parser cannot fully read also gets a coarse line split (shell/fallback.ts), which takes
    // the lines of a multi-line quoted script (`kubectl exec pg -- sh -c '…psql…'`, run in the pod) for
    // commands of their own: a tool the tree found in the pod at that line is not also counted here.
    const inPod = analysis.damaged
      ? new Set(analysis.invocations.filter((i) => i.remote).map((i) => `${i.name}@${i.line}`))
      : undefined;
    for (const inv of analysis.invocations) {
      if (inv.remote || inv.name === undefined || !TOOLS.includes(inv.name)) continue;
      if (inPod?.has(`${inv.name}@${inv.line}`)) continue;
      note(inv.name, step.position.start.line + 1 + inv.line);
    }
  }
  return [...missing].map(
    ([tool, line]): Diagnostic => ({
      file: procedure.file,
      line,
      column: 1,
      severity: 'warning',
      rule: 'missing-requirement',
      message: `the runbook uses ${tool} on the operator's machine but runbook.requires does not list it`,
    }),
  );
};
