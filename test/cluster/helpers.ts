// Shared by the cluster suites: the global sandbox's kubectl and API clients,
// and a poll helper (the cluster converges asynchronously).
import { KubeConfig } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';

export function sandbox(): { kubeconfig: string; kubectlPath: string; kc: KubeConfig } {
  const kubeconfig = inject('kubeconfig');
  const kubectlPath = inject('kubectl');
  if (!kubeconfig || !kubectlPath) throw new Error('no sandbox: run these suites in the vitest project "cluster"');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kubeconfig, kubectlPath, kc };
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the sandbox's kubectl against the sandbox only (KUBECONFIG is set explicitly). */
export function kubectl(args: string[], input?: string): Run {
  const { kubeconfig, kubectlPath } = sandbox();
  const r = spawnSync(kubectlPath, args, {
    encoding: 'utf8',
    input,
    timeout: 90_000,
    env: { ...process.env, KUBECONFIG: kubeconfig, HOME: process.env.HOME ?? '/tmp' },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}

/** kubectl that must succeed; returns stdout. */
export function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Polls fn until it returns a value other than undefined/false, or fails with the last observation. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** A fresh namespace name per suite run, so suites never see each other's objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}
