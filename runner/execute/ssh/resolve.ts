import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeConfigText, remoteCommand, type NodeTarget, type SshSettings } from './config.ts';

/** Where ssh will really connect for a node once the operator's config is applied (`ssh -G`, which connects nowhere). */
export interface ResolvedSsh {
  hostname: string;
  user: string;
  port: number;
  proxyJump?: string;
  knownHosts?: string;
}

/** Reads `ssh -G` for the node under the given config file; undefined when ssh is missing or refuses the config. */
export function resolveWithConfig(configFile: string, node: string, ssh = 'ssh'): ResolvedSsh | undefined {
  const out = spawnSync(ssh, ['-G', '-T', '-F', configFile, node], { encoding: 'utf8', timeout: 5000 });
  if (out.status !== 0 || !out.stdout) return undefined;
  const values = new Map<string, string>();
  for (const line of out.stdout.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && !values.has(line.slice(0, sp))) values.set(line.slice(0, sp), line.slice(sp + 1));
  }
  const proxyJump = values.get('proxyjump');
  return {
    hostname: values.get('hostname') ?? node,
    user: values.get('user') ?? '',
    port: Number(values.get('port') ?? 22),
    ...(proxyJump && proxyJump !== 'none' ? { proxyJump } : {}),
    ...(values.get('userknownhostsfile') ? { knownHosts: values.get('userknownhostsfile')!.split(' ')[0]! } : {}),
  };
}

/** `ssh -G` for a target without a run: writes the node's config to a scratch dir, reads, removes it. */
export function resolveTarget(target: NodeTarget, settings: SshSettings = {}): ResolvedSsh | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-ssh-'));
  try {
    const file = join(dir, `${target.node}.config`);
    writeFileSync(file, nodeConfigText(target, settings), { mode: 0o600 });
    return resolveWithConfig(file, target.node);
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `user@host:port`, the form records keep as a target's address. */
export function sshAddress(r: Pick<ResolvedSsh, 'user' | 'hostname' | 'port'>): string {
  return `${r.user ? `${r.user}@` : ''}${r.hostname}:${r.port}`;
}

/**
 * The exact ssh target of a node step for `runbook show` and `run --dry-run`:
 * `ssh k3s-master → tom@192.168.2.20:22 · sudo -n bash -s`, with the operator's
 * ssh config applied, and a note when it overrides the inventory.
 */
export function describeSshTarget(target: NodeTarget, settings: SshSettings = {}): string {
  const inventory = { user: target.user ?? '', hostname: target.host, port: target.port };
  const r = resolveTarget(target, settings);
  const where = r ? sshAddress(r) : `${sshAddress(inventory)} (ssh -G failed: is OpenSSH installed?)`;
  const notes: string[] = [];
  if (r?.proxyJump) notes.push(`via ${r.proxyJump}`);
  const overridden = r && (r.hostname !== target.host || r.port !== target.port || (target.user !== undefined && r.user !== target.user));
  if (overridden) notes.push(`ssh config overrides inventory ${sshAddress(inventory)}`);
  return `ssh ${target.node} → ${where}${notes.length ? ` (${notes.join(', ')})` : ''} · ${remoteCommand(target).join(' ')}`;
}
