// Shared pieces of the twin suites: ssh to a node the way the runner does (the twin's
// ssh config), a throwaway runbook project, and what the host looks like.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { down, up, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { twinEnv } from '../../scripts/sandbox-lib/twin/index.ts';
import { runbook } from '../helpers/cli.ts';

/** `ssh -F <twin ssh_config> <node> -- <command>`: what the runner does, by hand. */
export function sshNode(sshConfig: string, node: string, command: string) {
  const r = spawnSync('ssh', ['-F', sshConfig, '-T', node, '--', command], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Project {
  dir: string;
  records: string;
  env: NodeJS.ProcessEnv;
  page(name: string, body: string): string;
  cleanup(): void;
}

/** A folder for a runbook page, its records and locks, with the runner pointed at a twin sandbox. */
export function twinProject(t: { kubeconfig: string; sshConfig: string; binDir: string }): Project {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-twin-project-'));
  const records = join(dir, 'runs');
  mkdirSync(join(dir, 'locks'), { mode: 0o700 });
  return {
    dir,
    records,
    env: {
      KUBECONFIG: t.kubeconfig,
      RUNBOOK_SSH_CONFIG: t.sshConfig,
      RUNBOOK_LOCK_DIR: join(dir, 'locks'),
      PATH: `${t.binDir}:${process.env.PATH}`,
    },
    page(name, body) {
      const file = join(dir, `${name}.mdx`);
      writeFileSync(
        file,
        `---\ntitle: ${name}\nrunbook:\n  id: ${name}\n  risk: low\n  cluster: homelab\n  api: optional\n---\n\n# ${name}\n\n${body}`,
      );
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const fence = (attrs: string, code: string) => `\`\`\`bash ${attrs}\n${code}\n\`\`\`\n\n`;

/** Every file and directory below `roots`: path → type, mode, size, mtime, link target. */
export function fileTree(roots: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    const link = st.isSymbolicLink() ? ` -> ${readlinkSync(p)}` : '';
    out.set(p, `${st.mode.toString(8)} ${st.isDirectory() ? '-' : st.size} ${st.mtimeMs}${link}`);
    if (st.isDirectory()) for (const e of safeList(p)) walk(join(p, e));
  };
  for (const r of roots) {
    walk(r);
    if (!out.has(r)) out.set(r, 'absent');
  }
  return out;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Listening TCP sockets (local address) and listening unix socket paths of the host's network namespace. */
export function listeners(): Set<string> {
  const out = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A') out.add(`tcp ${f[1]}`);
    }
  }
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // Flags 00010000 = __SO_ACCEPTCON: a listening socket.
    if (f[3] === '00010000' && f[7]) out.add(`unix ${f[7]}`);
  }
  return out;
}

/** Namespace ids (`net:[4026…]`) of a process, empty when it is gone. */
export function namespacesOf(pid: number): string[] {
  return ['net', 'mnt', 'pid', 'uts'].flatMap((ns) => {
    try {
      return [readlinkSync(`/proc/${pid}/ns/${ns}`)];
    } catch {
      return [];
    }
  });
}

/** Pids of processes that are in any of the given namespaces. */
export function processesIn(namespaces: Set<string>): number[] {
  const found: number[] = [];
  for (const pid of safeList('/proc').filter((d) => /^\d+$/.test(d))) {
    if (namespacesOf(Number(pid)).some((n) => namespaces.has(n))) found.push(Number(pid));
  }
  return found;
}

/**
 * A twin of the suite's own for the runbook rehearsals (recovery.test.ts, provisioner.test.ts,
 * rehearse-plan.test.ts): started in beforeAll, stopped in afterAll, with the runner's
 * environment pointed at it (local steps in its operator namespace) and its records read back.
 */
export function rehearsalTwin(prefix: string) {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const stateDir = join(root, 'sandbox');
  const records = join(root, 'runs');
  let state: SandboxState | undefined;
  const current = () => {
    if (!state) throw new Error("the suite's twin is not up (beforeAll failed)");
    return state;
  };
  beforeAll(async () => {
    state = await up({ stateDir, twin: true });
  }, 300_000);
  afterAll(async () => {
    if (state) await down(stateDir);
    rmSync(root, { recursive: true, force: true });
  }, 120_000);
  const env = (): NodeJS.ProcessEnv => ({
    KUBECONFIG: current().kubeconfig,
    RUNBOOK_INVENTORY: current().sandboxInventory,
    RUNBOOK_LOCK_DIR: join(root, 'locks'),
    XDG_STATE_HOME: join(root, 'state'), // what steps keep (k3s-upgrade's state dump) stays in the test's folder
    PATH: `${current().binDir}:${process.env.PATH}`,
    ...twinEnv(stateDir),
  });
  const recordsOf = (id: string): RunRecord[] =>
    (existsSync(join(records, id)) ? readdirSync(join(records, id)).sort() : []).map((f) =>
      runRecordSchema.parse(JSON.parse(readFileSync(join(records, id, f), 'utf8'))),
    );
  return {
    root,
    stateDir,
    records,
    env,
    state: current,
    kubectl(...args: string[]): string {
      const r = spawnSync(current().kubectl, args, {
        encoding: 'utf8',
        env: { ...process.env, KUBECONFIG: current().kubeconfig },
      });
      if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    /** `runbook run <id> --yes` with the given params (NAME=VALUE), recorded in the suite's folder. */
    run: (id: string, params: string[] = [], extra: string[] = []) =>
      runbook(['run', id, '--yes', '--records', records, ...params.flatMap((p) => ['--set', p]), ...extra], {
        env: env(),
      }),
    last: (id: string): RunRecord | undefined => recordsOf(id).at(-1),
  };
}
