import { expectProblem } from '../format/expect.ts';
import { literal } from './draft.ts';

/**
 * An "Expected output" block shows one run's output: ages, counts, IPs of pods and timestamps
 * differ on the next run. A pattern is taken only from the stable start of one line (names,
 * states, roles), so the step fails when the state it shows is not reached, not when a clock moved.
 */

/** Words that change from run to run: ages (5d, 3h2m), numbers, times, hashes, restart counts. */
const VOLATILE = [
  /^\d+(\.\d+)?[smhdwy](\d+[smhd])*$/,
  /^\d+([/.:]\d+)*%?$/,
  /^\(.*\)$/,
  /^\d{4}-\d\d-\d\d/,
  /^[0-9a-f]{7,}$/,
  /^[0-9a-f]{8}-[0-9a-f]{4}-/,
  /^<(none|unknown)>$/,
  /^\d+\.\d+\.\d+\.\d+(:\d+)?$/,
  // Generated pod and replica-set suffixes: web-7d4b9c8f6d-x2k9q.
  /-[a-z0-9]{8,10}-[a-z0-9]{5}$/,
];

const isHeader = (line: string) => /^[A-Z][A-Z0-9_-]*(\s+[A-Z][A-Z0-9_() -]*)*$/.test(line.trim());

export interface DerivedExpect {
  pattern: string;
  /** The source line (0-based in the block) the pattern came from. */
  line: number;
}

/** A literal pattern for one line of the block, or undefined when no line is stable enough. */
export function expectFromOutput(block: string): DerivedExpect | undefined {
  const lines = block.split('\n');
  let best: (DerivedExpect & { score: number }) | undefined;
  lines.forEach((text, i) => {
    const line = text.replace(/^\s*\$ .*$/, '').trim();
    if (!line || isHeader(line) || line.startsWith('#')) return;
    const words: string[] = [];
    for (const w of line.split(/\s+/)) {
      if (VOLATILE.some((v) => v.test(w))) break;
      words.push(w);
      if (words.length === 3) break;
    }
    const chars = words.join('').length;
    // One short word ("ok", "1") matches too much; two words or one long one say something.
    if (!words.length || (words.length < 2 && chars < 6)) return;
    const pattern = words.map(literal).join('\\s+');
    if (expectProblem(pattern) || !new RegExp(pattern).test(line)) return;
    const score = words.length * 10 + chars;
    if (!best || score > best.score) best = { pattern, line: i, score };
  });
  return best && { pattern: best.pattern, line: best.line };
}
