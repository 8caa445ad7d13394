import { isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';

/**
 * Rewrites a parsed YAML document to hold `value` while keeping every node whose value did not
 * change, so the comments and layout around it survive: maps are updated key by key, lists item by
 * item (items with a `name` are matched by name, others by position), and only a scalar whose
 * value differs is replaced.
 */
export function updateDocument(doc: Document, value: unknown): void {
  doc.contents = merged(doc, doc.contents, value) as Document['contents'];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyOf = (pair: Pair) => (isScalar(pair.key) ? pair.key.value : pair.key);
const nameOf = (v: unknown) => (isRecord(v) && typeof v.name === 'string' ? v.name : undefined);

function merged(doc: Document, node: unknown, value: unknown): Node {
  if (isRecord(value) && isMap(node)) {
    for (const pair of [...node.items]) {
      const key = keyOf(pair);
      if (typeof key !== 'string' || value[key] === undefined) node.delete(pair.key);
    }
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const pair = node.items.find((p) => keyOf(p) === key);
      if (pair) pair.value = merged(doc, pair.value, v);
      else node.add(doc.createPair(key, v));
    }
    return node;
  }
  if (Array.isArray(value) && isSeq(node)) {
    const old = [...node.items];
    node.items = value.map((v, i) => {
      const name = nameOf(v);
      const match = name === undefined ? old[i] : old.find((o) => isMap(o) && o.get('name') === name);
      return match === undefined ? doc.createNode(v) : merged(doc, match, v);
    });
    return node;
  }
  if (isScalar(node) && node.value === value) return node;
  return doc.createNode(value);
}
