import type { Procedure } from '../../runner/format/model.ts';
import { instanceAnchor, type Run } from './runs.ts';
import { latestStepResults, nodeTally, staleSteps } from '../../runner/record/view.ts';
import { STATUS_LOOK, escapeHtml } from './status.ts';
import { ago, dateTime } from './format.ts';

/**
 * Fills the empty result slot that the step-badges plugin leaves in each step
 * header with the step's latest recorded result and, when its text changed
 * since the last successful run, a staleness badge. Works on the rendered HTML
 * so the Markdown pipeline never needs run records.
 */
const SLOT = /<span class="rb-step-result" data-step-result="([a-z0-9-]+)"><\/span>/g;

export function fillStepResults(html: string, procedure: Procedure, runs: Run[]): string {
  const latest = latestStepResults(procedure.steps, runs);
  const stale = staleSteps(procedure.steps, runs);
  return html.replace(SLOT, (_, id: string) => {
    const parts: string[] = [];
    const staleness = stale.get(id);
    if (staleness) {
      const why =
        staleness === 'changed' ? 'changed since the last successful run' : 'added since the last successful run';
      parts.push(
        `<span class="pill tone-warn pill-sm" title="The step's hash differs from the one recorded by the last successful run">${staleness === 'changed' ? '△ changed' : '＋ new'}<span class="sr-only"> — ${why}</span></span>`,
      );
    }
    const result = latest.get(id);
    if (result) {
      const look = STATUS_LOOK[result.status];
      const nodes = nodeTally(result.instances);
      const scope = nodes.total > 1 ? ` ${nodes.succeeded}/${nodes.total} nodes` : '';
      const first = result.instances[0]!;
      const when = first.endedAt ?? first.startedAt ?? result.run.data.startedAt;
      parts.push(
        `<a class="pill tone-${look.tone} pill-sm rb-result" href="${result.run.url}#${escapeHtml(instanceAnchor(first.id))}" title="Latest result: ${escapeHtml(dateTime(when))}, run ${escapeHtml(result.run.data.runId)}">` +
          `<span class="pill-icon" aria-hidden="true">${look.icon}</span>${look.label}${scope} · ${escapeHtml(ago(when))}</a>`,
      );
    } else {
      parts.push('<span class="pill tone-muted pill-sm" title="No run record contains this step yet">never run</span>');
    }
    return `<span class="rb-step-result" data-step-result="${id}">${parts.join('')}</span>`;
  });
}
