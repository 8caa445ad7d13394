// Worker thread for `runbook check` on large trees: reads and lints a slice of
// the pages and posts results back in small batches, so the main thread can
// keep bash busy with syntax checks while parsing continues here.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { Inventory } from '../inventory/schema.ts';
import { lintSource, type PageLint } from './lint.ts';
import { readFailure } from './read-failure.ts';

const { root, files, inventory } = workerData as { root: string; files: string[]; inventory: Inventory };
const BATCH = 25;
let batch: PageLint[] = [];
for (const file of files) {
  let source: string;
  try {
    source = readFileSync(resolve(root, file), 'utf8');
  } catch (err) {
    batch.push(readFailure(file, err as NodeJS.ErrnoException));
    continue;
  }
  batch.push(lintSource(source, file, inventory));
  if (batch.length >= BATCH) {
    parentPort!.postMessage(batch);
    batch = [];
  }
}
parentPort!.postMessage(batch);
parentPort!.close();
