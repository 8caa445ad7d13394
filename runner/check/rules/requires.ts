import { commandText, shellLines } from '../shell-text.ts';
import type { Diagnostic } from '../../format/model.ts';
import type { PageRule } from '../types.ts';

/** Tools an operator may lack: a runbook that uses one locally should list it in `requires`. */
const TOOLS = ['kubectl', 'helm', 'velero', 'cmctl', 'jq', 'curl', 'flux', 'ssh', 'scp', 'psql', 'pg_dump', 'yq', 'tailscale'];
/** One pass per line finds every tool used as a command word. */
const TOOL_WORD = new RegExp(`(?:^|[\\s;&|(\`$])(${TOOLS.join('|')})(?=\\s|$)`, 'g');

export const requiresRule: PageRule = (procedure) => {
  const rb = procedure.runbook;
  if (!rb) return [];
  const missing = new Map<string, number>();
  for (const step of procedure.steps) {
    if (step.kind === 'apply' && !rb.requires.includes('kubectl')) missing.set('kubectl', missing.get('kubectl') ?? step.position.start.line);
    if (step.attrs.on !== 'local' && !rb.requires.includes('ssh')) missing.set('ssh', missing.get('ssh') ?? step.position.start.line);
    if (step.kind !== 'shell' || step.attrs.on !== 'local') continue;
    // Only a tool not yet listed or found can add a finding, and its name must appear in the raw code.
    if (!TOOLS.some((tool) => !rb.requires.includes(tool) && !missing.has(tool) && step.code.includes(tool))) continue;
    // Quoted text runs elsewhere (kubectl exec, ssh, sh -c in a pod), not on the operator's machine.
    for (const l of shellLines(commandText(step.code))) {
      for (const m of l.text.matchAll(TOOL_WORD)) {
        const tool = m[1]!;
        if (!rb.requires.includes(tool) && !missing.has(tool)) missing.set(tool, step.position.start.line + 1 + l.line);
      }
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
