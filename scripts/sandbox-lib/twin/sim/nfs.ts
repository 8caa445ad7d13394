// mount -t nfs / mount.nfs / umount / showmount against the NAS twin: each export of the
// inventory's NAS is a directory <state>/twin/nas/<export path>. Inside the node's mount
// namespace the export is bind-mounted onto the target (the host's mount table never sees
// it); outside any namespace (the unit tests) the target is filled from the export and
// written back on umount, so no mount is made at all. Fault: nas-unreachable.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type Node, SimError, refuse } from './node.ts';

function nasDir(node: Node): string {
  return join(node.state.twinDir, 'nas');
}

/** The exports of the NAS twin: every directory under nas/ that holds no other export (e.g. /volume1/k3s-backups). */
export function exportsOf(node: Node): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string, depth: number) => {
    const subs = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory());
    if (depth >= 2 || subs.length === 0) {
      if (rel) out.push(rel);
      return;
    }
    for (const d of subs) walk(join(dir, d.name), `${rel}/${d.name}`, depth + 1);
  };
  if (existsSync(nasDir(node))) walk(nasDir(node), '', 0);
  return out.sort();
}

/**
 * True inside the twin node's mount namespace: there /var/lib/rancher is a bind mount of this
 * node's root/var/lib/rancher. Anywhere else (the unit tests, the host) no mount is ever made.
 */
function inNodeNamespace(node: Node): boolean {
  try {
    const want = join(basename(node.dir), 'root', 'var', 'lib', 'rancher');
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => {
        const f = line.split(' ');
        return f[4] === '/var/lib/rancher' && (f[3] ?? '').endsWith(want);
      });
  } catch {
    return false;
  }
}

/** The host's mount(8)/umount(8), when the twin machine binds them into the node dir before covering the real paths. */
function hostTool(node: Node, name: 'host-mount' | 'host-umount'): string | undefined {
  const p = join(node.dir, 'bin', name);
  return existsSync(p) ? p : undefined;
}

function sysMount(args: string[], what: string, node?: Node): void {
  const tool = node && hostTool(node, args[0] === 'bind' ? 'host-mount' : 'host-umount');
  if (tool) {
    const argv =
      args[0] === 'bind'
        ? ['--bind', ...(args[3] === 'ro' ? ['-o', 'ro'] : []), args[1] ?? '', args[2] ?? '']
        : [args[1] ?? ''];
    const r = spawnSync(tool, argv, { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      throw new SimError(`lab twin simulator: could not ${what}: ${r.error?.message ?? r.stderr.trim()}`, 32);
    return;
  }
  // Otherwise (the real mount(8) is covered by the simulator inside the node) the bind mount
  // is made with the syscall itself, through python3's ctypes.
  const script = `import ctypes,sys,os
libc=ctypes.CDLL(None,use_errno=True)
op=sys.argv[1]
if op=='bind':
  r=libc.mount(sys.argv[2].encode(),sys.argv[3].encode(),None,4096|16384,None)
  if r==0 and sys.argv[4]=='ro': r=libc.mount(b'none',sys.argv[3].encode(),None,4096|32|1,None)
else:
  r=libc.umount2(sys.argv[2].encode(),0)
if r!=0: e=ctypes.get_errno(); sys.stderr.write(os.strerror(e)+'\\n'); sys.exit(1)
`;
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new SimError(`lab twin simulator: could not ${what}: ${r.error?.message ?? r.stderr.trim()}`, 32);
}

function parseSource(src: string): { host: string; path: string } | undefined {
  const m = /^([^:/]+):(\/.*)$/.exec(src);
  return m ? { host: m[1] ?? '', path: (m[2] ?? '').replace(/\/+$/, '') } : undefined;
}

async function nfsUnreachable(node: Node, program: string, src: string): Promise<number> {
  const f = node.fault('nas-unreachable');
  if (!f) return 0;
  // A real mount.nfs retries for minutes; the twin gives up after a couple of seconds.
  await new Promise((r) => setTimeout(r, Number(f.timeoutMs ?? 2000)));
  process.stderr.write(`${program}: Connection timed out (lab twin fault nas-unreachable: ${src})\n`);
  return 32;
}

export async function mountNfs(
  node: Node,
  src: string,
  target: string,
  options: string[],
  program = 'mount.nfs',
): Promise<number> {
  const parsed = parseSource(src);
  if (!parsed) {
    process.stderr.write(`${program}: remote share not in 'host:dir' format\n`);
    return 32;
  }
  const down = await nfsUnreachable(node, program, src);
  if (down) return down;
  const dir = join(nasDir(node), parsed.path);
  if (!exportsOf(node).includes(parsed.path)) {
    process.stderr.write(
      `${program}: access denied by server while mounting ${src} (the NAS twin exports ${exportsOf(node).join(', ') || 'nothing'})\n`,
    );
    return 32;
  }
  const abs = resolve(target);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    process.stderr.write(`${program}: mount point ${target} does not exist\n`);
    return 32;
  }
  const readOnly = options.some((o) => o.split(',').includes('ro'));
  const bind = inNodeNamespace(node);
  if (bind) sysMount(['bind', dir, abs, readOnly ? 'ro' : 'rw'], `bind ${dir} onto ${abs}`, node);
  else cpSync(dir, abs, { recursive: true });
  // Synology shows a share's snapshots in a read-only #snapshot folder (Snapshot Replication,
  // "Make snapshot visible"): on a read-write mount the twin binds it read-only over itself.
  const under: string[] = [];
  const snapshots = join(abs, '#snapshot');
  if (bind && !readOnly && existsSync(snapshots)) {
    sysMount(['bind', snapshots, snapshots, 'ro'], `bind ${snapshots} read-only`, node);
    under.push(snapshots);
  }
  node.state.mounts[abs] = { source: src, dir, readOnly, bind, ...(under.length ? { under } : {}) };
  node.save();
  return 0;
}

export async function mount(node: Node, args: string[], out: (s: string) => void): Promise<number> {
  let type: string | undefined;
  const options: string[] = [];
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-t') type = args[++i] ?? '';
    else if (a.startsWith('-t') && a.length > 2) type = a.slice(2);
    else if (a === '-o') options.push(args[++i] ?? '');
    else if (a === '-r' || a === '--read-only') options.push('ro');
    else if (a.startsWith('-')) {
      /* -v etc. */
    } else pos.push(a);
  }
  if (pos.length === 0 && !type) {
    out(readFileSync('/proc/self/mounts', 'utf8'));
    return 0;
  }
  const isNfs =
    type === 'nfs' ||
    type === 'nfs4' ||
    (type === undefined && pos.length === 2 && parseSource(pos[0] ?? '') !== undefined);
  if (!isNfs || pos.length !== 2)
    refuse(
      `mount ${args.join(' ')}`.trim(),
      'only NFS mounts of the NAS twin (mount -t nfs <nas>:<export> <dir>) are simulated',
    );
  return mountNfs(node, pos[0] ?? '', pos[1] ?? '', options, 'mount.nfs');
}

export function umount(node: Node, args: string[]): number {
  const targets = args.filter((a) => !a.startsWith('-'));
  if (targets.length === 0) {
    process.stderr.write('Usage: umount <directory>\n');
    return 1;
  }
  let code = 0;
  for (const t of targets) {
    const abs = resolve(t);
    const key = node.state.mounts[abs]
      ? abs
      : Object.keys(node.state.mounts).find((k) => node.state.mounts[k]?.source === t);
    const m = key ? node.state.mounts[key] : undefined;
    if (!m || !key) {
      process.stderr.write(`umount: ${t}: not mounted.\n`);
      code = 32;
      continue;
    }
    if (m.bind) {
      for (const u of [...(m.under ?? [])].reverse()) sysMount(['umount', u], `unmount ${u}`, node);
      sysMount(['umount', key], `unmount ${key}`, node);
    } else {
      // Copy mode (no namespace): what was written under the mount point lands on the NAS twin.
      if (!m.readOnly) cpSync(key, m.dir, { recursive: true });
      for (const e of readdirSync(key)) rmSync(join(key, e), { recursive: true, force: true });
    }
    delete node.state.mounts[key];
  }
  node.save();
  return code;
}

export async function showmount(node: Node, args: string[], out: (s: string) => void): Promise<number> {
  const host = args.filter((a) => !a.startsWith('-'))[0] ?? 'localhost';
  if (node.fault('nas-unreachable')) {
    await new Promise((r) => setTimeout(r, 1000));
    process.stderr.write('clnt_create: RPC: Timed out (lab twin fault nas-unreachable)\n');
    return 1;
  }
  out(`Export list for ${host}:\n`);
  for (const e of exportsOf(node)) out(`${e} 192.168.2.0/24\n`);
  return 0;
}
