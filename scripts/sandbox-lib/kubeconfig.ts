// The sandbox kubeconfig: self-contained (certificates inline), with the
// cluster and context named as in the inventory so runbooks' context guards
// accept it, and the server on its 127.0.0.1 port.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export function writeKubeconfig(
  file: string,
  certDir: string,
  server: string,
  clusterName: string,
  context: string,
): void {
  const b64 = (name: string) => readFileSync(join(certDir, name)).toString('base64');
  const user = `${clusterName}-sandbox-admin`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server, 'certificate-authority-data': b64('ca.crt') } }],
    users: [{ name: user, user: { 'client-certificate-data': b64('admin.crt'), 'client-key-data': b64('admin.key') } }],
    contexts: [{ name: context, context: { cluster: clusterName, user, namespace: 'default' } }],
    'current-context': context,
    preferences: {},
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
}
