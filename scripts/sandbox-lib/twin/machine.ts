// One twin machine: a process tree in its own pid, network, mount and uts
// namespaces (unshare), shaped like a K3s node from the inside:
//
//   hostname = the node name; the network namespace has only `lo`, so nothing
//   a node step runs can reach a network; the node's own files are mounted at
//   the real K3s paths and the simulator at the real path of every command of
//   the command table (machine-mounts.ts); sshd listens on the node's
//   127.0.0.1:22; socat forwards the node's 127.0.0.1:6443 to the host's
//   api.sock (the sandbox API, as a K3s node reaches its server) and the
//   host-side <node>/ssh.sock to the node's sshd.
//
// pid 1 of the node is a small bash script (init.sh, written here). unshare
// runs with --kill-child: when it is stopped, pid 1 is killed, and the kernel
// kills every other process of the node and drops every mount made inside.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, tail, type ProcessRecord, type Started } from '../processes.ts';
import { planMounts, type CommandPaths, type Mount, type MountPlan } from './machine-mounts.ts';
import { nodeSshdFiles, sshdConfigText } from './ssh.ts';

/** Host programs the machine uses, as absolute paths resolved before any mount hides them. */
export interface MachineTools {
  unshare: string;
  bash: string;
  socat: string;
  sshd: string;
  ip: string;
  sleep: string;
  mount: string;
  umount: string;
  node: string;
}

export interface MachineSpec {
  name: string;
  /** <state>/twin/nodes/<name> */
  dir: string;
  twinDir: string;
  /** Host unix socket forwarding to the sandbox API (the node's 127.0.0.1:6443 goes there). */
  apiSocket: string;
  /** The simulator's entry (TypeScript run by the project's node); argv[2] is the path it was called as. */
  simEntry: string;
  /** Environment the simulator gets on this node (ssh sessions start with a clean one, so it is baked in). */
  simEnv: Record<string, string>;
  commands: readonly CommandPaths[];
  tools: MachineTools;
}

export interface MachinePaths {
  root: string;
  layers: string;
  launcher: string;
  init: string;
  log: string;
  sshSocket: string;
}

export function machinePaths(dir: string): MachinePaths {
  return {
    root: join(dir, 'root'),
    layers: join(dir, 'layers'),
    launcher: join(dir, 'sim'),
    init: join(dir, 'init.sh'),
    log: join(dir, 'machine.log'),
    sshSocket: join(dir, 'ssh.sock'),
  };
}

export interface MachineRecord extends ProcessRecord {
  node: string;
  /** Host pid of the node's pid 1 (init.sh): `nsenter --target <it> --all` enters the node. */
  initPid: number;
  sshSocket: string;
}

/** Paths go into a bash script and into mount options: refuse what could break either. */
function safePath(p: string): string {
  if (!/^\/[\w@%+=./-]*$/.test(p))
    throw new Error(
      `the twin cannot use the path ${p}: use a state dir whose path has only letters, digits and ._-/+=@%`,
    );
  return p;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Writes the node's launcher, overlay layers, sshd_config and init.sh. The node root (root/) is written before, by node-root.ts. */
export function prepareMachine(spec: MachineSpec): MountPlan {
  const paths = machinePaths(spec.dir);
  for (const p of [spec.dir, spec.apiSocket, spec.simEntry, ...Object.values(spec.tools)]) safePath(p);
  const plan = planMounts(spec.commands, paths.root, paths.layers);
  // sshd re-executes itself by its path, and bash runs init.sh: neither may be the simulator's.
  const shadowed = spec.commands.flatMap((c) => c.paths).filter((p) => [spec.tools.sshd, spec.tools.bash].includes(p));
  if (shadowed.length)
    throw new Error(`the command table covers ${shadowed.join(', ')}, which the twin's machines need from the host`);

  writeFileSync(paths.launcher, launcherText(spec), { mode: 0o755 });
  for (const m of plan.mounts) {
    if (m.kind === 'bind') {
      mkdirSync(m.source, { recursive: true }); // agents have no server dirs, but every node has the four roots
      // sshd starts after the node's own /run is bound: its privilege separation directory must be there.
      if (m.target === '/run') mkdirSync(join(m.source, 'sshd'), { recursive: true, mode: 0o755 });
      continue;
    }
    mkdirSync(m.layer, { recursive: true });
    for (const e of m.entries) {
      const at = join(m.layer, e.path);
      if (e.kind === 'dir') mkdirSync(at, { recursive: true });
      else {
        mkdirSync(join(at, '..'), { recursive: true });
        if (!existsSync(at)) symlinkSync(paths.launcher, at);
      }
    }
  }
  // Mount points for the host's mount(8)/umount(8) inside the node (the simulator's NFS binds use them, sim/nfs.ts).
  mkdirSync(join(spec.dir, 'bin'), { recursive: true });
  for (const f of hostTools(spec.dir)) if (!existsSync(f)) writeFileSync(f, '', { mode: 0o755 });
  const sshd = nodeSshdFiles(spec.dir);
  mkdirSync(sshd.dir, { recursive: true, mode: 0o700 });
  writeFileSync(sshd.config, sshdConfigText(spec.name, sshd));
  writeFileSync(paths.init, initScript(spec, plan.mounts), { mode: 0o755 });
  chmodSync(paths.init, 0o755);
  return plan;
}

/** <node>/bin/host-mount and host-umount: the host's mount(8) and umount(8), bound there inside the node only. */
export const hostTools = (dir: string) => [join(dir, 'bin', 'host-mount'), join(dir, 'bin', 'host-umount')] as const;

/** The simulator's own per-node launcher, when the node root has one (sim/install.ts launcherPath). */
export const simLauncher = (dir: string) => join(dir, 'bin', 'twin-sim');

function launcherText(spec: MachineSpec): string {
  const env = Object.entries(spec.simEnv)
    .map(([k, v]) => `export ${k}=${q(v)}`)
    .join('\n');
  const own = simLauncher(spec.dir);
  // The command's name, as K3s's multi-call binary reads it: the simulator is one program for all of them.
  const run = existsSync(own)
    ? `exec ${q(own)} "\${0##*/}" "$@"`
    : `exec ${q(spec.tools.node)} ${q(spec.simEntry)} "\${0##*/}" "$@"`;
  return `#!/bin/sh
# The lab twin's simulator on node ${spec.name} (scripts/sandbox-lib/twin/sim/): every command
# of the command table is a symlink to this file; the simulator acts by the name it was called as.
${env}
${run}
`;
}

function mountLine(m: Mount, node: string): string {
  if (m.kind === 'bind') return `"$MOUNT" --bind ${q(safePath(m.source))} ${q(safePath(m.target))}`;
  // Two lower layers and no upper one: a read-only overlay, the node's layer on top.
  return `"$MOUNT" -t overlay twin-${node} -o ${q(`ro,lowerdir=${safePath(m.layer)}:${safePath(m.target)}`)} ${q(m.target)}`;
}

export function initScript(spec: MachineSpec, mounts: Mount[]): string {
  const t = spec.tools;
  const paths = machinePaths(spec.dir);
  const sshd = nodeSshdFiles(spec.dir);
  return `#!${t.bash}
# pid 1 of lab twin node ${spec.name} (written by scripts/sandbox-lib/twin/machine.ts, run through unshare).
# When it ends, the kernel ends every process of the node and drops every mount made here.
set -euo pipefail
hostname ${q(spec.name)}
${q(t.ip)} link set lo up
# Forwarders first, by their host paths (the overlays below may cover them; a process sees mounts made after it
# started all the same): the host reaches the node's sshd through ssh.sock; the node reaches the API at 127.0.0.1:6443.
${q(t.socat)} UNIX-LISTEN:${paths.sshSocket},fork,mode=600,unlink-early TCP:127.0.0.1:22 &
${q(t.socat)} TCP-LISTEN:6443,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${spec.apiSocket} &
# Keeps pid 1 waiting (bash reaps whatever ends below it) until unshare is stopped.
${q(t.sleep)} infinity &
# The host's mount, held open: once /usr/bin is overlaid, its path is the simulator's mount.
exec 7<${q(t.mount)}
MOUNT=/proc/self/fd/7
# The host's mount(8)/umount(8) for the simulator, at <node>/bin/host-{mount,umount} (inside this node only).
"$MOUNT" --bind ${q(t.mount)} ${q(hostTools(spec.dir)[0])}
"$MOUNT" --bind ${q(t.umount)} ${q(hostTools(spec.dir)[1])}
# Read-only overlays where a mount point or a command is missing on the host, then the node's own files.
${mounts.map((m) => mountLine(m, spec.name)).join('\n')}
exec 7<&-
${q(t.sshd)} -D -f ${q(sshd.config)} -E ${q(sshd.log)} &
echo "node ${spec.name} up: sshd, ssh.sock and 127.0.0.1:6443 started"
wait
`;
}

/** Starts the node's namespaces and init.sh. Resolves with the record once its sshd answers on ssh.sock. */
export async function startMachine(
  spec: MachineSpec,
  marker: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<MachineRecord> {
  const paths = machinePaths(spec.dir);
  const proc = startProcess(
    `twin/${spec.name}`,
    spec.tools.unshare,
    [
      '--pid',
      '--mount-proc',
      '--net',
      '--mount',
      '--uts',
      '--propagation',
      'private',
      '--fork',
      '--kill-child=SIGKILL',
      spec.tools.bash,
      paths.init,
    ],
    paths.log,
    marker,
  );
  const rec: MachineRecord = {
    name: proc.name,
    pid: proc.pid,
    log: proc.log,
    marker: proc.marker,
    node: spec.name,
    initPid: 0,
    sshSocket: paths.sshSocket,
  };
  try {
    await waitSshBanner(proc, spec, timeoutMs, signal);
  } catch (err) {
    (err as MachineFailed).record = rec;
    throw err;
  }
  rec.initPid = childPid(proc.pid) ?? 0;
  return rec;
}

export class MachineFailed extends Error {
  record?: MachineRecord;
}

async function waitSshBanner(proc: Started, spec: MachineSpec, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const paths = machinePaths(spec.dir);
  const sshd = nodeSshdFiles(spec.dir);
  const deadline = Date.now() + timeoutMs;
  let last = 'no ssh.sock yet';
  for (;;) {
    signal?.throwIfAborted();
    const exited = proc.exitedWith();
    if (exited) {
      throw new MachineFailed(
        `twin node ${spec.name} stopped while starting (${exited})\n  log: ${paths.log}\n${indent(tail(paths.log, 15))}` +
          (existsSync(sshd.log) ? `\n  sshd log: ${sshd.log}\n${indent(tail(sshd.log, 10))}` : ''),
      );
    }
    if (existsSync(paths.sshSocket)) {
      const banner = await readBanner(paths.sshSocket, 1000);
      if (banner.startsWith('SSH-2.0-')) return;
      last = banner || 'no banner';
    }
    if (Date.now() > deadline) {
      throw new MachineFailed(
        `twin node ${spec.name}: sshd did not answer on ${paths.sshSocket} within ${timeoutMs / 1000}s (${last})\n  log: ${paths.log}` +
          (existsSync(sshd.log) ? `\n  sshd log: ${sshd.log}\n${indent(tail(sshd.log, 10))}` : ''),
      );
    }
    await sleep(25);
  }
}

/** The first line a server sends on a unix socket ('' when none came in time). */
export function readBanner(socket: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const c = createConnection({ path: socket });
    let buf = '';
    const done = (v: string) => {
      clearTimeout(timer);
      c.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(buf.trim()), timeoutMs);
    c.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\n')) done(buf.split('\n')[0]!.trim());
    });
    c.once('error', (e) => done(`error: ${e.message}`));
    c.once('end', () => done(buf.trim()));
  });
}

/** unshare --fork has exactly one child: the node's pid 1. */
export function childPid(pid: number): number | undefined {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Host pids of every process inside the node (its pid namespace), pid 1 included. */
export function nodePids(initPid: number): number[] {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${initPid}/ns/pid`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/pid`) === ns) out.push(Number(e));
    } catch {
      /* ended meanwhile */
    }
  }
  return out;
}

/** The process name (comm) of a pid, '' when it is gone. */
export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The command prefix that runs something inside a running node (for faults: stop or restart its sshd). */
export function enterNode(rec: Pick<MachineRecord, 'initPid' | 'node'>): string[] {
  if (!rec.initPid) throw new Error(`twin node ${rec.node} has no recorded pid 1`);
  return ['nsenter', `--target=${rec.initPid}`, '--pid', '--net', '--mount', '--uts', '--'];
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
