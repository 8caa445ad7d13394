import { describe, expect, it } from 'vitest';
import { objectRef, readManifest, sameContent } from '../../runner/cluster/apply.ts';

describe('apply steps: reading the manifest, naming objects, telling unchanged from configured', () => {
  it('reads every document with the line of its first key; empty documents and comments are skipped', () => {
    const m = readManifest(
      '# the namespace\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\n# a map\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: b }\n---\n',
    );
    expect('objects' in m && m.objects.map((o) => [o.line, (o.object.metadata as { name: string }).name])).toEqual([
      [2, 'a'],
      [9, 'b'],
    ]);
  });

  it('refuses what cannot be applied, with the line', () => {
    expect(readManifest('apiVersion: v1\nkind: [\n')).toMatchObject({
      line: 3,
      error: expect.stringMatching(/^invalid YAML/),
    });
    expect(readManifest('- a\n- b\n')).toMatchObject({ line: 1, error: expect.stringContaining('not a mapping') });
    expect(readManifest('kind: ConfigMap\nmetadata: { name: x }\n')).toMatchObject({
      error: expect.stringContaining('lacks apiVersion'),
    });
    expect(readManifest('# nothing\n')).toMatchObject({ error: 'the manifest has no objects' });
  });

  it('names objects as kubectl does', () => {
    expect(objectRef({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' })).toBe('deployment.apps/web');
    expect(objectRef({ apiVersion: 'v1', kind: 'Namespace', name: 'smoke' })).toBe('namespace/smoke');
    expect(objectRef({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'i' })).toBe(
      'ingress.networking.k8s.io/i',
    );
  });

  it('unchanged ignores resourceVersion, managed fields, generation, status and key order; any other difference is configured', () => {
    const before = {
      kind: 'ConfigMap',
      metadata: { name: 'a', resourceVersion: '1', managedFields: [] },
      data: { x: '1', y: '2' },
      status: { p: 1 },
    };
    const after = {
      data: { y: '2', x: '1' },
      metadata: { resourceVersion: '7', name: 'a', managedFields: [{ manager: 'runbook' }], generation: 2 },
      kind: 'ConfigMap',
      status: { p: 2 },
    };
    expect(sameContent(before, after)).toBe(true);
    expect(sameContent(before, { ...after, data: { x: '1', y: '3' } })).toBe(false);
    expect(sameContent(before, { ...after, metadata: { ...after.metadata, labels: { l: 'v' } } })).toBe(false);
  });
});
