/**
 * Fan-out of one step over several targets (`on=role:agent`): in target
 * (inventory) order, at most `parallel` at a time, and, unless the step
 * tolerates failure, no new target starts once one has failed — so a broken
 * change stops at the first node instead of rolling over the rest. Targets
 * already running are left to finish: cutting a node off mid-change is worse.
 */

export interface FanOutOptions<R> {
  parallel: number;
  /** Start no further target after a failure (the default; `continue-on-error` turns it off). */
  stopOnFailure: boolean;
  ok(result: R): boolean;
  /** Ctrl-C: start nothing new. */
  signal?: AbortSignal;
}

export type FanOutEntry<T, R> =
  | { target: T; ran: true; result: R }
  | { target: T; ran: false; reason: 'after-failure' | 'interrupted' };

export async function fanOut<T, R>(
  targets: readonly T[],
  options: FanOutOptions<R>,
  run: (target: T, index: number) => Promise<R>,
): Promise<FanOutEntry<T, R>[]> {
  const entries: FanOutEntry<T, R>[] = new Array(targets.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      const target = targets[i]!;
      if (options.signal?.aborted) entries[i] = { target, ran: false, reason: 'interrupted' };
      else if (failed && options.stopOnFailure) entries[i] = { target, ran: false, reason: 'after-failure' };
      else {
        const result = await run(target, i);
        if (!options.ok(result)) failed = true;
        entries[i] = { target, ran: true, result };
      }
    }
  };
  const width = Math.max(1, Math.min(options.parallel, targets.length));
  await Promise.all(Array.from({ length: width }, worker));
  return entries;
}
