// Ubuntu's unattended-upgrades on a twin node, simulated (unattended-upgrade(8), Ubuntu 22.04):
// the lab's apt configuration as weekend 1 leaves it (20auto-upgrades, the shipped
// 50unattended-upgrades, the lab's 52unattended-upgrades-local with Automatic-Reboot "false"),
// the log under /var/log/unattended-upgrades/, and `unattended-upgrade [-v] [-d] [--dry-run]`,
// which "installs" the security updates the node's archive offers (sim.json securityUpdates).
// A package whose maintainer scripts ask for a reboot (the kernel, libssl3: update-notifier's
// notify-reboot-required) writes /var/run/reboot-required and appends itself to
// reboot-required.pkgs, as on Ubuntu; a reboot empties /run (a tmpfs), so the files go with it
// (sim/service.ts rebootNow). The real apt-config(8) of the host reads the node's apt.conf.d
// (bound over /etc/apt/apt.conf.d inside the node, machine-mounts.ts).
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Node, SimState } from './node.ts';
import { scheduleReboot } from './service.ts';

const sim = '(lab twin simulation)';
const LOG_DIR = '/var/log/unattended-upgrades';
export const REBOOT_REQUIRED = '/run/reboot-required';

/** The apt.conf.d files of a node, as weekend 1 leaves them (path → text). */
export function aptConfFiles(): Record<string, string> {
  return {
    '20auto-upgrades': 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
    // The package's shipped file, abridged to the settings it sets on Ubuntu 22.04.
    '50unattended-upgrades': [
      '// Automatically upgrade packages from these (origin:archive) pairs (unattended-upgrades, Ubuntu 22.04; lab twin copy)',
      'Unattended-Upgrade::Allowed-Origins {',
      '\t"${distro_id}:${distro_codename}";',
      '\t"${distro_id}:${distro_codename}-security";',
      '\t"${distro_id}ESMApps:${distro_codename}-apps-security";',
      '\t"${distro_id}ESM:${distro_codename}-infra-security";',
      '};',
      'Unattended-Upgrade::Package-Blacklist {',
      '};',
      'Unattended-Upgrade::DevRelease "auto";',
      '//Unattended-Upgrade::Automatic-Reboot "false";',
      '',
    ].join('\n'),
    '52unattended-upgrades-local':
      '// Reboots are coordinated by the os-security-updates runbook (ADR-0017).\nUnattended-Upgrade::Automatic-Reboot "false";\n',
  };
}

/** What the node's archive offers in jammy-security when the twin starts. */
export function initialSecurityUpdates(): NonNullable<SimState['securityUpdates']> {
  return [
    { package: 'libssl3', from: '3.0.2-0ubuntu1.18', to: '3.0.2-0ubuntu1.19', reboot: true },
    { package: 'openssl', from: '3.0.2-0ubuntu1.18', to: '3.0.2-0ubuntu1.19' },
    { package: 'linux-image-5.15.0-130-generic', from: '(none)', to: '5.15.0-130.140', reboot: true },
    { package: 'linux-image-generic', from: '5.15.0.127.126', to: '5.15.0.130.128' },
  ];
}

const stamp = (d = new Date()) => {
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)}`;
};

/** The node's apt files and last night's log (called by prepareNodeRoot with the node root's path function). */
export function writeAptFiles(root: (p: string) => string, lastNight: Date): void {
  mkdirSync(root('/etc/apt/apt.conf.d'), { recursive: true });
  for (const [f, text] of Object.entries(aptConfFiles())) writeFileSync(root(`/etc/apt/apt.conf.d/${f}`), text);
  mkdirSync(root(LOG_DIR), { recursive: true });
  const log = root(`${LOG_DIR}/unattended-upgrades.log`);
  if (!existsSync(log)) {
    writeFileSync(
      log,
      [
        `${stamp(lastNight)} INFO Starting unattended upgrades script`,
        `${stamp(lastNight)} INFO Allowed origins are: o=Ubuntu,a=jammy, o=Ubuntu,a=jammy-security, o=UbuntuESMApps,a=jammy-apps-security, o=UbuntuESM,a=jammy-infra-security`,
        `${stamp(lastNight)} INFO No packages found that can be upgraded unattended and no pending auto-removals`,
        '',
      ].join('\n'),
    );
  }
}

/** The value apt would read for `key` from the node's apt.conf.d (the last file, in name order, wins). */
function aptValue(node: Node, key: string): string | undefined {
  const dir = node.root('/etc/apt/apt.conf.d');
  let value: string | undefined;
  if (!existsSync(dir)) return undefined;
  const re = new RegExp(`^\\s*${key.replace(/[:]/g, '\\:')}\\s+"([^"]*)"\\s*;`, 'm');
  for (const f of readdirSync(dir).sort()) {
    const m = re.exec(readFileSync(join(dir, f), 'utf8'));
    if (m) value = m[1];
  }
  return value;
}

export function unattendedUpgrade(node: Node, args: string[], out: (s: string) => void): number {
  const known = new Set(['-v', '--verbose', '-d', '--debug', '--dry-run', '--download-only', '-h', '--help']);
  const bad = args.filter((a) => !known.has(a));
  if (bad.length) {
    process.stderr.write(
      `Usage: unattended-upgrade [options]\nunattended-upgrade: error: no such option: ${bad[0]} ${sim}\n`,
    );
    return 2;
  }
  if (args.includes('-h') || args.includes('--help')) {
    out(
      'Usage: unattended-upgrade [options]\n\nOptions: -d/--debug, -v/--verbose, --dry-run, --download-only (lab twin simulation)\n',
    );
    return 0;
  }
  const verbose = args.some((a) => ['-v', '--verbose', '-d', '--debug'].includes(a));
  const dryRun = args.includes('--dry-run') || args.includes('--download-only');
  const logFile = node.root(`${LOG_DIR}/unattended-upgrades.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const say = (msg: string) => {
    appendFileSync(logFile, `${stamp()} INFO ${msg}\n`);
    if (verbose) out(`${msg}\n`);
  };
  if (dryRun) say('Option --dry-run given, *not* performing real actions');
  say('Starting unattended upgrades script');
  say(
    'Allowed origins are: o=Ubuntu,a=jammy, o=Ubuntu,a=jammy-security, o=UbuntuESMApps,a=jammy-apps-security, o=UbuntuESM,a=jammy-infra-security',
  );
  say('Initial blacklist: ');
  say('Initial whitelist (not strict): ');
  const pending = node.state.securityUpdates ?? [];
  if (!pending.length) {
    say('No packages found that can be upgraded unattended and no pending auto-removals');
    return 0;
  }
  say(`Packages that will be upgraded: ${pending.map((p) => p.package).join(' ')}`);
  say(`Writing dpkg log to ${LOG_DIR}/unattended-upgrades-dpkg.log`);
  if (dryRun) return 0;
  const dpkg = node.root(`${LOG_DIR}/unattended-upgrades-dpkg.log`);
  appendFileSync(
    dpkg,
    `Log started: ${stamp()}\n${pending.map((p) => `Preparing to unpack ${p.package} (${p.to}) over (${p.from}) ... ${sim}\nSetting up ${p.package} (${p.to}) ...`).join('\n')}\nLog ended: ${stamp()}\n\n`,
  );
  const needReboot = pending.filter((p) => p.reboot);
  if (needReboot.length) {
    // update-notifier-common's notify-reboot-required, as the packages' postinst runs it.
    mkdirSync(node.root('/run'), { recursive: true });
    writeFileSync(node.root(REBOOT_REQUIRED), '*** System restart required ***\n');
    const pkgs = node.root(`${REBOOT_REQUIRED}.pkgs`);
    const listed = existsSync(pkgs) ? readFileSync(pkgs, 'utf8').split('\n').filter(Boolean) : [];
    writeFileSync(pkgs, [...new Set([...listed, ...needReboot.map((p) => p.package)])].map((p) => `${p}\n`).join(''));
  }
  node.state.securityUpdates = [];
  node.state.packagesUpgradedAt = new Date().toISOString();
  node.save();
  say('All upgrades installed');
  // Unattended-Upgrade::Automatic-Reboot "true" reboots at once (Automatic-Reboot-Time "now"); the lab keeps it off.
  const auto = aptValue(node, 'Unattended-Upgrade::Automatic-Reboot');
  if (needReboot.length && (auto === 'true' || auto === '1')) {
    say('Found /var/run/reboot-required, rebooting');
    scheduleReboot(node, 1000, 'unattended-upgrades-reboot');
  }
  return 0;
}
