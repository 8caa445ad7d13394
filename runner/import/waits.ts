import type { Decide, DraftStep } from './draft.ts';

/**
 * `sleep 30` then `kubectl get nodes` means "wait until the node is Ready": a fixed sleep is too
 * short on a slow day and never fails. When the command after the sleep says what it waits for,
 * the sleep becomes a wait with a deadline; otherwise it is left and listed.
 */

const SLEEP = /^\s*sleep\s+(\d+)([smh]?)\s*(#.*)?$/;
const READY = /\bReady\b|\bRunning\b/;

/** Seconds to wait: the author's guess doubled, at least five minutes. */
const deadline = (secs: number) => Math.max(300, secs * 2);

interface Wait {
  /** Lines that replace the probe line (undefined: keep the probe and put these before it). */
  lines: string[];
  replacesProbe: boolean;
  what: string;
}

const aNode = (s: DraftStep | undefined) => s && s.on !== 'local' && !s.on.startsWith('role:');

/** The node waited for: the one the check names, else the one the sleep followed work on. */
function nodeTarget(name: string | undefined, sleeper: DraftStep, before: DraftStep | undefined): string {
  if (name && !name.startsWith('-')) return `node/${name}`;
  if (aNode(sleeper)) return `node/${sleeper.on}`;
  if (aNode(before) && firstCommand(sleeper.code.split('\n'), 0) === sleeperLine(sleeper)) return `node/${before!.on}`;
  return 'nodes --all';
}

const sleeperLine = (s: DraftStep) => s.code.split('\n').findIndex((l) => SLEEP.test(l));

function waitFor(
  probe: string,
  target: DraftStep,
  sleeper: DraftStep,
  before: DraftStep | undefined,
  secs: number,
): Wait | undefined {
  const t = deadline(secs);
  const ready = READY.test(probe) || READY.test(target.expect ?? '');
  const p = probe.trim();
  if (/^kubectl\s+(.*\s)?(rollout\s+status|wait)\s/.test(p))
    return { lines: [], replacesProbe: false, what: `dropped: ${p.split(/\s+/).slice(0, 3).join(' ')} already waits` };
  const nodes = /^kubectl\s+get\s+(?:nodes?|no)\b(?:\s+([a-z0-9][-a-z0-9.]*))?/.exec(p);
  if (nodes && ready && target.on === 'local') {
    const line = `kubectl wait --for=condition=Ready ${nodeTarget(nodes[1], sleeper, before)} --timeout=${t}s`;
    return { lines: [line], replacesProbe: false, what: `became ${line}` };
  }
  const pods = /^kubectl\s+(?:(?:-n|--namespace)[= ](\S+)\s+)?get\s+(?:pods?|po)\b(.*)$/.exec(p);
  if (pods && ready && target.on === 'local') {
    const rest = pods[2] ?? '';
    const ns = pods[1] ?? /(?:-n|--namespace)[= ](\S+)/.exec(rest)?.[1];
    const selector = /(?:-l|--selector)[= ](\S+)/.exec(rest)?.[1];
    // Without a namespace the wait would include finished Job pods, which are never Ready.
    if (!ns) return undefined;
    const line = `kubectl wait --for=condition=Ready pods ${selector ? `-l ${selector}` : '--all'} -n ${ns} --timeout=${t}s`;
    return { lines: [line], replacesProbe: false, what: `became ${line}` };
  }
  const probes = /^(curl\s(.*\s)?-[a-zA-Z]*f|systemctl\s+is-active\s|nc\s+-z|kubectl\s+get\s+--raw)/;
  if (probes.test(p) && target.on === sleeper.on && !/<<|\\$/.test(p)) {
    const lines = [
      `deadline=$((SECONDS + ${t}))`,
      `until ${p}; do`,
      `  (( SECONDS < deadline )) || { echo "gave up after ${t}s waiting for: ${p.replace(/["$`\\]/g, '')}" >&2; exit 1; }`,
      '  sleep 5',
      'done',
    ];
    return {
      lines,
      replacesProbe: true,
      what: `became a loop that polls ${p.split(/\s+/)[0]} every 5s for at most ${t}s`,
    };
  }
  return undefined;
}

const firstCommand = (lines: string[], from: number) =>
  lines.findIndex((l, j) => j >= from && l.trim() !== '' && !l.trim().startsWith('#'));

/** Rewrites `sleep N` followed by a recognisable check; steps left with no code are emptied. */
export function replaceSleeps(steps: DraftStep[], decide: Decide): void {
  steps.forEach((s, k) => {
    for (;;) {
      const lines = s.code.split('\n');
      const n = lines.findIndex((l, j) => {
        const m = SLEEP.exec(l);
        return m && seconds(m) >= 2 && !l.includes('\u0000') && loopDepth(lines, j) === 0;
      });
      if (n < 0) return;
      const secs = seconds(SLEEP.exec(lines[n]!)!);
      const at = firstCommand(lines, n + 1);
      const next = steps[k + 1];
      const target = at >= 0 ? s : next;
      const targetLines = target === s ? lines : (next?.code.split('\n') ?? []);
      const probeAt = target === s ? at : firstCommand(targetLines, 0);
      const wait = target && probeAt >= 0 ? waitFor(targetLines[probeAt]!, target, s, steps[k - 1], secs) : undefined;
      if (!wait || !target) {
        // Left as it is (the checker's sleep rule reports it); marked so the loop moves on, unmarked below.
        lines[n] = `${lines[n]}\u0000`;
        s.code = lines.join('\n');
        continue;
      }
      targetLines.splice(probeAt, wait.replacesProbe ? 1 : 0, ...wait.lines);
      if (target === s) targetLines.splice(n, 1);
      else {
        lines.splice(n, 1);
        s.code = lines.join('\n').trim();
      }
      target.code = targetLines.join('\n').trim();
      if (deadline(secs) + 60 > 600) target.timeout = `${deadline(secs) + 60}s`;
      decide(s.line + n, `sleep ${secs} before a check ${wait.what}`);
    }
  });
  for (const s of steps) s.code = s.code.replaceAll('\u0000', '');
}

/** How many loops are open at line `at` (a sleep inside one is polling, not waiting blind). */
function loopDepth(lines: string[], at: number): number {
  let depth = 0;
  for (const l of lines.slice(0, at)) {
    const words = l.split(/[\s;&|()]+/);
    depth += words.filter((w) => w === 'do').length - words.filter((w) => w === 'done').length;
  }
  return Math.max(0, depth);
}

function seconds(m: RegExpExecArray): number {
  const n = Number(m[1]);
  return m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
}
