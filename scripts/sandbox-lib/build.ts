// Builds (once; test/cluster/build.sh caches by content hash) the control
// plane binaries, showing progress because a cold build takes many minutes.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildScript } from './paths.ts';
import { tail } from './processes.ts';

export interface Binaries {
  dir: string;
  sandbox: string; // multi-call: etcd, kube-apiserver, … (first argument)
  kubectl: string;
  kwok: string;
}

function binaries(dir: string): Binaries {
  return { dir, sandbox: join(dir, 'kube-sandbox'), kubectl: join(dir, 'kubectl'), kwok: join(dir, 'kwok') };
}

/** The cache dir for the current sources, built or not. */
export function binDir(): string {
  const r = spawnSync('bash', [buildScript, '--print-dir'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${buildScript} --print-dir failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function isBuilt(): boolean {
  return existsSync(join(binDir(), '.complete'));
}

export async function ensureBuilt(
  log: (line: string) => void,
  logDir: string,
  signal?: AbortSignal,
): Promise<Binaries> {
  const dir = binDir();
  if (existsSync(join(dir, '.complete'))) return binaries(dir);

  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'build.log');
  const out = createWriteStream(logFile);
  const started = Date.now();
  signal?.throwIfAborted();
  // Own process group, so an abort stops `go build` too, not only the script.
  const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  signal?.addEventListener('abort', stop, { once: true });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    out.write(c);
  });
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    out.write(c);
    // Show the script's own progress lines, not the compiler's chatter.
    const lines = (partial + c).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (/^(building| {2}\[|waiting|built)/.test(l)) log(l.trim());
  });
  const ticker = setInterval(() => log(`  still building… ${Math.round((Date.now() - started) / 1000)}s`), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearInterval(ticker);
  signal?.removeEventListener('abort', stop);
  signal?.throwIfAborted();
  await new Promise((resolve) => out.end(resolve));
  if (code !== 0) {
    throw new Error(`building the control plane failed (exit ${code}); log: ${logFile}\n${tail(logFile, 30)}`);
  }
  const built = stdout.trim().split('\n').pop() ?? dir;
  return binaries(built);
}
