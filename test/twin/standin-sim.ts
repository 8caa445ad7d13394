// A minimal stand-in for the twin's simulator (scripts/sandbox-lib/twin/sim/), used by the
// `twin` tests only while the real one is not in the checkout: a command table of a few
// commands, node files as K3s lays them out, and an entry that names itself a stand-in.
// The machine tests need no K3s behaviour: only that commands reach "the simulator".
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Simulator } from '../../scripts/sandbox-lib/twin/index.ts';

export const standinEntry = join(import.meta.dirname, 'standin-sim-main.ts');

export const standinSimulator: Simulator = {
  commands: [
    { name: 'systemctl', paths: ['/usr/bin/systemctl'] },
    { name: 'curl', paths: ['/usr/bin/curl'] },
    { name: 'arping', paths: ['/usr/sbin/arping'] },
    { name: 'mount.nfs', paths: ['/sbin/mount.nfs'] },
    { name: 'k3s', paths: ['/usr/local/bin/k3s'] },
  ],
  entry: standinEntry,
  prepareNodeRoot(nodeDir, node) {
    const root = join(nodeDir, 'root');
    const server = node.roles.includes('server');
    mkdirSync(join(root, 'etc/rancher/k3s'), { recursive: true });
    writeFileSync(join(root, 'etc/rancher/k3s/config.yaml'), `# ${node.name}\nnode-name: ${node.name}\n`);
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    writeFileSync(
      join(root, `etc/systemd/system/${server ? 'k3s' : 'k3s-agent'}.service`),
      '[Service]\nExecStart=/usr/local/bin/k3s\n',
    );
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/local/bin/k3s'), `#!/bin/sh\necho "k3s stand-in on ${node.name}"\n`, { mode: 0o755 });
    if (server) {
      mkdirSync(join(root, 'var/lib/rancher/k3s/server/db/snapshots'), { recursive: true });
      writeFileSync(join(root, 'var/lib/rancher/k3s/server/token'), `K10stand-in::server:${node.name}\n`, {
        mode: 0o600,
      });
    }
    if (!existsSync(join(root, 'var/lib/rancher'))) mkdirSync(join(root, 'var/lib/rancher'), { recursive: true });
  },
};
