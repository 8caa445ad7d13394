import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contextMismatch, readKubeconfig } from '../../runner/cluster/kubeconfig.ts';
import { kubeconfigText, makeLab, type Lab } from './helpers.ts';

let lab: Lab;
beforeEach(() => {
  lab = makeLab();
});
afterEach(() => lab.cleanup());

const cluster = { name: 'homelab', context: 'lab-test', server: 'https://127.0.0.1:6443', k3sVersion: 'v1.34.3+k3s1' };

describe('the context guard reads kubeconfig files as kubectl merges them', () => {
  it('takes the first current-context and the first definition of each name across KUBECONFIG files; skips missing files', () => {
    const a = join(lab.dir, 'a');
    const b = join(lab.dir, 'b');
    writeFileSync(a, kubeconfigText('lab-test', 'https://127.0.0.1:6443', ''));
    writeFileSync(b, kubeconfigText('lab-test', 'https://127.0.0.7:6443', 'lab-test'));
    const view = readKubeconfig({ KUBECONFIG: [join(lab.dir, 'missing'), a, b].join(':') });
    expect(view).toMatchObject({ context: 'lab-test', server: 'https://127.0.0.1:6443', contextExists: true });
    expect(contextMismatch(cluster, view, 'inv.yaml')).toBeUndefined();
  });

  it('uses --context over current-context, and defaults to ~/.kube/config', () => {
    writeFileSync(lab.kubeconfig, kubeconfigText('lab-test', 'https://127.0.0.1:6443', 'something-else'));
    expect(readKubeconfig({ KUBECONFIG: lab.kubeconfig }, 'lab-test').context).toBe('lab-test');
    expect(readKubeconfig({ HOME: '/nowhere' }).files).toEqual(['/nowhere/.kube/config']);
  });

  it('explains a wrong server, a wrong name, an unknown context and a missing one', () => {
    const at = (server: string, name = 'lab-test') => ({ files: ['k'], context: name, server, contextExists: true });
    expect(contextMismatch(cluster, at('https://127.0.0.2:6443'), 'inv.yaml')).toMatch(
      /expected context "lab-test" with server https:\/\/127.0.0.1:6443 \(cluster homelab in inv.yaml\), found context "lab-test" with server https:\/\/127.0.0.2:6443/,
    );
    expect(contextMismatch(cluster, at('https://127.0.0.1:6443', 'default'), 'inv.yaml')).toContain(
      'found context "default"',
    );
    expect(contextMismatch(cluster, at('https://127.0.0.1:6443/'), 'inv.yaml')).toBeUndefined();
    expect(contextMismatch(cluster, { files: ['k'], context: 'ghost', contextExists: false }, 'inv.yaml')).toContain(
      'context "ghost" does not exist',
    );
    expect(contextMismatch(cluster, { files: ['k'], contextExists: false }, 'inv.yaml')).toContain(
      'no kube context is set',
    );
  });

  it('names the file when a kubeconfig is not YAML', () => {
    writeFileSync(lab.kubeconfig, 'contexts: [unclosed');
    expect(() => readKubeconfig({ KUBECONFIG: lab.kubeconfig })).toThrow(lab.kubeconfig);
  });
});
