// Starts one sandbox (scripts/sandbox-lib, the same code as `scripts/sandbox
// up`) for the cluster suites, in a fresh temp state dir, and stops it after.
// Suites get its kubeconfig via inject('kubeconfig') or
// process.env.SANDBOX_KUBECONFIG, and the matching kubectl via
// inject('kubectl') or process.env.SANDBOX_KUBECTL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { down, killNow, up } from '../../scripts/sandbox-lib/sandbox.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    kubectl: string;
    sandboxStateDir: string;
  }
}

let stateDir: string | undefined;

// If vitest exits without running teardown (Ctrl-C, a crash), still leave no
// process or file behind. 'exit' handlers must be synchronous: SIGKILL.
const onExit = () => {
  if (stateDir) {
    killNow(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
};

export async function setup(project: TestProject): Promise<void> {
  stateDir = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-test-'));
  process.once('exit', onExit);
  const t0 = Date.now();
  const log = (line: string) => console.error(`[sandbox ${Math.round((Date.now() - t0) / 1000)}s] ${line}`);
  try {
    const state = await up({ stateDir, log });
    log(`up: ${state.nodes.length} nodes Ready at ${state.server}`);
    process.env.SANDBOX_KUBECONFIG = state.kubeconfig;
    process.env.SANDBOX_KUBECTL = state.kubectl;
    project.provide('kubeconfig', state.kubeconfig);
    project.provide('kubectl', state.kubectl);
    project.provide('sandboxStateDir', stateDir);
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    stateDir = undefined;
    throw err;
  }
}

export async function teardown(): Promise<void> {
  if (!stateDir) return;
  await down(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  stateDir = undefined;
  process.off('exit', onExit);
}
