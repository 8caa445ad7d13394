import type { Inventory, InventoryNode } from '../inventory/schema.ts';
import { stepId } from './classify.ts';
import { type Decide, type DraftStep, type Item, literal } from './draft.ts';
import { reference } from './params.ts';

/**
 * Notes for a rolling change often repeat the same block per node ("## worker-01", "## worker-02"),
 * differing only in the node's name or address. Such a run of blocks becomes one <ForEach> over
 * those nodes, written once with $NODE / $NODE_ADDRESS: one place to fix, and the runner goes node
 * by node as the notes did.
 */

const NODE_MARK = '\u0001N';
const ADDR_MARK = '\u0001A';
// One pattern per node and kind, made once: findFold asks about the same nodes many times.
const patterns = new WeakMap<InventoryNode, { name: RegExp; addr: RegExp }>();
function patternsOf(n: InventoryNode) {
  let p = patterns.get(n);
  if (!p) {
    p = {
      name: new RegExp(`(?<![\\w.-])${literal(n.name)}(?![\\w-])`, 'g'),
      addr: new RegExp(`(?<![\\w.])${literal(n.address)}(?![\\w.]*\\d)`, 'g'),
    };
    patterns.set(n, p);
  }
  return p;
}
const nameRe = (n: InventoryNode) => {
  const re = patternsOf(n).name;
  re.lastIndex = 0;
  return re;
};
const addrRe = (n: InventoryNode) => {
  const re = patternsOf(n).addr;
  re.lastIndex = 0;
  return re;
};
/** The longest per-node block looked for: notes repeat a few steps per node, and it bounds the search. */
const MAX_BLOCK = 30;

/** The part of a node's name that notes write alone ("worker-01" for k3s-worker-01): for prose and titles only. */
function shortName(n: InventoryNode, inv: Inventory): string | undefined {
  const names = inv.nodes.map((x) => x.name);
  let common = names[0]!;
  for (const x of names) while (!x.startsWith(common)) common = common.slice(0, -1);
  const prefix = common.slice(0, common.lastIndexOf('-') + 1);
  const short = n.name.slice(prefix.length);
  return prefix && short.length >= 3 ? short : undefined;
}

/** A node's name, and its short form, in prose and titles. */
function proseRe(n: InventoryNode, inv: Inventory): RegExp {
  const short = shortName(n, inv);
  const names = [n.name, ...(short ? [short] : [])].map(literal).join('|');
  return new RegExp(`(?<![\\w.-])(${names})(?![\\w-])`, 'g');
}

/** What a step does, from its first command, for a title when the heading only named the node. */
function commandTitle(code: string): string {
  const line = code.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  const words = line
    .trim()
    .split(/\s+/)
    .filter((w) => /^[a-z][\w.-]*$/.test(w));
  return words.slice(0, /^(kubectl|systemctl|helm|k3s)$/.test(words[0] ?? '') ? 3 : 2).join(' ') || 'step';
}

// Asked of the same step and node many times by findFold: worked out once per step, node and code.
const memo = new WeakMap<DraftStep, Map<InventoryNode, { code: string; mentions: boolean; normal: string }>>();
function about(s: DraftStep, n: InventoryNode) {
  let perNode = memo.get(s);
  if (!perNode) memo.set(s, (perNode = new Map()));
  // What the answers depend on: a step changed since (a wait written in, a fold) is asked again.
  const key = `${s.code}\0${s.on}\0${s.expect ?? ''}\0${s.cwd ?? ''}`;
  let hit = perNode.get(n);
  if (!hit || hit.code !== key) {
    const mentions = s.on === n.name || nameRe(n).test(s.code) || addrRe(n).test(s.code);
    hit = { code: key, mentions, normal: normalOf(s, n) };
    perNode.set(n, hit);
  }
  return hit;
}
const mentions = (s: DraftStep, n: InventoryNode) => about(s, n).mentions;
const normal = (s: DraftStep, n: InventoryNode) => about(s, n).normal;

function normalOf(s: DraftStep, n: InventoryNode): string {
  const code = s.code.replace(nameRe(n), NODE_MARK).replace(addrRe(n), ADDR_MARK);
  const on = s.on === n.name ? '$NODE' : s.on;
  return JSON.stringify([code, on, s.expect?.replace(nameRe(n), NODE_MARK), s.cwd]);
}

interface Fold {
  /** Indexes into the step-item list. */
  first: number;
  length: number;
  nodes: InventoryNode[];
}

function findFold(steps: DraftStep[], p: number, inv: Inventory): Fold | undefined {
  let best: Fold | undefined;
  // The nodes the first block mentions grow with it: kept as it grows rather than asked again.
  const mentioned = new Set<InventoryNode>();
  for (let len = 1; len <= MAX_BLOCK && p + 2 * len <= steps.length; len++) {
    const block = (r: number) => steps.slice(p + r * len, p + (r + 1) * len);
    for (const n of inv.nodes) if (mentions(steps[p + len - 1]!, n)) mentioned.add(n);
    for (const first of inv.nodes.filter((n) => mentioned.has(n))) {
      const sig = block(0).map((s) => normal(s, first));
      const nodes = [first];
      for (let r = 1; p + (r + 1) * len <= steps.length; r++) {
        const b = block(r);
        const next = inv.nodes.find(
          (n) => !nodes.includes(n) && b.some((s) => mentions(s, n)) && b.every((s, i) => normal(s, n) === sig[i]),
        );
        if (!next) break;
        nodes.push(next);
      }
      if (nodes.length >= 2 && (!best || nodes.length * len > best.nodes.length * best.length))
        best = { first: p, length: len, nodes };
    }
  }
  return best;
}

/** `nodes=` for the group: the role when the nodes are exactly that role's, else their names. */
function nodesAttr(nodes: InventoryNode[], inv: Inventory): string {
  const names = new Set(nodes.map((n) => n.name));
  for (const role of new Set(inv.nodes.flatMap((n) => n.roles))) {
    const members = inv.nodes.filter((n) => n.roles.includes(role));
    if (members.length === names.size && members.every((n) => names.has(n.name))) return `role:${role}`;
  }
  return nodes.map((n) => n.name).join(',');
}

/** Writes the node as the loop's variable, quoted as its place in the line needs. */
function templated(code: string): string {
  return code
    .split('\n')
    .map((line) => {
      let out = '';
      let last = 0;
      for (const m of line.matchAll(/\u0001[NA]/g)) {
        out += line.slice(last, m.index) + reference(line, m.index, m[0] === NODE_MARK ? 'NODE' : 'NODE_ADDRESS');
        last = m.index + m[0].length;
      }
      return out + line.slice(last);
    })
    .join('\n');
}

const isBlankOrHeading = (it: Item) => it.kind === 'text' && (!it.text.trim() || it.heading !== undefined);

/** Folds every run of repeated per-node blocks in `body` into a <ForEach>; true when one was made. */
export function foldRepeats(body: Item[], inv: Inventory, taken: Set<string>, decide: Decide): boolean {
  let made = false;
  let p = 0;
  for (;;) {
    const at = body.flatMap((it, i) => (it.kind === 'step' ? [i] : []));
    const steps = at.map((i) => (body[i] as { step: DraftStep }).step);
    let fold: Fold | undefined;
    for (; p < steps.length && !fold; p++) {
      fold = findFold(steps, p, inv);
      // A fold may not cross a Tabs boundary: the group would close in another tab.
      if (fold) {
        const end = at[fold.first + fold.length * fold.nodes.length - 1]!;
        if (body.slice(at[fold.first], end).some((it) => it.kind === 'mark')) fold = undefined;
      }
    }
    if (!fold) return made;
    made = true;
    const [n1] = fold.nodes;
    const start = at[fold.first]!;
    const firstEnd = at[fold.first + fold.length - 1]!;
    const end = at[fold.first + fold.length * fold.nodes.length - 1]!;
    const kept = body.slice(start, firstEnd + 1);
    const prose = (n: InventoryNode) => proseRe(n, inv);
    const keptText = new Set(kept.flatMap((it) => (it.kind === 'text' ? [it.text.replace(prose(n1!), '')] : [])));
    for (const it of body.slice(firstEnd + 1, end + 1)) {
      if (it.kind === 'step') taken.delete(it.step.id);
      else if (it.kind === 'fence')
        decide(it.line, 'illustration of a repeated per-node block left out of the ForEach');
      else if (it.kind === 'text' && !isBlankOrHeading(it)) {
        const same = fold.nodes.some((n) => keptText.has(it.text.replace(prose(n), '')));
        if (!same)
          decide(it.line, 'prose of a repeated per-node block left out of the ForEach: check it adds nothing', true);
      }
    }
    for (const it of kept) {
      if (it.kind === 'step') taken.delete(it.step.id);
      if (it.kind === 'text') it.text = it.text.replace(prose(n1!), 'each node');
    }
    for (const it of kept) {
      if (it.kind !== 'step') continue;
      const s = it.step;
      const parts = JSON.parse(normal(s, n1!)) as [string, string, string | undefined, string | undefined];
      s.code = templated(parts[0]);
      s.on = parts[1] === '$NODE' ? '$NODE' : parts[1];
      if (s.expect) s.expect = s.expect.replace(nameRe(n1!), '[a-z0-9-]+');
      const title = s.title.replace(prose(n1!), '').trim();
      s.title = /[a-z]/i.test(title) ? s.title.replace(prose(n1!), 'the node') : commandTitle(s.code);
      s.id = stepId(s.title, taken);
    }
    // The heading that introduced the first block now introduces the loop.
    const intro = body
      .slice(0, start)
      .reverse()
      .find((it) => it.kind !== 'text' || it.heading !== undefined);
    if (intro?.kind === 'text') intro.text = intro.text.replace(prose(n1!), 'each node');
    const nodes = nodesAttr(fold.nodes, inv);
    body.splice(start, end - start + 1, { kind: 'mark', text: `<ForEach nodes="${nodes}">` }, ...kept, {
      kind: 'mark',
      text: '</ForEach>',
    });
    const order = inv.nodes.filter((n) => fold.nodes.includes(n));
    const reordered = order.some((n, i) => n !== fold.nodes[i]) ? ' (the runner goes in inventory order)' : '';
    decide(
      (kept[0] as { step: DraftStep }).step.line,
      `${fold.nodes.length} repeated blocks for ${fold.nodes.map((n) => n.name).join(', ')} became one <ForEach nodes="${nodes}"> with $NODE${reordered}`,
    );
    p = fold.first + fold.length;
  }
}
