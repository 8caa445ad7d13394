/**
 * Turns what ssh (and sudo) print on stderr when they fail before the step
 * starts into one line that names the node, the address and what to do.
 */

export interface FailureContext {
  node: string;
  /** The known_hosts file ssh checks (from `ssh -G`), for the advice; ~/.ssh/known_hosts otherwise. */
  knownHosts?: string;
  become: boolean;
  user?: string;
}

/** `[127.0.0.1]:2222` → host and port, `192.168.2.20` → port 22, as known_hosts writes them. */
function hostSpec(spec: string): { host: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(spec);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: spec, port: 22 };
}

const keyscan = (host: string, port: number, file: string) =>
  `ssh-keyscan ${port !== 22 ? `-p ${port} ` : ''}${host} >> ${file}`;

/** Explains an exit 255 from ssh before the step started; undefined when the message is not one it knows. */
export function explainSshFailure(stderr: string, ctx: FailureContext): string | undefined {
  const knownHosts = ctx.knownHosts ?? '~/.ssh/known_hosts';
  let m: RegExpExecArray | null;

  if (
    (m = /Host key for (\S+) has changed and you have requested strict checking/.exec(stderr)) ||
    /REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)
  ) {
    const spec = m?.[1] ?? /Offending \S+ key for (\S+)/.exec(stderr)?.[1] ?? ctx.node;
    const offending = /Offending \S+ key in (\S+):(\d+)/.exec(stderr);
    const file = offending?.[1] ?? knownHosts;
    const fingerprint = /(SHA256:[A-Za-z0-9+/=]+)/.exec(stderr)?.[1];
    return (
      `${ctx.node}: host key for ${spec} CHANGED${offending ? ` (known_hosts entry ${offending[1]}:${offending[2]})` : ''}; refusing to connect. ` +
      `If the node was reinstalled, check on its console that its key is ${fingerprint ?? 'the one offered'} ` +
      `(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run ssh-keygen -R '${spec}' -f ${file} and ` +
      `${keyscan(hostSpec(spec).host, hostSpec(spec).port, file)}. Otherwise someone may be intercepting the connection.`
    );
  }
  if ((m = /No \S+ host key is known for (\S+) and you have requested strict checking/.exec(stderr))) {
    const { host, port } = hostSpec(m[1]!);
    return `${ctx.node}: host key for ${m[1]} is unknown: run ${keyscan(host, port, knownHosts)} after verifying the fingerprint (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the node)`;
  }
  if (/Host key verification failed/.test(stderr)) {
    return `${ctx.node}: host key verification failed; check the node's entry in ${knownHosts}`;
  }
  if ((m = /ssh: connect to host (\S+) port (\d+): (.+)/.exec(stderr))) {
    const reason = m[3]!.trim().replace(/\.$/, '');
    const hint: Record<string, string> = {
      'Connection refused': 'is sshd running on the node and listening on that port?',
      'Connection timed out': 'is the node up and reachable from here (VPN/Tailscale)?',
      'No route to host': 'is the node up and on this network?',
    };
    return `${ctx.node} (${m[1]}:${m[2]}): ${reason.toLowerCase()}${hint[reason] ? `; ${hint[reason]}` : ''}`;
  }
  if ((m = /ssh: Could not resolve hostname (\S+): (.+)/.exec(stderr))) {
    return `${ctx.node}: cannot resolve hostname ${m[1]!.replace(/:$/, '')} (${m[2]!.trim()}); check the node's address in the inventory or its HostName in your ssh config`;
  }
  if ((m = /(\S+)@(\S+): Permission denied \(([^)]*)\)/.exec(stderr))) {
    return `${ctx.node} (${m[1]}@${m[2]}): authentication failed (${m[3]}); is your key loaded (ssh-add -l) and in ${m[1]}'s authorized_keys on the node? The runner never prompts for passwords`;
  }
  if ((m = /(kex_exchange_identification: .+|Connection (?:closed|reset) by \S+ port \d+)/.exec(stderr))) {
    return `${ctx.node}: the node closed the connection during the handshake (${m[1]!.trim()}); sshd may be refusing connections (MaxStartups, firewall)`;
  }
  if ((m = /^ssh: (.+)$/m.exec(stderr))) return `${ctx.node}: ssh failed: ${m[1]!.trim()}`;
  return undefined;
}

/** `sudo -n` cannot ask for a password: say so instead of reporting exit code 1. */
export function explainSudoFailure(stderr: string, ctx: FailureContext): string | undefined {
  if (!ctx.become) return undefined;
  if (/^sudo: (a password is required|a terminal is required)/m.test(stderr)) {
    return `${ctx.node}: sudo needs a password for ${ctx.user ?? 'the ssh user'}; the inventory says become: true, so allow it passwordless sudo (NOPASSWD) or set become: false`;
  }
  if (/sudo: (command )?not found/.test(stderr)) {
    return `${ctx.node}: sudo is not installed; the inventory says become: true`;
  }
  return undefined;
}
