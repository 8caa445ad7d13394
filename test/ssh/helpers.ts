import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecRequest, ExecResult, Executor } from '../../runner/execute/types.ts';
import type { StepInstance, Target } from '../../runner/plan/plan.ts';
import type { LabNode, SshLab } from './lab.ts';

export type NodeTarget = Extract<Target, { kind: 'node' }>;

export function targetOf(lab: SshLab, name: string): NodeTarget {
  const n = lab.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no lab node ${name}`);
  return { kind: 'node', node: n.name, host: '127.0.0.1', user: lab.user, port: n.port, become: n.become };
}

export function nodeOf(lab: SshLab, name: string): LabNode {
  return lab.nodes.find((x) => x.name === name)!;
}

/** A unique word to find a step's processes with pgrep, or a value in output. */
export const unique = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

export interface Run {
  result: Promise<ExecResult>;
  output: () => string;
}

/** Starts one attempt, collecting its streamed output. */
export function start(executor: Executor, target: Target, script: string, extra: Partial<ExecRequest> = {}): Run {
  let output = '';
  const result = executor.exec({
    instance: { id: 'test' } as StepInstance,
    target,
    script,
    env: {},
    timeoutMs: 30_000,
    signal: new AbortController().signal,
    onOutput: (chunk) => {
      output += chunk;
    },
    ...extra,
  });
  return { result, output: () => output };
}

/** Command lines of every process on this machine, which is also the daemons' side. */
export const processList = () => execFileSync('ps', ['-eww', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' });

/** Pids whose command line contains `word` (pgrep -f), excluding pgrep itself. */
export function pgrep(word: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', word], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Waits until `check` holds, up to `ms`; returns whether it did. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}
