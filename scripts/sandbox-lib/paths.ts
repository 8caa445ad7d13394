// Where the sandbox's inputs and state live.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const clusterDir = join(repoRoot, 'test', 'cluster');
export const buildScript = join(clusterDir, 'build.sh');
export const kwokStages = join(clusterDir, 'kwok', 'stages.yaml');
export const defaultInventory = join(repoRoot, 'src', 'content', 'lab', 'inventory.yaml');

/** One sandbox per state dir; `up`, `down`, `status` and `env` agree on this default. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'k3s-lab-runbooks', 'sandbox');
}
