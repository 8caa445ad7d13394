import { h } from '@astrojs/starlight/expressive-code/hast';
import type { ExpressiveCodePlugin } from '@astrojs/starlight/expressive-code';
import { tokenizeMeta } from '../../runner/format/meta.ts';
import { readAttributes } from '../../runner/format/attributes.ts';
import { formatTimeout } from '../../runner/format/duration.ts';
import { stepFlagsOf } from '../../runner/format/step-flags.ts';
import type { StepAttributes } from '../../runner/format/model.ts';
import { nodesFor } from '../lib/inventory.ts';

/**
 * An expressive-code plugin: every fence with `step=<id>` gets a header naming
 * the step, where it runs, its timeout and its confirm/check flags. Attributes
 * are read with the runner's own meta tokenizer, so the page shows exactly what
 * `runbook run` will do. The header ends in an empty result slot that the page
 * fills with the step's latest recorded result (see lib/step-results.ts).
 */
export function stepBadges(): ExpressiveCodePlugin {
  return {
    name: 'runbook-step-badges',
    hooks: {
      postprocessRenderedBlock: ({ codeBlock, renderData }) => {
        const tokenized = tokenizeMeta(codeBlock.meta);
        if ('error' in tokenized || !tokenized.tokens.some((t) => t.key === 'step')) return;
        const { attrs, id } = readAttributes(tokenized.tokens);
        if (!id) return;
        renderData.blockAst = h('div', { className: ['rb-step'], id: `step-${id}`, 'data-step': id }, [
          h('div', { className: ['rb-step-head'] }, [
            h('a', { className: ['rb-step-id'], href: `#step-${id}`, title: 'Step id (use with --from / --only)' }, [
              h('span', { className: ['rb-step-kicker'] }, 'step'),
              id,
            ]),
            h('span', { className: ['rb-chip', 'rb-chip-target'], title: 'Where the step runs' }, targetLabel(attrs)),
            h('span', { className: ['rb-chip'], title: 'Timeout' }, `timeout ${formatTimeout(attrs.timeoutMs)}`),
            ...flagChips(attrs),
            h('span', { className: ['rb-step-result'], 'data-step-result': id }),
          ]),
          renderData.blockAst,
        ]);
      },
    },
  };
}

function targetLabel(attrs: StepAttributes): string {
  const on = attrs.on;
  if (on === 'local') return '▸ local';
  if (on === '$NODE') return '▸ $NODE (each node in turn)';
  const { nodes, error } = nodesFor(on);
  if (error) return `▸ ${on} (not in the inventory)`;
  const names = nodes.map((n) => n.name).join(', ');
  return on.startsWith('role:') ? `▸ ${on} → ${names}` : `▸ ${names}`;
}

function flagChips(attrs: StepAttributes) {
  const chips = stepFlagsOf(attrs).map((f) =>
    h('span', { className: f.chip ? ['rb-chip', f.chip] : ['rb-chip'], title: f.badge }, f.name),
  );
  if (attrs.retries > 0)
    chips.push(h('span', { className: ['rb-chip'], title: 'Retries on failure' }, `retries ${attrs.retries}`));
  if (attrs.parallel > 1)
    chips.push(h('span', { className: ['rb-chip'], title: 'Fan-out width' }, `parallel ${attrs.parallel}`));
  if (attrs.expect)
    chips.push(h('span', { className: ['rb-chip'], title: `Output must match /${attrs.expect}/` }, 'expect'));
  return chips;
}
