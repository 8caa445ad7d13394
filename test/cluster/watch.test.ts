// A @kubernetes/client-node watch, the way the runner observes the cluster,
// sees node changes made by someone else (here: kubectl).
import { Watch, type V1Node } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk, sandbox, uniqueName } from './helpers.ts';

describe('watching nodes', () => {
  const { kc } = sandbox();
  const label = 'sandbox-test/watched';
  const value = uniqueName('v');
  let node = '';
  let abort: (() => void) | undefined;

  afterAll(() => {
    abort?.();
    if (node) kubectl(['label', 'node', node, `${label}-`]);
  });

  it('sees a label added to a node, then its removal', async () => {
    node = kubectlOk(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    const events: { type: string; labels: Record<string, string> }[] = [];
    let notify = () => {};
    const seen = (pred: (e: (typeof events)[number]) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no matching event; got ${JSON.stringify(events.map((e) => e.type))}`)),
          30_000,
        );
        notify = () => {
          if (events.some(pred)) {
            clearTimeout(t);
            resolve();
          }
        };
        notify();
      });

    let ended: unknown;
    const req = await new Watch(kc).watch(
      '/api/v1/nodes',
      { fieldSelector: `metadata.name=${node}` },
      (type: string, obj: V1Node) => {
        events.push({ type, labels: { ...obj.metadata?.labels } });
        notify();
      },
      (err: unknown) => {
        ended = err;
      },
    );
    abort = () => req.abort();

    // The initial state arrives as ADDED; then our change as MODIFIED.
    await seen((e) => e.type === 'ADDED');
    kubectlOk(['label', 'node', node, `${label}=${value}`]);
    await seen((e) => e.type === 'MODIFIED' && e.labels[label] === value);
    kubectlOk(['label', 'node', node, `${label}-`]);
    await seen(
      (e) =>
        e.type === 'MODIFIED' &&
        events.indexOf(e) > events.findIndex((x) => x.labels[label] === value) &&
        !(label in e.labels),
    );
    expect(ended).toBeUndefined();
  });
});
