import type { Code } from 'mdast';
import yaml from 'js-yaml';
import { TOOLS } from '../check/rules/requires.ts';
import type { Inventory } from '../inventory/schema.ts';
import { analyseShell } from '../shell/analyse.ts';
import { type Decide, type Item, metaValue, quote } from './draft.ts';

import type { ImportResult } from './page.ts';

/** The imported page as text: its frontmatter, its body, and the cluster it is tied to. */

export function render(body: Item[]): string {
  const out: string[] = [];
  let prev: Item['kind'] | undefined;
  for (const it of body) {
    // Fences that came from one source fence (local and node parts) get a line between them.
    if ((it.kind === 'step' || it.kind === 'fence') && (prev === 'step' || prev === 'fence')) out.push('');
    prev = it.kind;
    if (it.kind === 'text') out.push(it.text);
    else if (it.kind === 'fence') out.push(...it.lines);
    else if (it.kind === 'mark') {
      // Component tags need blank lines around them for MDX to read the Markdown between as Markdown.
      if (it.text.startsWith('<')) out.push('', it.text, '');
      else out.push(it.text);
    } else {
      const s = it.step;
      const meta = [
        `step=${s.id}`,
        `title=${quote(s.title)}`,
        s.on !== 'local' ? `on=${s.on}` : '',
        s.cwd ? `cwd=${metaValue(s.cwd)}` : '',
        s.timeout ? `timeout=${s.timeout}` : '',
        s.confirm ? 'confirm' : '',
        s.check ? 'check' : '',
        s.expect ? `expect=${quote(s.expect)}` : '',
      ].filter(Boolean);
      out.push(`\`\`\`bash ${meta.join(' ')}`, s.code, '```');
    }
  }
  return out.join('\n').replace(/\n{3,}/g, (m, at: number, all: string) => (inFence(all, at) ? m : '\n\n'));
}

/** Whether offset `at` of `text` lies inside a fence (blank lines there are the author's). */
function inFence(text: string, at: number): boolean {
  return (text.slice(0, at).match(/^\s*(`{3,}|~{3,})/gm) ?? []).length % 2 === 1;
}

/** The inventory's cluster, unless the notes talk to another kube context. */
export function clusterOf(fences: Code[], inventory: Inventory, decide: Decide): string | undefined {
  const { name, context } = inventory.cluster;
  for (const f of fences) {
    for (const m of f.value.matchAll(/(?:--context[= ]|use-context\s+)["']?([\w.@:-]+)/g)) {
      if (m[1] === context || m[1] === name) continue;
      decide(
        f.position!.start.line,
        `the notes use kube context ${m[1]}, the inventory's cluster ${name} has context ${context}: runbook.cluster left out; set it if the page is for ${name}`,
        true,
      );
      return undefined;
    }
  }
  decide(1, `runbook.cluster: ${name}, the inventory's cluster`);
  return name;
}

export function frontmatter(result: ImportResult, text: string): string {
  const requires = new Set<string>();
  if (result.steps.some((s) => s.on !== 'local')) requires.add('ssh');
  for (const m of text.matchAll(/^```bash step=[^\n]*\n([\s\S]*?)^```/gm)) {
    for (const inv of analyseShell(m[1]!).invocations)
      if (!inv.remote && inv.name && TOOLS.includes(inv.name)) requires.add(inv.name);
  }
  const params: Record<string, Record<string, unknown>> = {};
  for (const p of result.params) {
    params[p.name] = {
      description: p.description,
      required: true,
      ...(p.pattern ? { pattern: p.pattern } : {}),
      ...(p.enum ? { enum: p.enum } : {}),
      ...(p.secret ? { secret: true } : {}),
    };
  }
  const risk = result.steps.some((s) => s.confirm) ? 'high' : result.steps.every((s) => s.check) ? 'low' : 'medium';
  const fm = {
    title: result.title,
    description: `Imported from Markdown by runbook import; review the steps before running.`,
    runbook: {
      id: result.id,
      risk,
      ...(result.cluster ? { cluster: result.cluster } : {}),
      requires: [...requires],
      ...(result.params.length ? { params } : {}),
    },
  };
  return `---\n${yaml.dump(fm, { lineWidth: 120 })}---\n\n`;
}
