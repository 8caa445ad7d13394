import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'runner/cli.ts');

/**
 * A throwaway lab for one test: an inventory whose cluster is `homelab` at a
 * loopback API address nothing listens on, a kubeconfig that matches it, and
 * private folders for records and locks. Nothing here connects anywhere.
 */
export interface Lab {
  dir: string;
  records: string;
  inventory: string;
  kubeconfig: string;
  env: NodeJS.ProcessEnv;
  /** --records and --inventory, for every CLI call. */
  flags: string[];
  runbook(name: string, body: string, frontmatter?: string): string;
  readRecords(): Array<{ file: string; record: RunRecord }>;
  /** The one record the test's run wrote (fails otherwise). */
  onlyRecord(): RunRecord;
  cleanup(): void;
}

export const LAB_INVENTORY = `cluster:
  name: homelab
  context: lab-test
  server: https://127.0.0.1:6443
  k3sVersion: v1.34.3+k3s1
nodes:
  - name: node-1
    roles: [server]
    address: 127.0.0.1
`;

export function kubeconfigText(context: string, server: string, current = context): string {
  return `apiVersion: v1
kind: Config
current-context: ${current}
clusters:
  - name: ${context}-cluster
    cluster: { server: ${server} }
contexts:
  - name: ${context}
    context: { cluster: ${context}-cluster, user: ${context}-user }
users:
  - name: ${context}-user
    user: { token: not-a-real-token }
`;
}

export function makeLab(): Lab {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-test-'));
  const records = join(dir, 'runs');
  const inventory = join(dir, 'inventory.yaml');
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(inventory, LAB_INVENTORY);
  writeFileSync(kubeconfig, kubeconfigText('lab-test', 'https://127.0.0.1:6443'));
  mkdirSync(join(dir, 'locks'), { mode: 0o700 });
  return {
    dir,
    records,
    inventory,
    kubeconfig,
    env: { KUBECONFIG: kubeconfig, RUNBOOK_LOCK_DIR: join(dir, 'locks') },
    flags: ['--records', records, '--inventory', inventory],
    runbook(name, body, frontmatter = '') {
      const file = join(dir, `${name}.mdx`);
      writeFileSync(
        file,
        `---\ntitle: ${name}\nrunbook:\n  id: ${name}\n  risk: low\n  cluster: homelab\n  api: optional\n${frontmatter}---\n\n# ${name}\n\n${body}`,
      );
      return file;
    },
    readRecords() {
      const out: Array<{ file: string; record: RunRecord }> = [];
      for (const folder of safeList(records)) {
        for (const name of safeList(join(records, folder))) {
          const file = join(records, folder, name);
          out.push({ file, record: runRecordSchema.parse(JSON.parse(readFileSync(file, 'utf8'))) });
        }
      }
      return out;
    },
    onlyRecord() {
      const all = this.readRecords();
      if (all.length !== 1) throw new Error(`expected one run record under ${records}, found ${all.length}`);
      return all[0]!.record;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const safeList = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** A step fence. */
export const step = (attrs: string, code: string) => `\`\`\`bash ${attrs}\n${code}\n\`\`\`\n\n`;

export interface CliRun {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves once stdout or stderr contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/**
 * The environment an operator's shell would have: vitest adds MODE, DEV, PROD…,
 * which runbook params (read from the environment) would otherwise pick up.
 */
export function operatorEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(MODE|DEV|PROD|SSR|BASE_URL|TEST|VITEST.*)$/.test(key)) delete env[key];
  return { ...env, NO_COLOR: '1', FORCE_COLOR: undefined, ...extra };
}

/** Starts the real CLI as a child process (stdin is not a terminal). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: operatorEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const poke = () => {
    for (const w of waiters) w();
  };
  child.stdout!.on('data', (d) => {
    stdout += d;
    poke();
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    poke();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return {
    child,
    output: () => ({ stdout, stderr }),
    done,
    waitFor(text, timeoutMs = 20_000) {
      return new Promise((res, rej) => {
        const check = () => {
          if (stdout.includes(text) || stderr.includes(text)) {
            clearTimeout(timer);
            res();
          }
        };
        const timer = setTimeout(
          () => rej(new Error(`timed out waiting for ${JSON.stringify(text)}; stdout:\n${stdout}\nstderr:\n${stderr}`)),
          timeoutMs,
        );
        waiters.push(check);
        check();
        void done.then(() => setTimeout(check, 0));
      });
    },
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return startCli(args, env).done;
}

/** Processes (not zombies) whose command line contains `marker`. */
export function livingProcesses(marker: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (state !== 'Z' && cmdline.includes(marker)) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
