import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
 * the pages, so steps are checked in chunks by one `bash --pretty-print` each
 * (parse, print, never execute). Chunks are started while pages are still
 * being parsed, so bash works on another core meanwhile.
 *
 * Each step becomes `__rb_<nonce>_<i> () {\n{\n<code>\n}\n__rb_<nonce>_end_<i>\n}`,
 * the nonce random so no step can spell it. A chunk passes only when bash
 * accepts it AND prints every function in order with exactly that shape
 * (see `wellFormed`): a step with an unterminated quote or here-document
 * swallows the next header, and one that closes the braces early and opens
 * new ones (`}\n{ …`) shows up as an extra group, so no step can hide behind
 * a neighbour. A chunk that does not pass is split in halves and checked
 * again, down to a few steps, which are checked one by one: that also gives
 * exact lines and messages.
 *
 * bash reads a script from a pipe one byte at a time, so a chunk is written to
 * a temporary file that bash gets as its stdin (seekable: read in blocks) and
 * that is unlinked as soon as it is open. Never `bash --pretty-print -c`: with
 * -c, bash ignores --pretty-print and executes the text.
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
/**
 * A chunk is started once this much step text has queued: 8K characters for the
 * first (so bash starts early, and a small tree does not wait for one big chunk
 * at the end), doubling up to 64K (about 700 steps; every bash costs a spawn).
 */
const FIRST_CHUNK_CHARS = 8 * 1024;
const MAX_CHUNK_CHARS = 64 * 1024;
/** A failing chunk this small is checked step by step. */
const ONE_BY_ONE = 8;
const BASH_ENV = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' });

interface Pending {
  code: string;
  resolve: (r: SyntaxResult) => void;
}

export class BashSyntaxChecker {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private waiting: Array<(r: SyntaxResult) => void> = [];
  private buffer = '';
  private chunk: Pending[] = [];
  private chunkChars = 0;
  private chunkLimit = FIRST_CHUNK_CHARS;

  /** Queues a snippet; results arrive when its chunk is checked (once big enough, or on flush()). */
  check(code: string): Promise<SyntaxResult> {
    if (code.includes('\0')) return Promise.resolve({ ok: false, line: 1, message: 'the step contains a NUL byte' });
    return new Promise((resolve) => {
      this.chunk.push({ code, resolve });
      this.chunkChars += code.length;
      if (this.chunkChars >= this.chunkLimit) {
        this.flush();
        this.chunkLimit = Math.min(this.chunkLimit * 2, MAX_CHUNK_CHARS);
      }
    });
  }

  /** Starts checking whatever is queued. */
  flush(): void {
    const chunk = this.chunk.splice(0);
    this.chunkChars = 0;
    if (chunk.length) void this.checkChunk(chunk);
  }

  close(): void {
    this.flush();
    this.proc?.stdin.end();
    this.proc = undefined;
  }

  private async checkChunk(chunk: Pending[]): Promise<void> {
    const parses = await chunkParses(chunk.map((p) => p.code));
    if (parses === true) {
      for (const p of chunk) p.resolve({ ok: true });
    } else if (parses instanceof Error) {
      // No bash to ask: splitting the chunk would only fail again, step after step.
      for (const p of chunk)
        p.resolve({ ok: false, line: 1, message: `cannot start bash for the syntax check: ${parses.message}` });
    } else if (chunk.length <= ONE_BY_ONE) {
      for (const p of chunk) void this.checkOne(p.code).then(p.resolve);
    } else {
      const half = Math.ceil(chunk.length / 2);
      await Promise.all([this.checkChunk(chunk.slice(0, half)), this.checkChunk(chunk.slice(half))]);
    }
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
    const proc = spawn('bash', ['--norc', '--noprofile', '-c', DRIVER], {
      env: BASH_ENV(),
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
      this.waiting.shift()?.(toResult(text, status));
    }
  }

  private failAll(message: string) {
    for (const resolve of this.waiting.splice(0)) resolve({ ok: false, line: 1, message });
    this.proc = undefined;
  }
}

/** True when bash parses every snippet on its own terms (see the comment above); an Error when bash cannot be started. */
function chunkParses(codes: string[]): Promise<boolean | Error> {
  const nonce = randomBytes(6).toString('hex');
  const text = codes.map((c, i) => `__rb_${nonce}_${i} () {\n{\n${c}\n}\n__rb_${nonce}_end_${i}\n}\n`).join('');
  let stdin: number;
  try {
    stdin = scriptFile(nonce, text);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const proc = spawn('bash', ['--norc', '--noprofile', '--pretty-print'], {
      env: BASH_ENV(),
      stdio: [stdin, 'pipe', 'pipe'],
    });
    closeSync(stdin);
    const out: string[] = [];
    let err = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    proc.on('error', (error) => resolve(error));
    proc.on('close', (status) => resolve(status === 0 && !err.trim() && wellFormed(out.join(''), nonce, codes.length)));
  });
}

/** An open descriptor of a file holding `text`, already unlinked: nothing is left behind. */
function scriptFile(nonce: string, text: string): number {
  const path = join(tmpdir(), `runbook-check-${process.pid}-${nonce}.sh`);
  writeFileSync(path, text, { mode: 0o600 });
  try {
    return openSync(path, 'r');
  } finally {
    unlinkSync(path);
  }
}

/**
 * Checks bash's printout of a chunk: every function i, in order, as
 * `header`, `{ `, `    { `, …, `    }` or `    };`, `    end-marker`, `}`,
 * with no second group opened at the function's top level in between. A
 * here-document line that happens to look like one of these only makes the
 * chunk fall back to smaller checks.
 */
function wellFormed(out: string, nonce: string, count: number): boolean {
  const prefix = `__rb_${nonce}_`;
  if (!out.startsWith(prefix)) return false;
  let start = 0;
  for (let i = 0; i < count; i++) {
    // start is 0 again once the last function has been read: fewer functions than steps.
    if (start === 0 && i > 0) return false;
    const next = out.indexOf(`\n${prefix}`, start);
    const block = out.slice(start, next < 0 ? out.length : next + 1).trimEnd();
    const head = `${prefix}${i} ()`;
    const opened = block.startsWith(`${head} \n{ \n    { \n`) || block.startsWith(`${head}\n{ \n    { \n`);
    const end = `\n    ${prefix}end_${i}\n}`;
    const closed = block.endsWith(`\n    }${end}`) || block.endsWith(`\n    };${end}`);
    // The wrapper's group is the only one opened at the function's top level.
    if (!opened || !closed || block.indexOf('\n    { \n', block.indexOf('\n    { \n') + 1) !== -1) return false;
    start = next + 1;
  }
  // No further function after the last step's.
  return start === 0;
}

function toResult(text: string, status: number): SyntaxResult {
  const first = text.split('\n').find((l) => l.trim()) ?? '';
  if (status === 0 && !first) return { ok: true };
  const m = /line (\d+): (.*)$/.exec(first);
  const line = m ? Math.max(1, Number(m[1]) - LINE_OFFSET) : 1;
  const message = (m ? m[2]! : first.replace(/^bash: (eval: )?/, '')).replace(/^warning: /, '');
  return status === 0
    ? { ok: true, warning: true, line, message }
    : { ok: false, line, message: message || `bash -n failed (status ${status})` };
}
