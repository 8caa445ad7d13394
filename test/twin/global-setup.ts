// Starts one sandbox with the lab twin (scripts/sandbox-lib, the same code as
// `scripts/sandbox up`) for the twin suites, in a fresh temp state dir, and
// stops it after. Suites get it through inject('twin'). The twin needs root
// (namespaces); the project refuses plainly when it is not root.
// While the simulator (scripts/sandbox-lib/twin/sim/) is not complete in the
// checkout, the machines run the tests' stand-in (test/twin/standin-sim.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { down, killNow, up } from '../../scripts/sandbox-lib/sandbox.ts';
import { readTwin, twinRequirements } from '../../scripts/sandbox-lib/twin/index.ts';
import { standinSimulator } from './standin-sim.ts';

export interface TwinContext {
  stateDir: string;
  kubeconfig: string;
  kubectl: string;
  binDir: string;
  sandboxInventory: string;
  sshConfig: string;
  twinDir: string;
  nodes: Array<{ name: string; roles: string[]; address: string }>;
  /** Which simulator the machines run: the project's or the tests' stand-in. */
  simulator: 'project' | 'stand-in';
}

declare module 'vitest' {
  export interface ProvidedContext {
    twin: TwinContext;
  }
}

let stateDir: string | undefined;
const onExit = () => {
  if (stateDir) {
    killNow(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
};

/** The project's simulator when all of it is there, else the stand-in. */
export function simulatorForTests() {
  const sim = join(import.meta.dirname, '../../scripts/sandbox-lib/twin/sim');
  const complete = ['commands.ts', 'node-root.ts', 'main.ts'].every((f) => existsSync(join(sim, f)));
  return complete
    ? { kind: 'project' as const, twin: true as const }
    : { kind: 'stand-in' as const, twin: { simulator: standinSimulator } };
}

export async function setup(project: TestProject): Promise<void> {
  const why = twinRequirements();
  if (why) throw new Error(`the twin tests cannot run here: ${why}`);
  stateDir = mkdtempSync(join(tmpdir(), 'k3s-twin-test-'));
  process.once('exit', onExit);
  const t0 = Date.now();
  const log = (line: string) => console.error(`[twin ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const sim = simulatorForTests();
  try {
    const state = await up({ stateDir, log, twin: sim.twin });
    const twin = readTwin(stateDir)!;
    log(`up: ${state.nodes.length} nodes, simulator: ${sim.kind}`);
    project.provide('twin', {
      stateDir,
      kubeconfig: state.kubeconfig,
      kubectl: state.kubectl,
      binDir: state.binDir,
      sandboxInventory: state.sandboxInventory,
      sshConfig: twin.sshConfig,
      twinDir: twin.dir,
      nodes: twin.nodes.map((n) => ({ name: n.name, roles: n.roles, address: n.address })),
      simulator: sim.kind,
    });
  } catch (err) {
    await down(stateDir).catch(() => {});
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
