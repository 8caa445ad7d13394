import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { remoteCommand, userConfigFiles, type NodeTarget, type SshSettings } from './config.ts';

/** The known_hosts file ssh checks for a node under the run's config (`ssh -G`, which connects nowhere), for advice in errors. */
export function knownHostsFile(configFile: string, node: string, ssh = 'ssh'): string | undefined {
  const out = spawnSync(ssh, ['-G', '-T', '-F', configFile, node], { encoding: 'utf8', timeout: 5000 });
  const line = out.status === 0 ? out.stdout.split('\n').find((l) => l.startsWith('userknownhostsfile ')) : undefined;
  return line?.split(' ')[1];
}

/** ssh's Host patterns: `*` and `?` wildcards, `!` negates; the whole line matches when a positive pattern does and no negated one. */
export function hostLineMatches(patterns: string[], name: string): boolean {
  const glob = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '.*')
        .replaceAll('?', '.')}$`,
    );
  if (patterns.some((p) => p.startsWith('!') && glob(p.slice(1)).test(name))) return false;
  return patterns.some((p) => !p.startsWith('!') && glob(p).test(name));
}

/**
 * `Host` lines of the operator's ssh config (top-level files, not their
 * Includes) that name the node more specifically than `Host *`: these blocks
 * come first and may override the inventory's address, user or port.
 */
export function configHostLines(node: string, settings: SshSettings = {}): string[] {
  const found: string[] = [];
  for (const file of userConfigFiles(settings)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      const m = /^\s*Host\s*[=\s]\s*(.+?)\s*$/i.exec(raw);
      if (!m) continue;
      const patterns = m[1]!.split(/\s+/).map((p) => p.replace(/^"|"$/g, ''));
      if (patterns.join(' ') !== '*' && hostLineMatches(patterns, node)) found.push(`Host ${patterns.join(' ')}`);
    }
  }
  return found;
}

/**
 * The ssh target of a node step for `runbook show` and `run --dry-run`, worked
 * out without running anything: `ssh k3s-master → tom@192.168.2.20:22 · sudo -n bash -s`,
 * plus the operator's `Host` blocks that apply to the node and may override it.
 */
export function describeSshTarget(target: NodeTarget, settings: SshSettings = {}): string {
  const where = `${target.user ? `${target.user}@` : ''}${target.host}:${target.port}`;
  const hosts = configHostLines(target.node, settings);
  const note = hosts.length ? ` (your ssh config applies first: ${hosts.join('; ')})` : '';
  return `ssh ${target.node} → ${where}${note} · ${remoteCommand(target).join(' ')}`;
}
