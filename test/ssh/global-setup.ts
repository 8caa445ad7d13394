// Starts the ssh suite's nodes: one real sshd per lab node on a free 127.0.0.1
// port (test/ssh/lab.ts), and stops them after. Suites get the lab through
// inject('sshLab'); RUNBOOK_SSH_CONFIG points the runner at the lab's ssh config
// (test identity and known_hosts, no agent) for processes that inherit the env.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { SSHD, startSshLab, stopSshLab, type SshLab } from './lab.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    sshLab: SshLab;
  }
}

let lab: SshLab | undefined;

/** sshd, and sudo for the `become` node: installed by scripts/install-system-deps when missing (idempotent, needs root). */
function ensurePackages(): void {
  const sudo = spawnSync('sudo', ['-V'], { stdio: 'ignore' }).error === undefined;
  if (existsSync(SSHD) && sudo) return;
  const r = spawnSync('bash', [`${import.meta.dirname}/../../scripts/install-system-deps`], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the ssh suite needs ${SSHD} and sudo: run scripts/install-system-deps as root`);
}

export async function setup(project: TestProject): Promise<void> {
  ensurePackages();
  lab = await startSshLab();
  process.env.RUNBOOK_SSH_CONFIG = lab.configFile;
  project.provide('sshLab', lab);
}

export async function teardown(): Promise<void> {
  if (!lab) return;
  await stopSshLab(lab);
  lab = undefined;
}
