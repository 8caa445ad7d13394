import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface SyntaxResult {
  ok: boolean;
  /** 1-based line within the checked code. */
  line?: number;
  message?: string;
  /** bash said something without failing (e.g. a here-document cut short by end of file). */
  warning?: boolean;
}

/*
 * One long-lived bash checks every step, because spawning `bash -n` per step
 * costs more than parsing the page. For each snippet it forks a subshell that
 * evals `set -n` followed by the snippet: the first command turns on noexec,
 * so the rest is parsed and never executed, exactly as with `bash -n`
 * (`set +n` cannot undo it: it is not executed either). The fork keeps noexec
 * from leaking into the driver.
 */
const DRIVER = `while IFS= read -r -d '' code; do
( eval $'set -n\\n'"$code" ) 2>&1
printf '\\0%d\\0' $?
done`;
/** The eval sits on line 2 of DRIVER and its string starts with one extra line. */
const LINE_OFFSET = 2;

export class BashSyntaxChecker {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private pending: Array<(r: SyntaxResult) => void> = [];
  private buffer = '';

  check(code: string): Promise<SyntaxResult> {
    if (code.includes('\0')) return Promise.resolve({ ok: false, line: 1, message: 'the step contains a NUL byte' });
    const proc = this.start();
    return new Promise((resolve) => {
      this.pending.push(resolve);
      proc.stdin.write(`${code}\n\0`);
    });
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const proc = spawn('bash', ['--norc', '--noprofile', '-c', DRIVER], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
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
      this.pending.shift()?.(toResult(text, status));
    }
  }

  private failAll(message: string) {
    for (const resolve of this.pending.splice(0)) resolve({ ok: false, line: 1, message });
    this.proc = undefined;
  }
}

function toResult(text: string, status: number): SyntaxResult {
  const first = text.split('\n').find((l) => l.trim()) ?? '';
  if (status === 0 && !first) return { ok: true };
  const m = /line (\d+): (.*)$/.exec(first);
  const line = m ? Math.max(1, Number(m[1]) - LINE_OFFSET) : 1;
  const message = (m ? m[2]! : first.replace(/^bash: (eval: )?/, '')).replace(/^warning: /, '');
  return status === 0 ? { ok: true, warning: true, line, message } : { ok: false, line, message: message || `bash -n failed (status ${status})` };
}
