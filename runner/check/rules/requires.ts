import type { Diagnostic } from '../../format/model.ts';
import { analyseShell } from '../../shell/analyse.ts';
import type { PageRule } from '../types.ts';

/** Tools an operator may lack: a runbook that uses one locally should list it in `requires`. */
const TOOLS = [
  'kubectl', 'helm', 'velero', 'cmctl', 'jq', 'curl', 'flux', 'ssh', 'scp', 'psql', 'pg_dump', 'yq', 'tailscale',
];

/**
 * A tool counts where the step's shell runs it: through wrappers, `bash -c` and `$(…)` (parsed,
 * see shell/analyse.ts), but not on the far side of ssh or `kubectl exec`, where it runs on a node
 * or in a pod.
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
    for (const inv of analyseShell(step.code).invocations) {
      if (inv.remote || inv.name === undefined || !TOOLS.includes(inv.name)) continue;
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
