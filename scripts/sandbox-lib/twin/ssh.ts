// The twin's OpenSSH side: one client key for the runner, one host key and
// sshd_config per node, and the ssh_config + known_hosts that `scripts/sandbox
// env` hands the runner (RUNBOOK_SSH_CONFIG). Nothing here touches ~/.ssh or
// /etc/ssh: every file lives under <state>/twin.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface TwinSshFiles {
  dir: string;
  /** The runner's client key (private; `.pub` beside it). */
  identity: string;
  knownHosts: string;
  config: string;
}

export function sshFiles(twinDir: string): TwinSshFiles {
  const dir = join(twinDir, 'ssh');
  return {
    dir,
    identity: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    config: join(dir, 'ssh_config'),
  };
}

/** `ssh-keygen -t ed25519` without a passphrase; resolves with the public key (`ssh-ed25519 AAAA…`). */
export function keygen(file: string, comment: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.once('error', (e) =>
      reject(new Error(`ssh-keygen cannot start (${e.message}): install openssh-client (scripts/install-system-deps)`)),
    );
    p.once('close', (code) => {
      if (code !== 0) return reject(new Error(`ssh-keygen for ${file} failed: ${err.trim() || `exit ${code}`}`));
      resolve(readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '));
    });
  });
}

export interface NodeSshd {
  dir: string;
  hostKey: string;
  config: string;
  authorizedKeys: string;
  pidFile: string;
  log: string;
}

export function nodeSshdFiles(nodeDir: string): NodeSshd {
  const dir = join(nodeDir, 'sshd');
  return {
    dir,
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    config: join(dir, 'sshd_config'),
    authorizedKeys: join(dir, 'authorized_keys'),
    pidFile: join(dir, 'sshd.pid'),
    log: join(dir, 'sshd.log'),
  };
}

/** Where one sshd listens and keeps its files; `comment` heads the file (who wrote it, why). */
export interface SshdConfigSpec {
  comment: string;
  port: number;
  hostKey: string;
  pidFile: string;
  authorizedKeys: string;
}

/**
 * The one sshd_config of every sshd this project starts (the twin's nodes, the ssh test
 * lab): loopback only, the given client keys only, no PAM, no forwarding of any kind (the
 * runner clears forwardings), room for many multiplexed sessions, and a VERBOSE log (the
 * tests count authentications in it).
 */
export function renderSshdConfig(o: SshdConfigSpec): string {
  const comment = o.comment
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n');
  return `${comment}
Port ${o.port}
ListenAddress 127.0.0.1
HostKey ${o.hostKey}
PidFile ${o.pidFile}
AuthorizedKeysFile ${o.authorizedKeys}
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
`;
}

/**
 * The node's sshd: port 22 on the loopback of the node's own network
 * namespace (only reachable through the node's ssh.sock forwarder).
 */
export function sshdConfigText(node: string, f: NodeSshd): string {
  return renderSshdConfig({
    comment:
      `sshd of lab twin node ${node} (scripts/sandbox-lib/twin/ssh.ts). Runs inside the node's\n` +
      `network namespace, so 127.0.0.1:22 here is the node's own loopback, not the host's.`,
    port: 22,
    hostKey: f.hostKey,
    pidFile: f.pidFile,
    authorizedKeys: f.authorizedKeys,
  });
}

export interface SshHost {
  node: string;
  /** The loopback stand-in address the sandbox inventory gives the node (127.0.1.x). */
  address: string;
  user: string;
  socket: string;
  hostKey: string;
}

/**
 * The runner's ssh config for the twin. A block matches both the node name
 * (what the runner passes to ssh) and its stand-in address; the runner
 * includes this file before its own per-node lines and ssh keeps the first
 * value it reads, so the twin's user, proxy and keys win over the inventory's.
 * No TCP connection is made: ProxyCommand talks to the node's unix socket.
 */
export function sshConfigText(files: TwinSshFiles, hosts: SshHost[], socat: string): string {
  const blocks = hosts.map(
    (h) => `Host ${h.node} ${h.address}
  HostName ${h.address}
  Port 22
  User ${h.user}
  HostKeyAlias ${h.node}
  ProxyCommand ${socat} - UNIX-CONNECT:${h.socket}
`,
  );
  return `# The lab twin's ssh config (written by scripts/sandbox; removed by scripts/sandbox down).
# RUNBOOK_SSH_CONFIG points the runner here; ssh -F ${files.config} <node> works by hand too.
${blocks.join('')}Host *
  IdentityFile ${files.identity}
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile ${files.knownHosts}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
`;
}

export function knownHostsText(hosts: SshHost[]): string {
  return hosts.map((h) => `${h.node} ${h.hostKey}\n`).join('');
}

export function writeSshClientFiles(files: TwinSshFiles, hosts: SshHost[], socat: string): void {
  writeFileSync(files.knownHosts, knownHostsText(hosts), { mode: 0o600 });
  writeFileSync(files.config, sshConfigText(files, hosts, socat), { mode: 0o600 });
}
