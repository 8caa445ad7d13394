import { shellLines } from '../shell-text.ts';
import type { StepRule } from '../types.ts';

/**
 * A bare `sleep N` outside a loop usually waits for something to become true;
 * `kubectl wait` or a polling loop with a deadline says what and fails when it never does.
 */
export const sleepRule: StepRule = (step, { at }) => {
  // Every finding contains the word: most steps need no closer look.
  if (step.kind !== 'shell' || !step.code.includes('sleep')) return [];
  const problems = [];
  let depth = 0;
  for (const l of shellLines(step.code)) {
    const words = l.text.split(/[\s;&|()]+/);
    for (const w of words) if (w === 'do') depth++;
    const sleep = /(^|[\s;&|])sleep\s+(\d+)/.exec(l.text);
    if (sleep && depth === 0 && Number(sleep[2]) >= 2) {
      problems.push(
        at(
          l.line,
          'sleep-wait',
          `step "${step.id}" sleeps ${sleep[2]}s to wait: use kubectl wait --for=… --timeout=…, or a loop that polls with a deadline`,
          'warning',
        ),
      );
    }
    for (const w of words) if (w === 'done') depth = Math.max(0, depth - 1);
  }
  return problems;
};
