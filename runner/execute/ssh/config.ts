import { userInfo } from 'node:os';
import { join } from 'node:path';

/** A node as the ssh executor needs it (the `node` variant of plan Target). */
export interface NodeTarget {
  kind: 'node';
  node: string;
  host: string;
  user?: string;
  port: number;
  become: boolean;
}

export interface SshSettings {
  /**
   * An ssh config read instead of ~/.ssh/config and /etc/ssh/ssh_config (as `ssh -F` would).
   * Tests point it at their own config; operators normally leave it unset.
   * Defaults to the RUNBOOK_SSH_CONFIG environment variable.
   */
  configFile?: string;
  connectTimeoutS?: number;
  /** Keepalive probes every N seconds; three missed ones end a dead connection. */
  serverAliveIntervalS?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_S = 10;
export const DEFAULT_SERVER_ALIVE_S = 15;
/** A master left behind by a killed runner exits after this much idle time. */
export const CONTROL_PERSIST = '10m';

export function userConfigFiles(settings: SshSettings): string[] {
  const explicit = settings.configFile ?? process.env.RUNBOOK_SSH_CONFIG;
  if (explicit) return [explicit];
  return [join(userInfo().homedir, '.ssh', 'config'), '/etc/ssh/ssh_config'];
}

/**
 * The ssh config the runner passes with -F for one node. The operator's config
 * comes first and ssh keeps the first value it reads, so a `Host` block in
 * ~/.ssh/config that matches the node name (HostName through Tailscale, another
 * User, ProxyJump) overrides the inventory, exactly as it would for `ssh k3s-master`.
 * The inventory's address, user and port follow as defaults.
 */
export function nodeConfigText(target: NodeTarget, settings: SshSettings): string {
  const files = userConfigFiles(settings);
  const [userConfig, ...rest] = files;
  const lines = [
    '# Written by `runbook run` for one run and removed when it ends.',
    `Include ${configValue(userConfig!, 'config file')}`,
    `Host ${target.node}`,
    `  HostName ${configValue(target.host, `address of ${target.node}`)}`,
    `  Port ${target.port}`,
  ];
  if (target.user) lines.push(`  User ${configValue(target.user, `ssh user of ${target.node}`)}`);
  if (rest.length) lines.push('Host *', ...rest.map((f) => `  Include ${configValue(f, 'config file')}`));
  return `${lines.join('\n')}\n`;
}

/** Values go into a config file: refuse anything that could end the line or the token. */
function configValue(value: string, what: string): string {
  if (!value || /[\s"'\\#]/.test(value))
    throw new Error(`${what} "${value}" cannot be used with ssh: it contains spaces, quotes or '#'`);
  return value;
}

/**
 * Options the runner enforces whatever the operator's config says (command-line
 * options win over config files): never prompt, never accept an unknown or
 * changed host key, notice dead connections, no forwardings or RemoteCommand
 * that would clash with running a command.
 */
export function enforcedOptions(settings: SshSettings, controlPath: string | undefined): string[] {
  const o = (kv: string) => ['-o', kv];
  return [
    '-T',
    ...o('BatchMode=yes'),
    ...o('StrictHostKeyChecking=yes'),
    ...o(`ConnectTimeout=${settings.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S}`),
    ...o(`ServerAliveInterval=${settings.serverAliveIntervalS ?? DEFAULT_SERVER_ALIVE_S}`),
    ...o('ServerAliveCountMax=3'),
    ...o('ClearAllForwardings=yes'),
    ...o('RemoteCommand=none'),
    ...(controlPath
      ? [...o('ControlMaster=auto'), ...o(`ControlPath=${controlPath}`), ...o(`ControlPersist=${CONTROL_PERSIST}`)]
      : [...o('ControlMaster=no'), ...o('ControlPath=none')]),
  ];
}

/** What ssh runs on the node; the step arrives on stdin, so nothing secret is on this line. */
export function remoteCommand(target: NodeTarget): string[] {
  return target.become ? ['sudo', '-n', 'bash', '-s'] : ['bash', '-s'];
}
