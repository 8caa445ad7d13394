// Worker thread for `runbook check` on large trees: takes pages from the
// counter it shares with the main thread and the other workers, lints them and
// posts the results back in small batches, so the main thread can hand their
// steps to bash while parsing goes on.
import { parentPort, workerData } from 'node:worker_threads';
import type { Inventory } from '../inventory/schema.ts';
import { readAndLint, type PageLint } from './lint.ts';

export interface WorkerData {
  root: string;
  files: string[];
  inventory: Inventory;
  /** Index of the next page nobody has taken yet (Atomics). */
  next: Int32Array;
}

const BATCH = 16;

if (parentPort) {
  const { root, files, inventory, next } = workerData as WorkerData;
  let batch: Array<[number, PageLint]> = [];
  for (let index = Atomics.add(next, 0, 1); index < files.length; index = Atomics.add(next, 0, 1)) {
    batch.push([index, readAndLint(root, files[index]!, inventory)]);
    if (batch.length >= BATCH) {
      parentPort.postMessage(batch);
      batch = [];
    }
  }
  parentPort.postMessage(batch);
  parentPort.close();
}
