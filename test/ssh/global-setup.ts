// Starts the ssh suite's nodes: one real sshd per lab node on a free 127.0.0.1
// port (test/ssh/lab.ts), and stops them after. Suites get the lab through
// inject('sshLab'); RUNBOOK_SSH_CONFIG points the runner at the lab's ssh config
// (test identity and known_hosts, no agent) for processes that inherit the env.
import type { TestProject } from 'vitest/node';
import { startSshLab, stopSshLab, type SshLab } from './lab.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    sshLab: SshLab;
  }
}

let lab: SshLab | undefined;

export async function setup(project: TestProject): Promise<void> {
  lab = await startSshLab();
  process.env.RUNBOOK_SSH_CONFIG = lab.configFile;
  project.provide('sshLab', lab);
}

export async function teardown(): Promise<void> {
  if (!lab) return;
  await stopSshLab(lab);
  lab = undefined;
}
