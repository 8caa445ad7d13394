import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface SyntaxResult {
  ok: boolean;
  /** 1-based line within the checked code. */
  line?: number;
  message?: string;
  /** bash said something without failing (e.g. a here-document cut short by end of file). */
  warning?: boolean;
}

/*
 * Checking thousands of steps one `bash -n` at a time costs more than parsing
 * the pages, so steps are checked in batches by one `bash --pretty-print`
 * (parse, print, never execute): each step becomes the body of a function
 * named with a random nonce. A batch passes only when bash accepts it AND
 * prints every one of those function headers, in order: a step with an
 * unterminated quote or here-document swallows the next header, so it cannot
 * hide behind a neighbour that happens to close it. Any batch that does not
 * pass is checked again step by step, which also gives exact lines.
 *
 * The step-by-step check forks a subshell in one long-lived bash that evals
 * `set -n` followed by the snippet: the first command turns on noexec, so the
 * rest is parsed and never executed, exactly as with `bash -n` (`set +n`
 * cannot undo it: it is not executed either).
 */
const DRIVER = `while IFS= read -r -d '' code; do
( eval $'set -n\\n'"$code" ) 2>&1
printf '\\0%d\\0' $?
done`;
/** The eval sits on line 2 of DRIVER and its string starts with one extra line. */
const LINE_OFFSET = 2;
const BATCH_SIZE = 256;
const BASH_ENV = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' });

interface Pending {
  code: string;
  resolve: (r: SyntaxResult) => void;
}

export class BashSyntaxChecker {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private waiting: Array<(r: SyntaxResult) => void> = [];
  private buffer = '';
  private batch: Pending[] = [];

  /** Queues a snippet; results arrive when its batch is checked (at BATCH_SIZE, or on flush()). */
  check(code: string): Promise<SyntaxResult> {
    if (code.includes('\0')) return Promise.resolve({ ok: false, line: 1, message: 'the step contains a NUL byte' });
    return new Promise((resolve) => {
      this.batch.push({ code, resolve });
      if (this.batch.length >= BATCH_SIZE) this.flush();
    });
  }

  /** Starts checking whatever is queued. */
  flush(): void {
    const batch = this.batch.splice(0);
    if (batch.length) void this.checkBatch(batch);
  }

  close(): void {
    this.flush();
    this.proc?.stdin.end();
    this.proc = undefined;
  }

  private async checkBatch(batch: Pending[]) {
    if (await batchParses(batch.map((p) => p.code))) {
      for (const p of batch) p.resolve({ ok: true });
      return;
    }
    for (const p of batch) this.checkOne(p.code).then(p.resolve);
  }

  private checkOne(code: string): Promise<SyntaxResult> {
    const proc = this.start();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      proc.stdin.write(`${code}\n\0`);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = spawn('bash', ['--norc', '--noprofile', '-c', DRIVER], { env: BASH_ENV(), stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => this.onData(chunk));
    proc.on('error', (err) => this.failAll(`cannot start bash for the syntax check: ${err.message}`));
    proc.on('exit', () => this.failAll('bash exited during the syntax check'));
    this.proc = proc;
    return proc;
  }

  private onData(chunk: string) {
    this.buffer += chunk;
    // Each answer: <messages>\0<status>\0
    for (;;) {
      const a = this.buffer.indexOf('\0');
      if (a < 0) return;
      const b = this.buffer.indexOf('\0', a + 1);
      if (b < 0) return;
      const text = this.buffer.slice(0, a);
      const status = Number(this.buffer.slice(a + 1, b));
      this.buffer = this.buffer.slice(b + 1);
      this.waiting.shift()?.(toResult(text, status));
    }
  }

  private failAll(message: string) {
    for (const resolve of this.waiting.splice(0)) resolve({ ok: false, line: 1, message });
    this.proc = undefined;
  }
}

/** True when bash parses every snippet on its own terms (see the comment above). */
function batchParses(codes: string[]): Promise<boolean> {
  const nonce = randomBytes(6).toString('hex');
  const name = (i: number) => `__rb_${nonce}_${i}`;
  const text = codes.map((c, i) => `${name(i)} () {\n${c}\n}\n`).join('');
  return new Promise((resolve) => {
    const proc = spawn('bash', ['--norc', '--noprofile', '--pretty-print'], { env: BASH_ENV(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    proc.on('error', () => resolve(false));
    proc.on('close', (status) => {
      if (status !== 0 || err.trim()) return resolve(false);
      const headers = out.split('\n').filter((l) => l.startsWith(`__rb_${nonce}_`)).map((l) => l.trim());
      resolve(headers.length === codes.length && headers.every((h, i) => h === `${name(i)} ()`));
    });
    proc.stdin.end(text);
  });
}
function toResult(text: string, status: number): SyntaxResult {
  const first = text.split('\n').find((l) => l.trim()) ?? '';
  if (status === 0 && !first) return { ok: true };
  const m = /line (\d+): (.*)$/.exec(first);
  const line = m ? Math.max(1, Number(m[1]) - LINE_OFFSET) : 1;
  const message = (m ? m[2]! : first.replace(/^bash: (eval: )?/, '')).replace(/^warning: /, '');
  return status === 0 ? { ok: true, warning: true, line, message } : { ok: false, line, message: message || `bash -n failed (status ${status})` };
}
