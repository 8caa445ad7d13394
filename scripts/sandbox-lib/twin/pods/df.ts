// `df` inside a twin pod: the container's filesystems. An nfs-csi claim is a sub-directory
// of the NAS share (csi-driver-nfs's subDir ${namespace}-${claim name}), so it shows the
// whole share's size and use, as NFS does; a local-path claim shows the node's disk.
import type { PodContext } from './commands.ts';
import { PodSimError } from './errors.ts';

interface Fs {
  source: string;
  type: string;
  sizeK: number;
  usedK: number;
  target: string;
}

const GiB = 1024 * 1024; // in KiB
/** The NAS twin's share as a pod sees it: a 2 × 4 TB RAID1 volume (3.6 TiB), a third used. */
const SHARE = { sizeK: Math.round(3.58 * 1024 * GiB), usedK: Math.round(1.21 * 1024 * GiB) };

export function podFilesystems(ctx: PodContext): Fs[] {
  const fss: Fs[] = [
    { source: 'overlay', type: 'overlay', sizeK: 48 * GiB, usedK: 14 * GiB, target: '/' },
    { source: 'tmpfs', type: 'tmpfs', sizeK: 65_536, usedK: 0, target: '/dev' },
    { source: 'shm', type: 'tmpfs', sizeK: 65_536, usedK: 0, target: '/dev/shm' },
  ];
  const pod = ctx.pod;
  for (const c of pod?.claims ?? []) {
    if (c.storageClass === 'nfs-csi' && ctx.config.nfs) {
      fss.push({
        source: `${ctx.config.nfs.server}:${ctx.config.nfs.share}/${pod!.namespace}-${c.claim}`,
        type: 'nfs4',
        ...SHARE,
        target: c.mountPath,
      });
    } else {
      fss.push({
        source: '/dev/mapper/ubuntu--vg-ubuntu--lv',
        type: 'ext4',
        sizeK: 48 * GiB,
        usedK: 14 * GiB,
        target: c.mountPath,
      });
    }
  }
  if (pod?.secretFiles.length) {
    for (const dir of [...new Set(pod.secretFiles.map((f) => f.path.replace(/\/[^/]+$/, '')))])
      fss.push({ source: 'tmpfs', type: 'tmpfs', sizeK: 1_048_576, usedK: 8, target: dir });
  }
  return fss;
}

/** df -h's sizes: one decimal below 10, powers of 1024, rounded up as coreutils does. */
function human(k: number): string {
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = k;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return k === 0 ? '0' : `${k}K`;
  return v < 10 ? `${(Math.ceil(v * 10) / 10).toFixed(1)}${units[i]}` : `${Math.ceil(v)}${units[i]}`;
}

export function df(ctx: PodContext, args: string[]): number {
  let h = false;
  let showType = false;
  const paths: string[] = [];
  for (const a of args) {
    if (a.startsWith('--')) {
      if (a === '--human-readable') h = true;
      else if (a === '--portability') {
        /* POSIX output: what we print */
      } else if (a === '--print-type') showType = true;
      else throw new PodSimError(`df: unrecognized option '${a}' (lab twin: df reads -h -k -P -T)`, 1);
    } else if (a.startsWith('-') && a.length > 1) {
      for (const c of a.slice(1)) {
        if (c === 'h') h = true;
        else if (c === 'k') h = false;
        else if (c === 'T') showType = true;
        else if (c !== 'P') throw new PodSimError(`df: invalid option -- '${c}' (lab twin: df reads -h -k -P -T)`, 1);
      }
    } else paths.push(a);
  }
  const all = podFilesystems(ctx);
  let shown = all;
  if (paths.length) {
    shown = [];
    for (const p of paths) {
      if (!p.startsWith('/')) {
        ctx.err(`df: ${p}: No such file or directory\n`);
        return 1;
      }
      // The filesystem a path is on: the longest mount point that is a prefix of it.
      const fs = [...all]
        .sort((a, b) => b.target.length - a.target.length)
        .find((f) => p === f.target || p.startsWith(f.target === '/' ? '/' : `${f.target}/`))!;
      shown.push(fs);
    }
  }
  const head = [
    h ? 'Filesystem' : 'Filesystem',
    ...(showType ? ['Type'] : []),
    h ? 'Size' : '1024-blocks',
    'Used',
    h ? 'Avail' : 'Available',
    h ? 'Use%' : 'Capacity',
    'Mounted on',
  ];
  const rows = shown.map((f) => {
    const avail = f.sizeK - f.usedK;
    const pct = f.sizeK ? `${Math.ceil((f.usedK / f.sizeK) * 100)}%` : '-';
    const n = (k: number) => (h ? human(k) : String(k));
    return [f.source, ...(showType ? [f.type] : []), n(f.sizeK), n(f.usedK), n(avail), pct, f.target];
  });
  const widths = head.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((v, i) =>
        i === 0 || (showType && i === 1) || i === r.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!),
      )
      .join(' ')
      .replace(/\s+$/, '');
  ctx.out(`${[head, ...rows].map(line).join('\n')}\n`);
  return 0;
}
