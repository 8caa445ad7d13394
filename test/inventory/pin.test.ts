// The edit `runbook inventory pin` makes: one line, every other byte of the file kept.
import { describe, expect, it } from 'vitest';
import { withUid } from '../../runner/inventory/pin.ts';

const UID_A = '11111111-1111-4111-8111-111111111111';
const UID_B = '22222222-2222-4222-8222-222222222222';
const INVENTORY = `# The lab.
cluster:
  name: homelab   # what runbooks name

  context: homelab
  server: https://192.168.2.20:6443  # the VIP
  k3sVersion: v1.34.3+k3s1

nodes:
  - name: k3s-master
`;

describe('withUid', () => {
  it('adds uid under server:, at its indent, and changes nothing else', () => {
    const out = withUid(INVENTORY, UID_A, 'inv.yaml');
    const lines = out.split('\n');
    expect(lines[6]).toBe(`  uid: ${UID_A}`);
    expect(lines.filter((_, i) => i !== 6).join('\n')).toBe(INVENTORY);
  });

  it('replaces an existing uid in place', () => {
    const once = withUid(INVENTORY, UID_A, 'inv.yaml');
    expect(withUid(once, UID_B, 'inv.yaml')).toBe(once.replace(UID_A, UID_B));
  });

  it("follows the file's own indent", () => {
    const four = INVENTORY.replace(/^ {2}/gm, '    ');
    expect(withUid(four, UID_A, 'inv.yaml').split('\n')[6]).toBe(`    uid: ${UID_A}`);
  });

  it('refuses an inventory without a cluster mapping, naming the file', () => {
    expect(() => withUid('nodes: []\n', UID_A, 'inv.yaml')).toThrow(/inv\.yaml has no cluster: mapping/);
  });
});
