import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../process-group.ts';
import { nodeConfigText, type NodeTarget, type SshSettings } from './config.ts';

/**
 * The run's private ssh directory (0700): one config file and one control
 * socket per node. Its name carries the runner's pid (`runbook-ssh-<pid>-XXXXXX`),
 * so a later run can tell a directory left by a killed runner from one in use,
 * and removes it (stopping any master still listening on its sockets).
 */

const PREFIX = 'runbook-ssh-';
/** Unix socket paths are limited to 108 bytes; the node name (≤ 63) and `.sock` must fit behind the dir. */
const MAX_DIR_LENGTH = 108 - 63 - 7;
/** `runbook-ssh-<pid>-XXXXXX` plus a slash, with a pid of up to 7 digits. */
const NAME_LENGTH = PREFIX.length + 8 + 6 + 1;

export class ControlDir {
  private dir: string | undefined;
  private readonly configs = new Map<string, string>();
  private readonly settings: SshSettings;
  private readonly onCreate: (path: string) => void;

  /** `onCreate` hears of the directory once it exists (the run's watchdog removes it if the runner dies). */
  constructor(settings: SshSettings, onCreate: (path: string) => void = () => {}) {
    this.settings = settings;
    this.onCreate = onCreate;
  }

  /** The directory, once the first node step has created it. */
  get path(): string | undefined {
    return this.dir;
  }

  private ensure(): string {
    if (!this.dir) {
      this.dir = mkdtempSync(join(baseDir(), `${PREFIX}${process.pid}-`)); // mode 0700
      this.onCreate(this.dir);
    }
    return this.dir;
  }

  /** The `ssh -F` file for a node, written once per run. */
  configFor(target: NodeTarget): string {
    let file = this.configs.get(target.node);
    if (!file) {
      file = join(this.ensure(), `${target.node}.config`);
      writeFileSync(file, nodeConfigText(target, this.settings), { mode: 0o600 });
      this.configs.set(target.node, file);
    }
    return file;
  }

  socketFor(node: string): string {
    return join(this.ensure(), `${node}.sock`);
  }

  /** Nodes with a config in this run, and their control sockets. */
  masters(): Array<{ node: string; config: string; socket: string }> {
    if (!this.dir) return [];
    const dir = this.dir;
    return [...this.configs].map(([node, config]) => ({ node, config, socket: join(dir, `${node}.sock`) }));
  }

  remove(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.configs.clear();
  }
}

function baseDir(): string {
  return tmpdir().length <= MAX_DIR_LENGTH - NAME_LENGTH ? tmpdir() : '/tmp';
}

/**
 * Removes the ssh directories of runners that are gone (killed before they could
 * clean up): only this user's, only those named with a dead pid. A master still
 * listening on a socket there is asked to exit first.
 */
export function removeStaleControlDirs(ssh = 'ssh'): string[] {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const base of new Set([tmpdir(), '/tmp'])) {
    let names: string[];
    try {
      names = readdirSync(base).filter((n) => n.startsWith(PREFIX));
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = Number(/^runbook-ssh-(\d+)-/.exec(name)?.[1]);
      if (!pid || pid === process.pid || pidAlive(pid)) continue;
      const dir = join(base, name);
      try {
        const st = lstatSync(dir);
        if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
        for (const sock of readdirSync(dir).filter((f) => f.endsWith('.sock'))) stopMaster(ssh, join(dir, sock));
        rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      } catch {
        // Raced with another run's cleanup, or not ours to touch.
      }
    }
  }
  return removed;
}

/** `ssh -O exit` on a socket: the master closes its connection (nothing else is needed to reach it). */
function stopMaster(ssh: string, socket: string): void {
  if (!existsSync(socket)) return;
  const args = ['-o', `ControlPath=${socket}`, '-O', 'exit', 'runbook-stale-master'];
  spawnSync(ssh, args, { stdio: 'ignore', timeout: 3000 });
}
