// A fake twin for the simulator's unit tests: a state dir in a temp dir, every inventory
// node prepared by prepareNodeRoot, a fake kubectl that records what the simulator asks
// of the API, and a runner that calls commands by name through the node's launcher, as
// the twin machine does (PATH: the node's /usr/local/bin, then the simulator's names).
// No namespaces: the simulator must then keep to <nodeDir>/root and never touch the host.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../scripts/sandbox-lib/inventory.ts';
import { COMMAND_TABLE } from '../../scripts/sandbox-lib/twin/sim/commands.ts';
import { prepareNodeRoot } from '../../scripts/sandbox-lib/twin/sim/node-root.ts';

export const inventoryFile = new URL('../../src/content/lab/inventory.yaml', import.meta.url).pathname;

export interface FakeTwin {
  stateDir: string;
  twinDir: string;
  nodeDir(node: string): string;
  root(node: string, path: string): string;
  /** Runs a bash script "on" the node; returns exit code and output. */
  sh(
    node: string,
    script: string,
    env?: Record<string, string>,
  ): { status: number; stdout: string; stderr: string; ms: number };
  /** The kubectl calls the simulator made (one line of args each), and forgets them. */
  apiCalls(): string[];
  setFaults(faults: unknown[]): void;
  cleanup(): void;
}

export function fakeTwin(): FakeTwin {
  const stateDir = mkdtempSync(join(tmpdir(), 'twin-sim-'));
  const twinDir = join(stateDir, 'twin');
  const log = join(stateDir, 'kubectl.log');
  const kubectl = join(stateDir, 'fake-kubectl');
  writeFileSync(kubectl, `#!/bin/sh\necho "$*" >> '${log}'\ncase "$*" in *jsonpath*) printf True;; esac\nexit 0\n`);
  chmodSync(kubectl, 0o755);
  const kubeconfig = join(stateDir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: homelab, cluster: {server: "https://127.0.0.1:1", certificate-authority-data: eA==}}]
users: [{name: admin, user: {client-certificate-data: eA==, client-key-data: eA==}}]
contexts: [{name: homelab, context: {cluster: homelab, user: admin}}]
current-context: homelab
`,
  );
  mkdirSync(join(twinDir, 'nas', 'volume1', 'k3s-backups'), { recursive: true });
  const inv = loadInventory(inventoryFile);
  const nodeDir = (n: string) => join(twinDir, 'nodes', n);
  for (const n of inv.nodes) {
    prepareNodeRoot(nodeDir(n.name), n, inv, { kubectl, kubeconfig, readyDelayMs: 50, bootMs: 50 });
    const bin = join(nodeDir(n.name), 'names');
    mkdirSync(bin);
    for (const c of COMMAND_TABLE)
      if (c.paths.length) symlinkSync(join(nodeDir(n.name), 'bin', 'twin-sim'), join(bin, c.name));
  }
  return {
    stateDir,
    twinDir,
    nodeDir,
    root: (n, p) => join(nodeDir(n), 'root', p),
    sh(n, script, env = {}) {
      const t0 = performance.now();
      const r = spawnSync('bash', ['-c', script], {
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: `${join(nodeDir(n), 'root', 'usr', 'local', 'bin')}:${join(nodeDir(n), 'names')}:/usr/bin:/bin`,
          HOME: stateDir,
          LANG: 'C',
          ...env,
        },
      });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
    },
    apiCalls() {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        /* none yet */
      }
      rmSync(log, { force: true });
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^--kubeconfig=\S+ --request-timeout=\S+ /, ''));
    },
    setFaults(faults) {
      writeFileSync(join(twinDir, 'faults.json'), JSON.stringify(faults));
    },
    cleanup() {
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
