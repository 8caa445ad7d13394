import type { Inventory } from '../inventory/schema.ts';
import { analyseShell } from '../shell/analyse.ts';
import { parseOptions } from '../shell/options.ts';
import { syntaxOf } from '../shell/syntax.ts';

/**
 * A fence's commands split by where they run: `ssh host "cmd"` one-liners and an `ssh host`
 * session (the lines up to `exit`) become node segments; the rest stays local. The runner runs a
 * node step over its own ssh, so the step holds only the remote commands.
 */
export interface Segment {
  /** 'local', an inventory node name, or undefined for a host the inventory does not know. */
  on: string | undefined;
  host?: string;
  code: string;
  /** 0-based line in the fence of the segment's first line. */
  line: number;
}

interface SshLine {
  host: string;
  command?: string;
}

function readSsh(line: string): SshLine | undefined {
  if (!/^\s*ssh\s/.test(line)) return undefined;
  const inv = analyseShell(line).invocations.find((i) => i.name === 'ssh' && i.via.length === 0);
  if (!inv) return undefined;
  const p = parseOptions(inv.argv.slice(1), syntaxOf('ssh'));
  const host = p.operands[0]?.value;
  if (!host) return undefined;
  const words = [...p.operands.slice(1), ...p.rest];
  // A word expanded at run time ("…$VAR…") is taken as written, quotes removed: on the node the
  // runner's bash expands it, which is what the author meant (variables.ts lists it when a local step set it).
  const text = (w: (typeof words)[number]) => w.value ?? w.text.replace(/^"(.*)"$/s, '$1');
  return { host, command: words.length ? words.map(text).join(' ') : undefined };
}

/** The inventory node a host names: its name, address, `user@` form or a `name.domain`. */
export function resolveHost(inv: Inventory, host: string): string | undefined {
  const bare = host.replace(/^[^@]*@/, '');
  const node = inv.nodes.find((n) => n.name === bare || n.address === bare || bare.split('.')[0] === n.name);
  return node?.name;
}

export function splitBySsh(code: string, inv: Inventory): Segment[] {
  const lines = code.split('\n');
  const out: Segment[] = [];
  let current: Segment | undefined;
  const flush = () => {
    if (current?.code.trim()) out.push({ ...current, code: current.code.replace(/\n+$/, '') });
    current = undefined;
  };
  let session: { on: string | undefined; host: string } | undefined;
  lines.forEach((text, i) => {
    const ssh = session ? undefined : readSsh(text);
    if (ssh) {
      flush();
      const on = resolveHost(inv, ssh.host);
      if (ssh.command !== undefined) out.push({ on, host: ssh.host, code: ssh.command, line: i });
      else session = { on, host: ssh.host };
      return;
    }
    if (session && /^\s*(exit|logout)\s*$/.test(text)) {
      flush();
      session = undefined;
      return;
    }
    const on = session ? session.on : 'local';
    if (!current || current.on !== on || current.host !== session?.host) {
      flush();
      current = { on, host: session?.host, code: '', line: i };
    }
    current.code += `${text}\n`;
  });
  flush();
  return out;
}
