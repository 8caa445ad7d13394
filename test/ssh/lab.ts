import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderSshdConfig, SSHD } from '../../scripts/sandbox-lib/twin/ssh.ts';

/**
 * Real sshd daemons standing in for the lab's nodes: one Debian openssh-server
 * per node on a free 127.0.0.1 port, host and user keys generated in a temp dir,
 * running as the current user. Used by the ssh test suite and scripts/bench-ssh.
 * Only loopback is ever contacted.
 */

// The sshd binary and its config are the twin's (scripts/sandbox-lib/twin/ssh.ts): the tests run the same daemon.
export { SSHD };

export interface LabNode {
  name: string;
  roles: string[];
  become: boolean;
  port: number;
  /** The daemon's log (LogLevel VERBOSE): one "Accepted publickey" line per authentication. */
  log: string;
  pid: number;
  /** `ssh-ed25519 AAAA…` of the node's host key. */
  hostKey: string;
}

/** Everything a test needs, plain data so vitest can `provide` it to workers. */
export interface SshLab {
  dir: string;
  user: string;
  /** An ssh config for the runner (RUNBOOK_SSH_CONFIG): the test identity, the test known_hosts, no agent. */
  configFile: string;
  knownHosts: string;
  identity: string;
  inventoryFile: string;
  nodes: LabNode[];
}

export interface LabNodeSpec {
  name: string;
  roles: string[];
  become: boolean;
}

export const LAB_NODES: LabNodeSpec[] = [
  { name: 'k3s-master', roles: ['server'], become: true },
  { name: 'k3s-worker-01', roles: ['agent'], become: false },
  { name: 'k3s-worker-02', roles: ['agent'], become: false },
];

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function keygen(file: string, comment: string): string {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr || r.error?.message}`);
  return readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
}

function sshdConfig(dir: string, name: string, port: number): string {
  return renderSshdConfig({
    comment: `sshd for test node ${name}`,
    port,
    hostKey: `${dir}/${name}.host_key`,
    pidFile: `${dir}/${name}.pid`,
    authorizedKeys: `${dir}/authorized_keys`,
  });
}

/** The line a test known_hosts holds for a node. */
export const knownHostsLine = (port: number, hostKey: string) => `[127.0.0.1]:${port} ${hostKey}`;

/** An ssh config like the lab's but with another known_hosts file (for host key tests). */
export function writeSshConfig(file: string, identity: string, knownHosts: string): string {
  writeFileSync(
    file,
    `Host *
  IdentityFile ${identity}
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile ${knownHosts}
  GlobalKnownHostsFile /dev/null
`,
  );
  return file;
}

async function waitForListening(log: string, pid: number, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (text.includes('Server listening on 127.0.0.1')) return;
    if (!alive(pid)) throw new Error(`sshd for ${name} exited:\n${text}`);
    await sleep(50);
  }
  throw new Error(`sshd for ${name} did not start listening within 10 s:\n${readFileSync(log, 'utf8')}`);
}

/** Running (a zombie waiting to be reaped has finished). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Starts one daemon per node (the lab's three by default). */
export async function startSshLab(specs: LabNodeSpec[] = LAB_NODES): Promise<SshLab> {
  if (!existsSync(SSHD))
    throw new Error(`${SSHD} is missing: run scripts/install-system-deps (apt-get install openssh-server)`);
  try {
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation dir
  } catch {
    // Not root: sshd then runs unprivileged and does not need it.
  }
  const dir = mkdtempSync(join(tmpdir(), 'runbook-sshd-'));
  const user = userInfo().username;
  const identity = join(dir, 'id_ed25519');
  writeFileSync(join(dir, 'authorized_keys'), `${keygen(identity, 'runbook-test')}\n`);

  const nodes: LabNode[] = [];
  try {
    for (const spec of specs) {
      const hostKey = keygen(join(dir, `${spec.name}.host_key`), spec.name);
      const port = await freePort();
      const config = join(dir, `${spec.name}.sshd_config`);
      const log = join(dir, `${spec.name}.log`);
      writeFileSync(config, sshdConfig(dir, spec.name, port));
      const daemon = spawn(SSHD, ['-f', config, '-D', '-E', log], { stdio: 'ignore', detached: true });
      daemon.unref();
      nodes.push({ ...spec, port, log, pid: daemon.pid!, hostKey });
      await waitForListening(log, daemon.pid!, spec.name);
    }
  } catch (err) {
    await stopSshLab({ dir, nodes });
    throw err;
  }

  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, nodes.map((n) => `${knownHostsLine(n.port, n.hostKey)}\n`).join(''));
  const configFile = writeSshConfig(join(dir, 'ssh_config'), identity, knownHosts);
  const inventoryFile = join(dir, 'inventory.yaml');
  writeFileSync(inventoryFile, inventoryYaml(user, nodes));
  return { dir, user, configFile, knownHosts, identity, inventoryFile, nodes };
}

/** Lab-shaped inventory: the lab's node names, loopback addresses, the test ports. */
function inventoryYaml(user: string, nodes: LabNode[]): string {
  return `# Written by test/ssh/lab.ts: sshd daemons on 127.0.0.1 standing in for the lab's nodes.
cluster:
  name: homelab
  context: homelab
  server: https://127.0.0.1:6443
  k3sVersion: v1.34.3+k3s1
ssh:
  user: ${user}
nodes:
${nodes.map((n) => `  - name: ${n.name}\n    roles: [${n.roles.join(', ')}]\n    address: 127.0.0.1\n    ssh: { port: ${n.port}, become: ${n.become} }\n`).join('')}`;
}

/** Stops the daemons and the sessions they forked, waits for them to exit (they log as they go), removes the dir. */
export async function stopSshLab(lab: Pick<SshLab, 'dir' | 'nodes'>): Promise<void> {
  const pids = lab.nodes.flatMap((node) => [...childrenOf(node.pid), node.pid]);
  for (const pid of pids) signal(pid, 'SIGTERM');
  for (let i = 0; i < 60 && pids.some(alive); i++) await sleep(50);
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
  rmSync(lab.dir, { recursive: true, force: true, maxRetries: 5 });
}

function signal(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Pids whose parent is `pid` (sshd's per-connection processes). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Authentications a node's sshd has logged so far. */
export function authCount(node: Pick<LabNode, 'log'>): number {
  return (readFileSync(node.log, 'utf8').match(/^Accepted publickey for /gm) ?? []).length;
}
