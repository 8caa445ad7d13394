// What a twin node mounts inside its own mount namespace, worked out before
// the namespace exists (plain data, so it can be tested without root):
//
// - the node's own directories, read-write, over the real K3s paths
//   (/etc/rancher, /var/lib/rancher, /usr/local/bin, /etc/systemd/system) and the OS's
//   (/etc/apt/apt.conf.d, /var/log/unattended-upgrades, /run);
// - the simulator at the real path of every command in the command table.
//
// Both need a mount point that may not exist on the host (the host has no
// /etc/rancher, most have no /usr/sbin/arping). Creating it would change the
// host, so the parent directory is covered instead by a read-only overlay:
// a small per-node layer (the missing directories, and a symlink to the
// simulator per command) above the host's directory. Commands go through
// the overlay even where the host has the file: a symlink cannot be written
// through, unlike a bound file, and the overlay makes the covered host
// directories read-only for the node.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/** The node root's directories mounted over the real paths (the K3s layout, docs.k3s.io). */
export const NODE_ROOT_MOUNTS = [
  '/etc/rancher',
  '/var/lib/rancher',
  '/usr/local/bin',
  '/etc/systemd/system',
  // Ubuntu's unattended-upgrades (sim/apt.ts): the node's apt configuration and log, and its own /run
  // (a tmpfs on the real machine: /var/run/reboot-required lives there).
  '/etc/apt/apt.conf.d',
  '/var/log/unattended-upgrades',
  '/run',
] as const;

export interface CommandPaths {
  name: string;
  paths: readonly string[];
}

/** A read-only overlay: `layer` (the node's) above the host directory `target`, mounted at `target`. */
export interface OverlayMount {
  kind: 'overlay';
  target: string;
  layer: string;
  entries: LayerEntry[];
}
/** A directory or file of the node bound read-write over a host path. */
export interface BindMount {
  kind: 'bind';
  source: string;
  target: string;
}
export type Mount = OverlayMount | BindMount;

/** What an overlay layer holds: an empty directory (a mount point) or a command symlink to the simulator. */
export interface LayerEntry {
  path: string;
  kind: 'dir' | 'command';
  command?: string;
}

export interface MountPlan {
  /** In the order to mount them: overlays (shallowest first), then binds (shallowest first). */
  mounts: Mount[];
  /** Command paths inside a node-root directory: the node's own files provide them (node-root.ts). */
  fromNodeRoot: Array<{ command: string; path: string }>;
}

export interface HostView {
  /** The host path with symlinks resolved, or undefined when it does not exist. */
  realpath(path: string): string | undefined;
}

export const realHost: HostView = {
  realpath(p) {
    if (!existsSync(p)) return undefined;
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  },
};

/**
 * The mount plan of one node. `rootDir` is <node>/root (the node's files),
 * `layersDir` is where the overlay layers are written (<node>/layers).
 */
export function planMounts(
  commands: readonly CommandPaths[],
  rootDir: string,
  layersDir: string,
  host: HostView = realHost,
): MountPlan {
  const overlays = new Map<string, OverlayMount>();
  const overlayFor = (anchor: string): OverlayMount => {
    let o = overlays.get(anchor);
    if (anchor === '/')
      throw new Error(
        "the twin would have to cover the host's / with an overlay: give every command a path in an existing directory",
      );
    if (!o) {
      o = {
        kind: 'overlay',
        target: anchor,
        layer: join(layersDir, anchor === '/' ? 'root' : anchor.slice(1).replaceAll('/', '_')),
        entries: [],
      };
      overlays.set(anchor, o);
    }
    return o;
  };
  const binds: BindMount[] = [];
  for (const target of NODE_ROOT_MOUNTS) {
    const source = join(rootDir, target);
    const real = host.realpath(target);
    if (real) {
      binds.push({ kind: 'bind', source, target: real });
      continue;
    }
    const { anchor, rest } = existingAnchor(target, host);
    overlayFor(anchor).entries.push({ path: rest, kind: 'dir' });
    binds.push({ kind: 'bind', source, target: join(anchor, rest) });
  }
  const rootTargets = binds.map((b) => b.target);
  const fromNodeRoot: MountPlan['fromNodeRoot'] = [];
  const seen = new Set<string>();
  for (const cmd of commands) {
    for (const path of cmd.paths) {
      if (!isAbsolute(path)) throw new Error(`command table: ${cmd.name} path ${path} is not absolute`);
      const { anchor, rest } = existingAnchor(dirname(path), host);
      const full = join(anchor, rest, path.split('/').pop()!);
      if (seen.has(full)) continue;
      seen.add(full);
      if (rootTargets.some((t) => full === t || full.startsWith(t + sep))) {
        fromNodeRoot.push({ command: cmd.name, path });
        continue;
      }
      overlayFor(anchor).entries.push({ path: relative(anchor, full), kind: 'command', command: cmd.name });
    }
  }
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  return {
    mounts: [
      ...[...overlays.values()].sort((a, b) => depth(a.target) - depth(b.target)),
      ...binds.sort((a, b) => depth(a.target) - depth(b.target)),
    ],
    fromNodeRoot,
  };
}

/** The deepest existing directory above `path` (symlinks resolved), and what is below it. */
function existingAnchor(path: string, host: HostView): { anchor: string; rest: string } {
  const missing: string[] = [];
  let p = path;
  for (;;) {
    const real = host.realpath(p);
    if (real) return { anchor: real, rest: missing.reverse().join('/') };
    if (p === '/') throw new Error('the host has no root directory');
    missing.push(p.split('/').pop()!);
    p = dirname(p);
  }
}
