// Ubuntu's unattended-upgrades and arping on a twin node (sim/apt.ts, sim/host.ts), without
// namespaces: the node's apt.conf.d and log as weekend 1 leaves them, unattended-upgrade
// installing the pending security updates and asking for a reboot, a reboot clearing it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeTwin, fakeTwin } from './fake-node.ts';

const W = 'k3s-worker-01';
let twin: FakeTwin;
beforeEach(() => {
  twin = fakeTwin();
});
afterEach(() => twin.cleanup());
const sim = () => JSON.parse(readFileSync(join(twin.nodeDir(W), 'sim.json'), 'utf8'));

describe('unattended-upgrades on a twin node', () => {
  it("has the lab's apt config: enabled, no automatic reboot in the local file that sorts after the shipped one", () => {
    const dir = twin.root(W, '/etc/apt/apt.conf.d');
    expect(readFileSync(join(dir, '20auto-upgrades'), 'utf8')).toContain('APT::Periodic::Unattended-Upgrade "1";');
    expect(readFileSync(join(dir, '52unattended-upgrades-local'), 'utf8')).toContain(
      'Unattended-Upgrade::Automatic-Reboot "false";',
    );
    expect(readFileSync(join(dir, '50unattended-upgrades'), 'utf8')).toContain('${distro_codename}-security');
    expect(readFileSync(twin.root(W, '/var/log/unattended-upgrades/unattended-upgrades.log'), 'utf8')).toMatch(
      /INFO No packages found that can be upgraded unattended/,
    );
  });

  it('--dry-run lists the updates and changes nothing; -v installs them and asks for a reboot; a second run finds none', () => {
    const dry = twin.sh(W, 'unattended-upgrade -v --dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('Option --dry-run given, *not* performing real actions');
    expect(dry.stdout).toMatch(
      /Packages that will be upgraded: libssl3 openssl linux-image-5\.15\.0-130-generic linux-image-generic/,
    );
    expect(existsSync(twin.root(W, '/run/reboot-required'))).toBe(false);
    expect(sim().securityUpdates).toHaveLength(4);

    const run = twin.sh(W, 'unattended-upgrade -v');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('All upgrades installed');
    expect(readFileSync(twin.root(W, '/run/reboot-required'), 'utf8')).toBe('*** System restart required ***\n');
    expect(readFileSync(twin.root(W, '/run/reboot-required.pkgs'), 'utf8')).toBe(
      'libssl3\nlinux-image-5.15.0-130-generic\n',
    );
    expect(readFileSync(twin.root(W, '/var/log/unattended-upgrades/unattended-upgrades-dpkg.log'), 'utf8')).toContain(
      'Setting up libssl3 (3.0.2-0ubuntu1.19)',
    );
    expect(sim().securityUpdates).toEqual([]);
    expect(sim().bootId).toBeTypeOf('string');

    const again = twin.sh(W, 'unattended-upgrade -v');
    expect(again.stdout).toContain('No packages found that can be upgraded unattended and no pending auto-removals');
    expect(twin.sh(W, 'unattended-upgrade --frobnicate').status).toBe(2);
  });

  it('without -v it prints nothing but logs; a reboot empties /run of the reboot request', async () => {
    const r = twin.sh(W, 'unattended-upgrade');
    expect(r.stdout).toBe('');
    expect(readFileSync(twin.root(W, '/var/log/unattended-upgrades/unattended-upgrades.log'), 'utf8')).toContain(
      'All upgrades installed',
    );
    const boot = sim().bootId;
    twin.sh(W, 'systemd-run --on-active=0.1 --unit=os-security-updates-reboot /usr/bin/systemctl reboot');
    const deadline = Date.now() + 10_000;
    while (sim().bootId === boot && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(sim().bootId).not.toBe(boot);
    expect(existsSync(twin.root(W, '/run/reboot-required'))).toBe(false);
    expect(existsSync(twin.root(W, '/run/reboot-required.pkgs'))).toBe(false);
  });
});

describe('arping without -D', () => {
  it("a twin machine's address answers with one MAC, the one ip neigh shows; an unknown address gets no reply (exit 1)", () => {
    const r = twin.sh(W, 'arping -c 3 -w 5 -I eth0 127.0.1.1');
    expect(r.status).toBe(0);
    const macs = [...new Set(r.stdout.match(/\[[0-9A-F:]+\]/g))];
    expect(macs).toHaveLength(1);
    expect(r.stdout).toContain('Received 3 response(s)');
    expect(twin.sh(W, 'ip neigh show 127.0.1.1').stdout.toUpperCase()).toContain(macs[0]!.slice(1, -1));
    const none = twin.sh(W, 'arping -c 2 -I eth0 192.168.2.199');
    expect(none.status).toBe(1);
    expect(none.stdout).toContain('Received 0 response(s)');
  });
});
