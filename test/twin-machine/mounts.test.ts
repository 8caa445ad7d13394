import { describe, expect, it } from 'vitest';
import { planMounts, type HostView } from '../../scripts/sandbox-lib/twin/machine-mounts.ts';

/** A Debian-like host with merged /usr (/bin → /usr/bin, /sbin → /usr/sbin), no /etc/rancher, no /var/lib/rancher, no unattended-upgrades log. */
const host = (extra: string[] = []): HostView => {
  const dirs = new Set([
    '/',
    '/etc',
    '/etc/systemd',
    '/etc/systemd/system',
    '/usr',
    '/usr/bin',
    '/usr/sbin',
    '/usr/local',
    '/usr/local/bin',
    '/var',
    '/var/lib',
    '/var/log',
    '/etc/apt',
    '/etc/apt/apt.conf.d',
    '/run',
    ...extra,
  ]);
  return {
    realpath(p) {
      const r = p.replace(/^\/bin(?=\/|$)/, '/usr/bin').replace(/^\/sbin(?=\/|$)/, '/usr/sbin');
      return dirs.has(r) ? r : undefined;
    },
  };
};

describe('planMounts', () => {
  it('overlays the parents of missing mount points and command paths, then binds the node root', () => {
    const plan = planMounts(
      [
        { name: 'systemctl', paths: ['/usr/bin/systemctl', '/bin/systemctl'] },
        { name: 'mount.nfs', paths: ['/usr/sbin/mount.nfs', '/sbin/mount.nfs'] },
        { name: 'k3s', paths: ['/usr/local/bin/k3s'] },
      ],
      '/s/n/root',
      '/s/n/layers',
      host(),
    );
    expect(plan.mounts.map((m) => `${m.kind} ${m.target}`)).toEqual([
      'overlay /etc',
      'overlay /var/lib',
      'overlay /var/log',
      'overlay /usr/bin',
      'overlay /usr/sbin',
      'bind /run',
      'bind /etc/rancher',
      'bind /var/lib/rancher',
      'bind /usr/local/bin',
      'bind /etc/systemd/system',
      'bind /etc/apt/apt.conf.d',
      'bind /var/log/unattended-upgrades',
    ]);
    const etc = plan.mounts.find((m) => m.target === '/etc')!;
    expect(etc.kind === 'overlay' && etc.entries).toEqual([{ path: 'rancher', kind: 'dir' }]);
    // /bin/systemctl is /usr/bin/systemctl on a merged-/usr host: one entry.
    const bin = plan.mounts.find((m) => m.target === '/usr/bin')!;
    expect(bin.kind === 'overlay' && bin.entries).toEqual([
      { path: 'systemctl', kind: 'command', command: 'systemctl' },
    ]);
    expect(plan.fromNodeRoot).toEqual([{ command: 'k3s', path: '/usr/local/bin/k3s' }]);
    expect(plan.mounts.find((m) => m.target === '/etc/rancher')).toEqual({
      kind: 'bind',
      source: '/s/n/root/etc/rancher',
      target: '/etc/rancher',
    });
  });

  it('binds straight over mount points the host has, and refuses to overlay /', () => {
    const plan = planMounts([], '/r', '/l', host(['/etc/rancher', '/var/lib/rancher', '/var/log/unattended-upgrades']));
    expect(plan.mounts.every((m) => m.kind === 'bind')).toBe(true);
    expect(() => planMounts([{ name: 'x', paths: ['/x'] }], '/r', '/l', host())).toThrow(/cover the host's \//);
    expect(() => planMounts([{ name: 'x', paths: ['usr/bin/x'] }], '/r', '/l', host())).toThrow(/not absolute/);
  });
});
