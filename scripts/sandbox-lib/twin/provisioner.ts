// The twin's storage provisioner, SIMULATED: what csi-driver-nfs's controller (with its
// csi-provisioner and csi-resizer sidecars) and K3s's local-path-provisioner do for the
// lab's storage classes, so a new claim gets a volume and is Bound, and an expanded claim
// grows. It acts through the API only, as those controllers do; the sandbox's
// kube-controller-manager does the binding (its PV controller binds a claim to the PV
// whose claimRef names it). It talks to the sandbox API on 127.0.0.1 only.
//
//   Like external-provisioner, it takes only claims the PV controller annotated
//   volume.kubernetes.io/storage-provisioner=<its provisioner> (no existing volume fits them).
//   nfs.csi.k8s.io (csi-driver-nfs, github.com/kubernetes-csi/csi-driver-nfs docs/driver-parameters.md):
//     the directory <share>/<subDir> is made under the NAS twin's export (<state>/twin/nas/…),
//     subDir from the StorageClass parameters with ${pvc.metadata.namespace},
//     ${pvc.metadata.name} and ${pv.metadata.name} replaced (the PV's name when there is no
//     subDir); the PV is pvc-<claim uid> with spec.csi {driver, volumeHandle
//     server#share#subDir#pvName[#onDelete], volumeAttributes}. A released volume of
//     reclaim policy Delete is archived (onDelete: archive → archived-<subDir>), kept
//     (retain) or removed (delete, the default), then its PV deleted.
//   rancher.io/local-path (K3s's local-storage, docs.k3s.io/storage): a
//     WaitForFirstConsumer class, so only a claim the scheduler has picked a node for
//     (annotation volume.kubernetes.io/selected-node); the directory
//     /var/lib/rancher/k3s/storage/<pv>_<namespace>_<claim> in that node's root, a hostPath
//     PV with node affinity to it.
//   expansion (allowVolumeExpansion: true): a bound claim whose request exceeds its PV's
//     capacity gets the PV's capacity raised and status.capacity set, as csi-resizer does
//     for a driver that needs no node expansion (NFS).
//
// Run by twin/index.ts as its own process (`node provisioner.ts <config.json>`, its own
// process group, stopped by `down`); the config names the kubeconfig, the NAS twin and the nodes.
import { mkdirSync, readFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const NFS_DRIVER = 'nfs.csi.k8s.io';
export const LOCAL_PATH = 'rancher.io/local-path';
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** Set by kube-controller-manager's PV controller on a claim no existing volume can take: the provisioner's cue. */
const STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
const STORAGE_PROVISIONER_BETA = 'volume.beta.kubernetes.io/storage-provisioner';
const SIMULATED = 'twin.k3s-lab/simulated';
/** The label twin/workloads.ts puts on what it applies (app.kubernetes.io/managed-by: lab-twin). */
const LAB_WORKLOAD_LABEL = 'app.kubernetes.io/managed-by';
export const LOCAL_PATH_DIR = '/var/lib/rancher/k3s/storage';

export interface ProvisionerConfig {
  kubeconfig: string;
  /** <state>/twin/nas: the NAS twin's exports live under it by their paths. */
  nasDir?: string;
  /** Every name the NAS answers to in a StorageClass's `server` (the inventory's address and name). */
  nasServers: string[];
  /** <state>/twin/nodes: <node>/root is a node's file tree. */
  nodesDir: string;
  intervalMs?: number;
}

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}
interface StorageClass {
  metadata: Meta;
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  mountOptions?: string[];
  allowVolumeExpansion?: boolean;
  volumeBindingMode?: string;
}
interface Claim {
  metadata: Meta;
  spec: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: { storage?: string } };
  };
  status?: { phase?: string; capacity?: { storage?: string } };
}
interface Volume {
  metadata: Meta;
  spec: {
    storageClassName?: string;
    persistentVolumeReclaimPolicy?: string;
    capacity?: { storage?: string };
    claimRef?: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string | undefined };
    csi?: { driver?: string; volumeHandle?: string; volumeAttributes?: Record<string, string> };
    hostPath?: { path?: string };
    nodeAffinity?: { required?: { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ values?: string[] }> }> } };
  };
  status?: { phase?: string };
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** A storage quantity in bytes ("16Mi", "10Gi", "1G", "500"); NaN when it is not one. */
export function quantityBytes(q: string | undefined): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q ?? '').trim());
  const unit = m ? UNITS[m[2] ?? ''] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : Number.NaN;
}

/** csi-driver-nfs's subDir template with the claim's and volume's names put in. */
export function nfsSubDir(
  template: string | undefined,
  claim: { namespace: string; name: string },
  pvName: string,
): string {
  if (!template) return pvName;
  return template
    .replaceAll('${pvc.metadata.namespace}', claim.namespace)
    .replaceAll('${pvc.metadata.name}', claim.name)
    .replaceAll('${pv.metadata.name}', pvName);
}

/** The volume handle csi-driver-nfs gives a volume: server#share#subDir#pvName, with #onDelete when it is retain or archive. */
export function nfsVolumeHandle(
  server: string,
  share: string,
  subDir: string,
  pvName: string,
  onDelete?: string,
): string {
  const trim = (s: string) => s.replace(/^\/+|\/+$/g, '');
  const parts = [trim(server), trim(share), trim(subDir), pvName];
  if (onDelete && /^(retain|archive)$/i.test(onDelete)) parts.push(onDelete);
  return parts.join('#');
}

type NewVolume = { apiVersion: string; kind: string; metadata: Meta; spec: Record<string, unknown> };

/** What every provisioned PV of a claim has: its name pvc-<claim uid>, size, modes, class, and claimRef with the uid. */
function volumeFor(
  claim: Claim,
  sc: StorageClass,
  annotations: Record<string, string>,
  source: Record<string, unknown>,
): NewVolume {
  const ns = claim.metadata.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `pvc-${claim.metadata.uid}`, annotations },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '1Gi' },
      accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: claim.spec.volumeMode ?? 'Filesystem',
      ...(sc.mountOptions?.length ? { mountOptions: sc.mountOptions } : {}),
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: ns,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
      },
      ...source,
    },
  };
}

/** The PV csi-driver-nfs's provisioner would create for a claim (the directory is made separately). */
export function nfsVolume(claim: Claim, sc: StorageClass): { pv: NewVolume; share: string; subDir: string } {
  const ns = claim.metadata.namespace ?? 'default';
  const pvName = `pvc-${claim.metadata.uid}`;
  const p = sc.parameters ?? {};
  const share = p.share ?? '/';
  const subDir = nfsSubDir(p.subDir, { namespace: ns, name: claim.metadata.name }, pvName);
  const pv = volumeFor(
    claim,
    sc,
    { [PROVISIONED_BY]: NFS_DRIVER, [SIMULATED]: 'lab twin: provisioned by the simulated csi-driver-nfs' },
    {
      csi: {
        driver: NFS_DRIVER,
        volumeHandle: nfsVolumeHandle(p.server ?? '', share, subDir, pvName, p.onDelete),
        volumeAttributes: {
          server: p.server ?? '',
          share,
          subdir: subDir,
          'csi.storage.k8s.io/pv/name': pvName,
          'csi.storage.k8s.io/pvc/name': claim.metadata.name,
          'csi.storage.k8s.io/pvc/namespace': ns,
          ...(p.onDelete ? { onDelete: p.onDelete } : {}),
        },
      },
    },
  );
  return { pv, share, subDir };
}

/** The PV local-path-provisioner would create on `node` (local-path gives no mount options). */
export function localPathVolume(claim: Claim, sc: StorageClass, node: string): { pv: NewVolume; path: string } {
  const path = `${LOCAL_PATH_DIR}/pvc-${claim.metadata.uid}_${claim.metadata.namespace ?? 'default'}_${claim.metadata.name}`;
  const pv = volumeFor(
    claim,
    { ...sc, mountOptions: [] },
    {
      [PROVISIONED_BY]: LOCAL_PATH,
      'local.path.provisioner/selected-node': node,
      [SIMULATED]: 'lab twin: provisioned by the simulated local-path-provisioner',
    },
    {
      hostPath: { path, type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
          ],
        },
      },
    },
  );
  return { pv, path };
}

type Api = import('../../../runner/cluster/api.ts').Cluster;

export class Provisioner {
  private readonly cfg: ProvisionerConfig;
  private readonly api: Api;
  private readonly log: (line: string) => void;

  constructor(
    cfg: ProvisionerConfig,
    api: Api,
    log: (line: string) => void = (l) => process.stdout.write(`${new Date().toISOString()} ${l}\n`),
  ) {
    this.cfg = cfg;
    this.api = api;
    this.log = log;
  }

  private async list<T>(path: string): Promise<T[]> {
    const r = await this.api.request('GET', path);
    return (r.body as { items?: T[] })?.items ?? [];
  }

  private async patch(path: string, body: unknown): Promise<void> {
    await this.api.request('PATCH', path, { body: JSON.stringify(body), contentType: 'application/merge-patch+json' });
  }

  /** The NAS twin's directory for an export path, when the server is the NAS and the share one of its exports (or below one). */
  nasPath(server: string, share: string): string | undefined {
    if (!this.cfg.nasDir || !this.cfg.nasServers.includes(server)) return undefined;
    const dir = resolve(this.cfg.nasDir, `.${resolve('/', share)}`);
    return dir.startsWith(resolve(this.cfg.nasDir)) && existsSync(dir) ? dir : undefined;
  }

  /** One pass over the API: provision, expand, reclaim. Errors of one object are logged and the rest go on. */
  async reconcile(): Promise<void> {
    const classes = new Map(
      (await this.list<StorageClass>('/apis/storage.k8s.io/v1/storageclasses'))
        .filter((c) => c.provisioner === NFS_DRIVER || c.provisioner === LOCAL_PATH)
        .map((c) => [c.metadata.name, c]),
    );
    const [claims, volumes] = await Promise.all([
      this.list<Claim>('/api/v1/persistentvolumeclaims'),
      this.list<Volume>('/api/v1/persistentvolumes'),
    ]);
    const pvNames = new Set(volumes.map((v) => v.metadata.name));
    // A volume pre-bound to a claim by name (claimRef) is that claim's: the PV controller binds them.
    const preBound = new Set(
      volumes.flatMap((v) => (v.spec.claimRef?.name ? [`${v.spec.claimRef.namespace}/${v.spec.claimRef.name}`] : [])),
    );
    for (const claim of claims) {
      const sc = classes.get(claim.spec.storageClassName ?? '');
      if (!sc || claim.metadata.deletionTimestamp) continue;
      try {
        if (!claim.spec.volumeName && claim.status?.phase !== 'Bound') {
          // As external-provisioner: only a claim the PV controller handed to this provisioner
          // (a claim a pre-bound volume waits for, such as the lab's static ones, never gets the annotation).
          const to =
            claim.metadata.annotations?.[STORAGE_PROVISIONER] ?? claim.metadata.annotations?.[STORAGE_PROVISIONER_BETA];
          // The lab's own claims (src/content/lab/workloads.yaml) come with their static volumes, made by
          // twin/workloads.ts just after the claims: they are never provisioned here.
          const labs = claim.metadata.labels?.[LAB_WORKLOAD_LABEL] === 'lab-twin';
          const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
          if (to === sc.provisioner && !labs && !preBound.has(key) && !pvNames.has(`pvc-${claim.metadata.uid}`))
            await this.provision(claim, sc);
        } else if (sc.allowVolumeExpansion && claim.status?.phase === 'Bound') {
          const pv = volumes.find((v) => v.metadata.name === claim.spec.volumeName);
          if (pv) await this.expand(claim, pv);
        }
      } catch (err) {
        this.log(`claim ${claim.metadata.namespace}/${claim.metadata.name}: ${(err as Error).message}`);
      }
    }
    for (const pv of volumes) {
      try {
        await this.reclaim(pv, classes);
        this.ensureNfsDir(pv);
      } catch (err) {
        this.log(`volume ${pv.metadata.name}: ${(err as Error).message}`);
      }
    }
  }

  private async provision(claim: Claim, sc: StorageClass): Promise<void> {
    const who = `${claim.metadata.namespace}/${claim.metadata.name}`;
    if (sc.provisioner === NFS_DRIVER) {
      const { pv, share, subDir } = nfsVolume(claim, sc);
      const base = this.nasPath(sc.parameters?.server ?? '', share);
      if (!base) {
        this.log(
          `claim ${who}: not provisioned: ${sc.parameters?.server}:${share} is not an export of the NAS twin (as csi-driver-nfs would fail to mount it)`,
        );
        return;
      }
      mkdirSync(join(base, subDir), { recursive: true, mode: 0o777 });
      await this.api.core.createPersistentVolume({ body: pv as never });
      this.log(`claim ${who}: provisioned ${pv.metadata.name} (${sc.parameters?.server}:${share}/${subDir})`);
      return;
    }
    const node = claim.metadata.annotations?.[SELECTED_NODE];
    if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !node) return; // the scheduler picks the node first
    if (!node) {
      this.log(`claim ${who}: local-path needs a node (no ${SELECTED_NODE})`);
      return;
    }
    const { pv, path } = localPathVolume(claim, sc, node);
    const root = join(this.cfg.nodesDir, node, 'root');
    if (!existsSync(root)) {
      this.log(`claim ${who}: node ${node} is no twin machine`);
      return;
    }
    mkdirSync(join(root, path), { recursive: true, mode: 0o777 });
    await this.api.core.createPersistentVolume({ body: pv as never });
    this.log(`claim ${who}: provisioned ${pv.metadata.name} (${node}:${path})`);
  }

  private async expand(claim: Claim, pv: Volume): Promise<void> {
    const want = claim.spec.resources?.requests?.storage;
    const have = pv.spec.capacity?.storage;
    if (!want || !(quantityBytes(want) > quantityBytes(have))) {
      // The PV already has it: the claim's status follows (a resize cut short between the two patches).
      if (
        want &&
        claim.status?.capacity?.storage !== want &&
        quantityBytes(have) >= quantityBytes(want) &&
        quantityBytes(claim.status?.capacity?.storage) < quantityBytes(want)
      ) {
        await this.patch(
          `/api/v1/namespaces/${claim.metadata.namespace}/persistentvolumeclaims/${claim.metadata.name}/status`,
          { status: { capacity: { storage: have } } },
        );
      }
      return;
    }
    await this.patch(`/api/v1/persistentvolumes/${pv.metadata.name}`, { spec: { capacity: { storage: want } } });
    await this.patch(
      `/api/v1/namespaces/${claim.metadata.namespace}/persistentvolumeclaims/${claim.metadata.name}/status`,
      { status: { capacity: { storage: want }, allocatedResources: { storage: want }, conditions: null } },
    );
    this.log(
      `claim ${claim.metadata.namespace}/${claim.metadata.name}: expanded ${pv.metadata.name} from ${have} to ${want}`,
    );
  }

  private async reclaim(pv: Volume, classes: Map<string, StorageClass>): Promise<void> {
    const by = pv.metadata.annotations?.[PROVISIONED_BY];
    if (
      (by !== NFS_DRIVER && by !== LOCAL_PATH) ||
      pv.status?.phase !== 'Released' ||
      pv.spec.persistentVolumeReclaimPolicy !== 'Delete'
    )
      return;
    if (by === NFS_DRIVER) {
      const a = pv.spec.csi?.volumeAttributes ?? {};
      const onDelete =
        a.onDelete ??
        pv.spec.csi?.volumeHandle?.split('#')[4] ??
        classes.get(pv.spec.storageClassName ?? '')?.parameters?.onDelete ??
        'delete';
      const base = this.nasPath(a.server ?? '', a.share ?? '/');
      const dir = base && a.subdir ? join(base, a.subdir) : undefined;
      if (dir && existsSync(dir)) {
        if (/^archive$/i.test(onDelete)) {
          const to = join(base!, `archived-${a.subdir!.replaceAll('/', '-')}`);
          renameSync(dir, existsSync(to) ? `${to}-${Date.now()}` : to);
        } else if (!/^retain$/i.test(onDelete)) {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    } else {
      const node = pv.spec.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values?.[0];
      const path = pv.spec.hostPath?.path;
      if (node && path?.startsWith(`${LOCAL_PATH_DIR}/`))
        rmSync(join(this.cfg.nodesDir, node, 'root', path), { recursive: true, force: true });
    }
    await this.api.core.deletePersistentVolume({ name: pv.metadata.name });
    this.log(`volume ${pv.metadata.name}: released and deleted (${by})`);
  }

  /** Every NFS volume's directory exists on the NAS twin (the lab's static volumes too, made before the provisioner ran). */
  private ensureNfsDir(pv: Volume): void {
    const a = pv.spec.csi?.driver === NFS_DRIVER ? pv.spec.csi.volumeAttributes : undefined;
    if (!a?.subdir || pv.status?.phase !== 'Bound') return;
    const base = this.nasPath(a.server ?? '', a.share ?? '/');
    if (base && !existsSync(join(base, a.subdir))) mkdirSync(join(base, a.subdir), { recursive: true, mode: 0o777 });
  }
}

/** The process: reconcile every intervalMs until SIGTERM. */
async function main(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as ProvisionerConfig;
  const { connectCluster } = await import('../../../runner/cluster/api.ts');
  const api = await connectCluster(cfg.kubeconfig);
  const p = new Provisioner(cfg, api);
  // Every pass is idempotent: stopping mid-pass leaves nothing a next start would not finish.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
  console.log(
    `${new Date().toISOString()} lab twin storage provisioner (simulated csi-driver-nfs and local-path) started`,
  );
  let lastError = '';
  for (;;) {
    try {
      await p.reconcile();
      lastError = '';
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== lastError) console.log(`${new Date().toISOString()} ${msg}`);
      lastError = msg;
    }
    await sleep(cfg.intervalMs ?? 500);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv[2] ?? '').catch((err: unknown) => {
    console.error(`lab twin storage provisioner: ${(err as Error).message}`);
    process.exit(1);
  });
}

/**
 * Where a volume's files live on the host: the NAS twin's <share>/<subdir> for an NFS volume of
 * the NAS (csi-driver-nfs's or the lab's static ones), the node root's path for a hostPath
 * (local-path) volume; undefined otherwise. For the simulated pods that mount a claim
 * (twin/pods), so the writes of one pod are the reads of the next, as on the NAS.
 */
export function volumeHostDir(
  twinDir: string,
  pv: { spec?: Volume['spec'] },
  nasServers: string[],
): string | undefined {
  const a = pv.spec?.csi?.driver === NFS_DRIVER ? pv.spec.csi.volumeAttributes : undefined;
  if (a?.server && nasServers.includes(a.server)) {
    const nas = resolve(twinDir, 'nas');
    const dir = resolve(nas, `.${resolve('/', a.share ?? '/', a.subdir ?? '')}`);
    return dir.startsWith(nas) ? dir : undefined;
  }
  const path = pv.spec?.hostPath?.path;
  const node = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values?.[0];
  if (path && node) {
    const root = resolve(twinDir, 'nodes', node, 'root');
    const dir = resolve(root, `.${resolve('/', path)}`);
    return dir.startsWith(root) ? dir : undefined;
  }
  return undefined;
}
