import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runbook } from '../helpers/cli.ts';
import { makeLab, type Lab } from '../run/helpers.ts';

/**
 * The read-only promise end to end: a real `runbook run` of a page whose check step calls a
 * (fake) kubectl. The unit suite proves the shims; this proves the runner puts them in front of
 * every check step, and only check steps, and that the record says so.
 */
let lab: Lab | undefined;
afterEach(() => lab?.cleanup());

function fakeKubectl(dir: string, tool = 'kubectl'): { bin: string; calls: string } {
  const bin = join(dir, 'bin');
  const calls = join(dir, `${tool}-calls`);
  mkdirSync(bin, { recursive: true });
  const script = `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> ${JSON.stringify(calls)}\necho "${tool} ran: $*"\n`;
  writeFileSync(join(bin, tool), script);
  chmodSync(join(bin, tool), 0o755);
  writeFileSync(calls, '');
  return { bin, calls };
}

describe('runbook run: check steps run read-only', () => {
  it('a check step reads through kubectl, is refused a write, and its record is marked readOnly', () => {
    lab = makeLab();
    const { bin, calls } = fakeKubectl(lab.dir);
    const page = lab.runbook(
      'ro-check',
      [
        '```bash step=read check',
        'kubectl get nodes -o wide',
        '```',
        '',
        '```bash step=write check',
        // A verb only known at run time: check cannot see it, so the shim is what refuses it.
        'verb=apply',
        'kubectl "$verb" -f manifest.yaml',
        '```',
        '',
      ].join('\n'),
    );
    const r = runbook(['run', page, ...lab.flags], { env: { ...lab.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(readFileSync(calls, 'utf8')).toBe('get nodes -o wide\n');
    const record = lab.onlyRecord();
    const [read, write] = record.steps;
    expect(read).toMatchObject({ id: 'read', status: 'succeeded', readOnly: true });
    expect(read!.output).toContain('kubectl ran: get nodes -o wide');
    expect(write).toMatchObject({ id: 'write', status: 'failed', exitCode: 3, readOnly: true });
    expect(write!.output).toContain('runbook: check step is read-only: kubectl apply refused');
  });

  it('k3s crictl/ctr in a check step: reads reach k3s unchanged, a write known only at run time is refused', () => {
    lab = makeLab();
    const { bin, calls } = fakeKubectl(lab.dir, 'k3s');
    const page = lab.runbook(
      'ro-crictl',
      [
        '```bash step=read check',
        'k3s crictl ps -a',
        'k3s ctr -n k8s.io images ls -q',
        '```',
        '',
        '```bash step=prune check',
        'verb=rmi',
        'k3s crictl "$verb" --prune',
        '```',
        '',
      ].join('\n'),
    );
    const r = runbook(['run', page, ...lab.flags], { env: { ...lab.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(readFileSync(calls, 'utf8')).toBe('crictl ps -a\nctr -n k8s.io images ls -q\n');
    const [read, prune] = lab.onlyRecord().steps;
    expect(read).toMatchObject({ id: 'read', status: 'succeeded', readOnly: true });
    expect(prune).toMatchObject({ id: 'prune', status: 'failed', exitCode: 3, readOnly: true });
    expect(prune!.output).toContain('runbook: check step is read-only: crictl rmi refused');
  });

  it('a step without the check flag runs kubectl as it is, and is not marked', () => {
    lab = makeLab();
    const { bin, calls } = fakeKubectl(lab.dir);
    const page = lab.runbook('ro-plain', '```bash step=label\nkubectl label node node-1 lab=yes\n```\n');
    const r = runbook(['run', page, ...lab.flags], { env: { ...lab.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(calls, 'utf8')).toBe('label node node-1 lab=yes\n');
    expect(lab.onlyRecord().steps[0]!.readOnly).toBeUndefined();
  });
});
