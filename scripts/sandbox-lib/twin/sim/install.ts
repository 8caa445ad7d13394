// The twin's curl and what it serves: the stand-in for the K3s install script
// (https://get.k3s.io), the release checksum file and the "binary" of a release.
//
// The install script stand-in does, to this node, what the real script does
// (docs.k3s.io/installation/configuration, "Configuration with install script", and the
// script's own header): the command comes from INSTALL_K3S_EXEC plus the arguments
// (flags only → server, or agent when K3S_URL is set, which then needs K3S_TOKEN); the
// unit is named k3s / k3s-<command>; the hash of the release is fetched first and the
// binary only when it differs; kubectl/crictl/ctr symlinks, k3s-killall.sh and the
// uninstall script are written; the unit and its env file are removed and rewritten —
// the env file from the K3S_*/CONTAINERD_* (and proxy) variables it is given, the unit's
// ExecStart from the command and flags — then the unit is enabled and restarted unless
// INSTALL_K3S_SKIP_ENABLE / INSTALL_K3S_SKIP_START, or nothing changed.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Node, type ServiceName, SimError, refuse } from './node.ts';
import { startUnit } from './service.ts';

const releaseBase = 'https://github.com/k3s-io/k3s/releases/download/';
const versionRe = /^v1\.\d+\.\d+\+k3s\d+$/;

export function launcherPath(nodeDir: string): string {
  return join(nodeDir, 'bin', 'twin-sim');
}

/** The "k3s binary" of a release on this node: a script that hands every call to the simulator. */
export function binaryFor(node: Node | { dir: string }, version: string): string {
  return [
    '#!/bin/sh',
    `# K3s ${version} on the lab twin: a simulation, not the real k3s binary.`,
    `# k3s-twin-version: ${version}`,
    `exec '${launcherPath(node.dir)}' "\${0##*/}" "$@"`,
    '',
  ].join('\n');
}

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

export function checksumFile(node: Node, version: string): string {
  const bin = binaryFor(node, version);
  return [
    `${sha256(bin)}  k3s`,
    `${sha256(`${version} airgap amd64 (lab twin simulation)`)}  k3s-airgap-images-amd64.tar.zst`,
    '',
  ].join('\n');
}

export function installScript(node: Node): string {
  return [
    '#!/bin/sh',
    '# get.k3s.io as the lab twin serves it: a stand-in for the K3s install script (simulation).',
    '# It takes what the real script takes (INSTALL_K3S_* and K3S_* variables, the command and its',
    '# flags as arguments) and does to this node what the real script does; see',
    '# scripts/sandbox-lib/twin/sim/install.ts in k3s-lab-runbooks.',
    'set -e',
    `exec '${launcherPath(node.dir)}' k3s-install "$@"`,
    '',
  ].join('\n');
}

type Served = { status: number; body: string } | { refused: string };

function serve(node: Node, rawUrl: string): Served {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { refused: `curl: (3) URL rejected: Malformed input to a URL function: ${rawUrl}` };
  }
  if (url.hostname === 'get.k3s.io' && (url.pathname === '/' || url.pathname === ''))
    return { status: 200, body: installScript(node) };
  const href = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol === 'https:' && href.startsWith(releaseBase)) {
    const [rawVersion = '', file, extra] = decodeURIComponent(href.slice(releaseBase.length)).split('/');
    if (!versionRe.test(rawVersion ?? '') || extra !== undefined) return { status: 404, body: 'Not Found' };
    if (file === 'sha256sum-amd64.txt') return { status: 200, body: checksumFile(node, rawVersion) };
    if (file === 'k3s') return { status: 200, body: binaryFor(node, rawVersion) };
    return { status: 404, body: 'Not Found' };
  }
  return {
    refused: `curl: (7) lab twin: ${rawUrl} is outside the twin (simulation). A twin node's curl serves only https://get.k3s.io and ${releaseBase}<version>/{sha256sum-amd64.txt,k3s}; no step on a twin node reaches a network.`,
  };
}

/** curl with the options the runbooks use: -s -S -f -L -o FILE -w FORMAT, and one URL. */
export function curl(node: Node, args: string[], out: (s: string) => void): number {
  let silent = false;
  let showError = false;
  let fail = false;
  let output: string | undefined;
  let writeOut: string | undefined;
  const urls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-o' || a === '--output') output = args[++i] ?? '';
    else if (a === '-w' || a === '--write-out') writeOut = args[++i] ?? '';
    else if (a === '--silent') silent = true;
    else if (a === '--show-error') showError = true;
    else if (a === '--fail') fail = true;
    else if (
      a === '-H' ||
      a === '--header' ||
      a === '-X' ||
      a === '--request' ||
      a === '--max-time' ||
      a === '-m' ||
      a === '--connect-timeout' ||
      a === '--retry'
    )
      i++;
    else if (/^-[a-zA-Z]+$/.test(a)) {
      for (const c of a.slice(1)) {
        if (c === 's') silent = true;
        else if (c === 'S') showError = true;
        else if (c === 'f') fail = true;
        else if (c === 'o') output = args[++i] ?? '';
        else if (c === 'w') writeOut = args[++i] ?? '';
      }
    } else if (!a.startsWith('-')) urls.push(a);
  }
  if (urls.length === 0) {
    process.stderr.write("curl: no URL specified!\ncurl: try 'curl --help' for more information\n");
    return 2;
  }
  void silent;
  void showError; // the twin always says why it refused: a silent refusal would hide that it is a twin
  let code = 0;
  for (const u of urls) {
    const r = serve(node, u);
    if ('refused' in r) {
      process.stderr.write(`${r.refused}\n`);
      code = 7;
      continue;
    }
    if (r.status >= 400 && fail) {
      if (!silent || showError) process.stderr.write(`curl: (22) The requested URL returned error: ${r.status}\n`);
      code = 22;
    } else if (output && output !== '-') writeFileSync(output, r.body);
    else out(r.body);
    if (writeOut)
      out(
        writeOut
          .replace(/%\{http_code\}/g, String(r.status))
          .replace(/%\{url_effective\}/g, u)
          .replace(/\\n/g, '\n'),
      );
  }
  return code;
}

function info(s: string): void {
  process.stdout.write(`[INFO]  ${s}\n`);
}
function fatal(s: string): never {
  throw new SimError(`[ERROR]  ${s}`, 1);
}

function fileHash(path: string): string {
  try {
    return sha256(readFileSync(path));
  } catch {
    return '-';
  }
}

/** The systemd unit the real script writes (the same fields and order), with ExecStart from the command. */
export function unitText(command: string, flags: string[], type = 'notify'): string {
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const exec = `${command} \\\n${flags.map((f) => `\t${quote(f)} \\\n`).join('')}`;
  return `[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=${type}
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/${command === 'server' ? 'k3s' : `k3s-${command}`}.service.env
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s \\
    ${exec}
`;
}

/** The env file: K3S_*, CONTAINERD_* then the proxy variables, as `export` prints them (sorted, single-quoted). */
export function envFileText(env: NodeJS.ProcessEnv): string {
  const q = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
  const names = Object.keys(env).sort();
  const k3s = names.filter((n) => /^(K3S|CONTAINERD)_/.test(n)).map((n) => `${n}=${q(env[n] ?? '')}`);
  const proxy = names.filter((n) => /^(NO|HTTP|HTTPS)_PROXY/i.test(n)).map((n) => `${n}=${q(env[n] ?? '')}`);
  return [...k3s, ...proxy].map((l) => `${l}\n`).join('');
}

export function killallScript(node: Node | { dir: string }): string {
  return `#!/bin/sh
# k3s-killall.sh on the lab twin (simulation): stops the K3s units; there are no containers,
# mounts or CNI interfaces to clean up.
[ $(id -u) -eq 0 ] || exec sudo $0 $@
exec '${launcherPath(node.dir)}' k3s-killall "$@"
`;
}

export function uninstallScript(node: Node | { dir: string }, systemName: string): string {
  return `#!/bin/sh
# ${systemName}-uninstall.sh on the lab twin (simulation).
[ $(id -u) -eq 0 ] || exec sudo $0 $@
exec '${launcherPath(node.dir)}' k3s-uninstall ${systemName} "$@"
`;
}

export async function k3sInstall(node: Node, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const words = [...(env.INSTALL_K3S_EXEC ?? '').split(/\s+/).filter(Boolean), ...args];
  let command: string;
  if (words.length === 0 || (words[0] ?? '').startsWith('-')) {
    if (!env.K3S_URL) command = 'server';
    else {
      if (!env.K3S_TOKEN && !env.K3S_TOKEN_FILE)
        fatal(
          "Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined.",
        );
      command = 'agent';
    }
  } else command = words.shift() as string;
  if (env.K3S_URL && !env.K3S_URL.startsWith('https://'))
    fatal(`Only https:// URLs are supported for K3S_URL (have ${env.K3S_URL})`);
  const systemName = env.INSTALL_K3S_NAME
    ? `k3s-${env.INSTALL_K3S_NAME}`
    : command === 'server'
      ? 'k3s'
      : `k3s-${command}`;
  if (systemName !== 'k3s' && systemName !== 'k3s-agent')
    refuse('k3s-install', `the twin simulates the units k3s and k3s-agent, not ${systemName}`);
  const want = node.isServer ? 'server' : 'agent';
  if (command !== want)
    refuse(
      'k3s-install',
      `${node.name} is ${node.isServer ? 'a server' : 'an agent'} in the inventory; installing '${command}' on it would turn it into another kind of node (use INSTALL_K3S_EXEC=${want})`,
    );
  for (const v of ['INSTALL_K3S_COMMIT', 'INSTALL_K3S_PR', 'INSTALL_K3S_BIN_DIR', 'INSTALL_K3S_SYSTEMD_DIR']) {
    if (env[v]) refuse('k3s-install', `${v} is not simulated`);
  }
  const unit = systemName as ServiceName;
  const bin = node.root('/usr/local/bin/k3s');
  const unitPath = node.root(`/etc/systemd/system/${unit}.service`);
  const envPath = `${unitPath}.env`;
  const hashes = () => [bin, unitPath, envPath].map(fileHash).join(' ');
  const before = hashes();

  if (env.INSTALL_K3S_SKIP_DOWNLOAD === 'true' || env.INSTALL_K3S_SKIP_DOWNLOAD === 'binary') {
    info('Skipping k3s download and verify');
    if (!existsSync(bin)) fatal('Executable k3s binary not found at /usr/local/bin/k3s');
  } else {
    const version = env.INSTALL_K3S_VERSION;
    if (!version) {
      fatal(
        `Finding release for channel ${env.INSTALL_K3S_CHANNEL ?? 'stable'}: update.k3s.io is outside the lab twin (simulation); set INSTALL_K3S_VERSION`,
      );
    }
    info(`Using ${version} as release`);
    const hashUrl = `${releaseBase}${version}/sha256sum-amd64.txt`;
    info(`Downloading hash ${hashUrl}`);
    const fault = node.fault('install-fails');
    if (fault && (fault.version === undefined || fault.version === version))
      fatal(`Download failed (lab twin fault install-fails${fault.node ? ` on ${fault.node}` : ''})`);
    if (!versionRe.test(version)) fatal('Download failed');
    const expected = checksumFile(node, version).split(/\s+/)[0];
    if (existsSync(bin) && fileHash(bin) === expected) {
      info('Skipping binary downloaded, installed k3s matches hash');
    } else {
      info(`Downloading binary ${releaseBase}${version}/k3s`);
      info('Verifying binary download');
      info('Installing k3s to /usr/local/bin/k3s');
      mkdirSync(node.root('/usr/local/bin'), { recursive: true });
      rmSync(bin, { force: true });
      writeFileSync(bin, binaryFor(node, version), { mode: 0o755 });
    }
  }
  if (env.INSTALL_K3S_SYMLINK !== 'skip') {
    for (const cmd of ['kubectl', 'crictl', 'ctr']) {
      const link = node.root(`/usr/local/bin/${cmd}`);
      let exists = false;
      try {
        lstatSync(link);
        exists = true;
      } catch {
        /* absent */
      }
      if (!exists || env.INSTALL_K3S_SYMLINK === 'force') {
        info(`Creating /usr/local/bin/${cmd} symlink to k3s`);
        rmSync(link, { force: true });
        symlinkSync('k3s', link);
      } else info(`Skipping /usr/local/bin/${cmd} symlink to k3s, already exists`);
    }
  }
  info('Creating killall script /usr/local/bin/k3s-killall.sh');
  writeFileSync(node.root('/usr/local/bin/k3s-killall.sh'), killallScript(node), { mode: 0o755 });
  info(`Creating uninstall script /usr/local/bin/${systemName}-uninstall.sh`);
  writeFileSync(node.root(`/usr/local/bin/${systemName}-uninstall.sh`), uninstallScript(node, systemName), {
    mode: 0o755,
  });
  // systemd_disable: the old unit and env file go before the new ones are written.
  rmSync(node.root(`/etc/systemd/system/multi-user.target.wants/${unit}.service`), { force: true });
  rmSync(unitPath, { force: true });
  rmSync(envPath, { force: true });
  info(`env: Creating environment file /etc/systemd/system/${unit}.service.env`);
  writeFileSync(envPath, envFileText(env), { mode: 0o600 });
  info(`systemd: Creating service file /etc/systemd/system/${unit}.service`);
  writeFileSync(unitPath, unitText(command, words, env.INSTALL_K3S_TYPE || 'notify'), { mode: 0o644 });
  if (env.INSTALL_K3S_SKIP_ENABLE === 'true') return 0;
  info(`systemd: Enabling ${systemName} unit`);
  const { systemctl } = await import('./service.ts');
  const quiet = () => {};
  await systemctl(node, ['enable', `/etc/systemd/system/${unit}.service`], quiet);
  await systemctl(node, ['daemon-reload'], quiet);
  if (env.INSTALL_K3S_SKIP_START === 'true') return 0;
  if (before === hashes() && env.INSTALL_K3S_FORCE_RESTART !== 'true') {
    info('No change detected so skipping service start');
    return 0;
  }
  info(`systemd: Starting ${systemName}`);
  const r = await startUnit(node, unit);
  if (!r.ok) {
    process.stderr.write(`${r.message}\n`);
    return 1;
  }
  return 0;
}
