// The CRDs a K3s server installs that the runbooks read: ETCDSnapshotFile
// (k3s.cattle.io/v1, cluster-scoped, K3s 1.27+; docs.k3s.io/cli/etcd-snapshot). Its
// shape follows K3s's own (pkg/crd: the columns SnapshotName, Node, Location, Size,
// CreationTime; no status subresource; the type of k3s-io/api k3s.cattle.io/v1),
// written here as an OpenAPI schema. The twin's simulated `k3s etcd-snapshot`
// (sim/snapshot-objects.ts) creates and deletes its objects.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const str = { type: 'string' };
const bool = { type: 'boolean' };

export const ETCD_SNAPSHOT_FILE_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {
    name: 'etcdsnapshotfiles.k3s.cattle.io',
    labels: { 'app.kubernetes.io/managed-by': 'lab-twin' },
    annotations: {
      'twin.k3s-lab/simulated': 'lab twin: the CRD a K3s server installs (k3s.cattle.io/v1 ETCDSnapshotFile)',
    },
  },
  spec: {
    group: 'k3s.cattle.io',
    names: {
      kind: 'ETCDSnapshotFile',
      listKind: 'ETCDSnapshotFileList',
      plural: 'etcdsnapshotfiles',
      singular: 'etcdsnapshotfile',
    },
    scope: 'Cluster',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        additionalPrinterColumns: [
          { name: 'SnapshotName', type: 'string', jsonPath: '.spec.snapshotName' },
          { name: 'Node', type: 'string', jsonPath: '.spec.nodeName' },
          { name: 'Location', type: 'string', jsonPath: '.spec.location' },
          { name: 'Size', type: 'string', jsonPath: '.status.size' },
          { name: 'CreationTime', type: 'string', jsonPath: '.status.creationTime' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['snapshotName', 'nodeName', 'location'],
                properties: {
                  snapshotName: str,
                  nodeName: str,
                  location: str,
                  metadata: { type: 'object', additionalProperties: str },
                  s3: {
                    type: 'object',
                    properties: {
                      endpoint: str,
                      endpointCA: str,
                      skipSSLVerify: bool,
                      bucket: str,
                      region: str,
                      prefix: str,
                      insecure: bool,
                    },
                  },
                },
              },
              status: {
                type: 'object',
                properties: {
                  size: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  creationTime: { type: 'string', format: 'date-time' },
                  readyToUse: bool,
                  error: {
                    type: 'object',
                    properties: { time: { type: 'string', format: 'date-time' }, message: str },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
} as const;

/** Applies K3s's CRDs and waits until the API serves them (a node's first `etcd-snapshot save` may follow at once). */
export async function installK3sCrds(kubectl: string, kubeconfig: string): Promise<void> {
  const run = async (args: string[], input?: string) => {
    const call = promisify(execFile)(kubectl, [`--kubeconfig=${kubeconfig}`, '--request-timeout=20s', ...args], {
      encoding: 'utf8',
      timeout: 40_000,
    });
    if (input !== undefined) {
      call.child.stdin?.end(input);
    }
    try {
      await call;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message?: string };
      throw new Error(
        `the twin could not install K3s's CRD etcdsnapshotfiles.k3s.cattle.io: ${(e.stderr || e.stdout || e.message || '').trim()}`,
      );
    }
  };
  await run(['apply', '--server-side', '--field-manager=lab-twin', '-f', '-'], JSON.stringify(ETCD_SNAPSHOT_FILE_CRD));
  await run(['wait', '--for=condition=Established', 'crd/etcdsnapshotfiles.k3s.cattle.io', '--timeout=20s']);
}
