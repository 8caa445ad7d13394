// src/content/lab/workloads.yaml as Kubernetes objects for the twin: the
// namespaces, storage classes, statically bound PV/PVC pairs (the sandbox has
// no provisioner), Deployments/DaemonSets/StatefulSets with tiny pod templates
// kwok "runs", Services, PDBs, minimal CRDs and their instances, and the
// status each controller the sandbox lacks (MetalLB, cert-manager, Velero)
// would write. Pure: no API calls here (workloads.ts applies them).
import type { LabCustomResource, LabNamespace, LabWorkload, LabWorkloads } from './workloads-schema.ts';

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** Every object the twin applies carries these labels (and field manager lab-twin). */
export const TWIN_LABEL = 'twin.k3s-lab/workload';
export const TWIN_LABELS = { [TWIN_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'lab-twin' } as const;
export const TWIN_SELECTOR = `${TWIN_LABEL}=true`;
/** kwok starts no containers; the image is never pulled. */
export const POD_IMAGE = 'registry.k8s.io/pause:3.10';

/** The minimal CRDs: group, names and the products' printer columns. */
export interface CrdSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  scope: 'Namespaced' | 'Cluster';
  shortNames?: string[];
  categories?: string[];
  columns: Array<{ name: string; type: string; jsonPath: string; priority?: number }>;
}

const readyColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const statusColumn = {
  name: 'Status',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].message',
  priority: 1,
};
const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const CRDS: Record<LabCustomResource['kind'], CrdSpec> = {
  IPAddressPool: {
    group: 'metallb.io',
    version: 'v1beta1',
    kind: 'IPAddressPool',
    plural: 'ipaddresspools',
    singular: 'ipaddresspool',
    scope: 'Namespaced',
    columns: [
      { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
      { name: 'Avoid Buggy IPs', type: 'boolean', jsonPath: '.spec.avoidBuggyIPs' },
      { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses' },
    ],
  },
  L2Advertisement: {
    group: 'metallb.io',
    version: 'v1beta1',
    kind: 'L2Advertisement',
    plural: 'l2advertisements',
    singular: 'l2advertisement',
    scope: 'Namespaced',
    columns: [
      { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
      { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
      { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
      { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
    ],
  },
  ClusterIssuer: {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'ClusterIssuer',
    plural: 'clusterissuers',
    singular: 'clusterissuer',
    scope: 'Cluster',
    categories: ['cert-manager'],
    columns: [readyColumn, statusColumn, ageColumn],
  },
  Certificate: {
    group: 'cert-manager.io',
    version: 'v1',
    kind: 'Certificate',
    plural: 'certificates',
    singular: 'certificate',
    scope: 'Namespaced',
    shortNames: ['cert', 'certs'],
    categories: ['cert-manager'],
    columns: [
      readyColumn,
      { name: 'Secret', type: 'string', jsonPath: '.spec.secretName' },
      { name: 'Issuer', type: 'string', jsonPath: '.spec.issuerRef.name', priority: 1 },
      statusColumn,
      ageColumn,
    ],
  },
  BackupStorageLocation: {
    group: 'velero.io',
    version: 'v1',
    kind: 'BackupStorageLocation',
    plural: 'backupstoragelocations',
    singular: 'backupstoragelocation',
    scope: 'Namespaced',
    columns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Last Validated', type: 'date', jsonPath: '.status.lastValidationTime' },
      ageColumn,
      { name: 'Default', type: 'boolean', jsonPath: '.spec.default' },
    ],
  },
};

export function crdManifest(c: CrdSpec): KubeObject {
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${c.plural}.${c.group}`, labels: { ...TWIN_LABELS } },
    spec: {
      group: c.group,
      scope: c.scope,
      names: {
        kind: c.kind,
        listKind: `${c.kind}List`,
        plural: c.plural,
        singular: c.singular,
        ...(c.shortNames ? { shortNames: c.shortNames } : {}),
        ...(c.categories ? { categories: c.categories } : {}),
      },
      versions: [
        {
          name: c.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: c.columns,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open } } },
        },
      ],
    },
  };
}

/** The nodes workloads are placed on (the sandbox inventory's). */
export interface PlacementNode {
  name: string;
  roles: string[];
}

/** Kubernetes API path of an object (the kinds this module makes). */
export function objectPath(o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}): string {
  const builtin: Record<string, [string, string, boolean]> = {
    Namespace: ['/api/v1', 'namespaces', false],
    PersistentVolume: ['/api/v1', 'persistentvolumes', false],
    PersistentVolumeClaim: ['/api/v1', 'persistentvolumeclaims', true],
    Service: ['/api/v1', 'services', true],
    Secret: ['/api/v1', 'secrets', true],
    StorageClass: ['/apis/storage.k8s.io/v1', 'storageclasses', false],
    CSIDriver: ['/apis/storage.k8s.io/v1', 'csidrivers', false],
    PodDisruptionBudget: ['/apis/policy/v1', 'poddisruptionbudgets', true],
    Deployment: ['/apis/apps/v1', 'deployments', true],
    DaemonSet: ['/apis/apps/v1', 'daemonsets', true],
    StatefulSet: ['/apis/apps/v1', 'statefulsets', true],
    CustomResourceDefinition: ['/apis/apiextensions.k8s.io/v1', 'customresourcedefinitions', false],
    // What the lab's past runs applied (history.ts: the nightly dump of postgres-backup).
    ServiceAccount: ['/api/v1', 'serviceaccounts', true],
    Role: ['/apis/rbac.authorization.k8s.io/v1', 'roles', true],
    RoleBinding: ['/apis/rbac.authorization.k8s.io/v1', 'rolebindings', true],
    CronJob: ['/apis/batch/v1', 'cronjobs', true],
    Job: ['/apis/batch/v1', 'jobs', true],
  };
  const crd = CRDS[o.kind as LabCustomResource['kind']];
  const [prefix, plural, namespaced] =
    builtin[o.kind] ??
    (crd ? [`/apis/${crd.group}/${crd.version}`, crd.plural, crd.scope === 'Namespaced'] : undefined) ??
    (() => {
      throw new Error(`the twin does not know where ${o.kind} objects live`);
    })();
  const ns = namespaced ? `/namespaces/${encodeURIComponent(o.metadata.namespace ?? 'default')}` : '';
  return `${prefix}${ns}/${plural}/${encodeURIComponent(o.metadata.name)}`;
}

/** What the twin applies, in the order it must: each phase after the one before. */
export interface TwinManifests {
  /** Cluster-scoped and namespaces: CRDs, namespaces, storage classes, the CSI driver. */
  foundation: KubeObject[];
  /** Once the CRDs are established: PVCs, Services, PDBs, Deployments, DaemonSets, custom resources. */
  objects: KubeObject[];
  /**
   * Workloads that mount claims, once every claim is Bound: a pod scheduled while its claim
   * is still unbound waits in the scheduler's backoff queue for minutes.
   */
  afterClaims: KubeObject[];
  /**
   * One PV per PVC, applied once its PVC exists with the claim's uid in claimRef, as a
   * provisioner does: the PV controller then binds the pair at once (a PV pre-bound by
   * name only waits for the controller's next resync of the claim, up to 15 s).
   */
  volumes: Array<{ claim: { namespace: string; name: string }; pv: KubeObject }>;
  /** Status subresource patches: LoadBalancer ingress, Ready conditions, phases. */
  statuses: KubeObject[];
  /** The workloads `up` waits for. */
  workloads: Array<{ kind: LabWorkload['kind']; namespace: string; name: string }>;
}

const labelled = (extra?: Record<string, string>) => ({ ...extra, ...TWIN_LABELS });

function podPlacement(on: LabWorkload['on']): Record<string, unknown> {
  if (on === 'all') return { tolerations: [{ operator: 'Exists' }] };
  if (on === 'any') {
    return {
      tolerations: [
        { key: 'CriticalAddonsOnly', operator: 'Exists' },
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
      ],
    };
  }
  // agents: the control-plane taint keeps them off the server in the lab; the sandbox's Node
  // objects carry no taints, so the same placement is said as node affinity.
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] },
          ],
        },
      },
    },
  };
}

function podTemplate(w: LabWorkload): Record<string, unknown> {
  const resources = w.resources ? { resources: w.resources } : {};
  // The first container carries what the chart gives it: its environment and its mounts
  // (claims, volume claim templates and password files), as `kubectl get pod -o yaml` shows them.
  const secretVolume = (secret: string) => `${secret}-files`;
  const mounts = [
    ...Object.entries(w.mounts ?? {}).map(([name, mountPath]) => ({ name, mountPath })),
    ...(w.secretMounts ?? []).map((m) => ({ name: secretVolume(m.secret), mountPath: m.mountPath, readOnly: true })),
  ];
  const first = {
    ...(w.env?.length ? { env: w.env } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
  };
  const volumes = [
    ...(w.claims ?? []).map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })),
    ...(w.secretMounts ?? []).map((m) => ({ name: secretVolume(m.secret), secret: { secretName: m.secret } })),
  ];
  return {
    metadata: { labels: labelled(w.labels) },
    spec: {
      ...podPlacement(w.on),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: w.containers.map((name, i) => ({ name, image: POD_IMAGE, ...resources, ...(i === 0 ? first : {}) })),
      ...(volumes.length ? { volumes } : {}),
    },
  };
}

function workloadManifest(ns: string, w: LabWorkload): KubeObject {
  const meta = { name: w.name, namespace: ns, labels: labelled(w.labels) };
  const selector = { matchLabels: w.labels };
  if (w.kind === 'DaemonSet')
    return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta, spec: { selector, template: podTemplate(w) } };
  if (w.kind === 'StatefulSet') {
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta,
      spec: {
        replicas: w.replicas ?? 1,
        serviceName: w.name,
        selector,
        template: podTemplate(w),
        volumeClaimTemplates: (w.volumeClaims ?? []).map((v) => ({
          metadata: { name: v.name },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: v.storageClass,
            resources: { requests: { storage: String(v.size) } },
          },
        })),
      },
    };
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: {
      replicas: w.replicas ?? 1,
      selector,
      ...(w.strategy ? { strategy: { type: w.strategy } } : {}),
      template: podTemplate(w),
    },
  };
}

interface Claim {
  namespace: string;
  name: string;
  storageClass: string;
  size: string | number;
  node?: string;
}

/** A claim and the PV made for it, pre-bound through claimRef (its uid is added when the claim exists). */
function volumePair(c: Claim, doc: LabWorkloads): [KubeObject, KubeObject] {
  const pvName = `twin-${c.namespace}-${c.name}`.slice(0, 253);
  const sc = doc.storageClasses.find((s) => s.name === c.storageClass);
  const size = String(c.size);
  const source =
    sc?.provisioner === 'nfs.csi.k8s.io'
      ? {
          csi: {
            driver: 'nfs.csi.k8s.io',
            volumeHandle: `${sc.parameters?.server ?? 'nas'}#${(sc.parameters?.share ?? '/').replace(/^\//, '')}#${c.namespace}-${c.name}##`,
            volumeAttributes: {
              server: sc.parameters?.server ?? '',
              share: sc.parameters?.share ?? '',
              subdir: `${c.namespace}-${c.name}`,
            },
          },
        }
      : {
          hostPath: {
            path: `/var/lib/rancher/k3s/storage/${pvName}_${c.namespace}_${c.name}`,
            type: 'DirectoryOrCreate',
          },
        };
  const pv: KubeObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: pvName,
      labels: labelled(),
      annotations: { 'pv.kubernetes.io/provisioned-by': sc?.provisioner ?? 'lab-twin' },
    },
    spec: {
      capacity: { storage: size },
      accessModes: ['ReadWriteOnce'],
      storageClassName: c.storageClass,
      // Retain: no provisioner runs in the sandbox to delete a released volume.
      persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: 'Filesystem',
      ...(sc?.mountOptions ? { mountOptions: sc.mountOptions } : {}),
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: c.namespace, name: c.name },
      ...source,
      ...(c.node
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [c.node] }] },
                ],
              },
            },
          }
        : {}),
    },
  };
  const pvc: KubeObject = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: c.name, namespace: c.namespace, labels: labelled() },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: c.storageClass,
      volumeMode: 'Filesystem',
      resources: { requests: { storage: size } },
    },
  };
  return [pv, pvc];
}

function customResource(r: LabCustomResource): KubeObject {
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}), labels: labelled() },
    spec: r.spec,
  };
}

/** The status a product's controller would write (cert-manager's Ready condition, Velero's phase). */
function customStatus(r: LabCustomResource, now: Date): KubeObject | undefined {
  if (!r.ready && !r.status) return undefined;
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const status: Record<string, unknown> = { ...r.status };
  if (r.ready) {
    const message =
      r.kind === 'Certificate'
        ? 'Certificate is up to date and has not expired'
        : r.kind === 'ClusterIssuer'
          ? 'The ACME account was registered with the ACME server'
          : 'Ready';
    const reason = r.kind === 'ClusterIssuer' ? 'ACMEAccountRegistered' : 'Ready';
    status.conditions = [
      { type: 'Ready', status: 'True', reason, message, lastTransitionTime: t, observedGeneration: 1 },
    ];
    if (r.kind === 'Certificate') {
      // Let's Encrypt: 90 days; cert-manager renews at two thirds.
      const day = 86_400_000;
      const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
      Object.assign(status, {
        notBefore: iso(now.getTime() - day),
        notAfter: iso(now.getTime() + 89 * day),
        renewalTime: iso(now.getTime() + 59 * day),
        revision: 1,
      });
    }
  }
  if (r.kind === 'BackupStorageLocation' && status.phase) status.lastValidationTime = t;
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) },
    status,
  };
}

/** Where a local-path volume of a StatefulSet lives: its pods must run there (the PV's node affinity). */
function localNode(w: LabWorkload, nodes: PlacementNode[], ordinal: number): string | undefined {
  const eligible = w.on === 'agents' ? nodes.filter((n) => !n.roles.includes('server')) : nodes;
  const pool = eligible.length ? eligible : nodes;
  return pool.length ? pool[ordinal % pool.length]!.name : undefined;
}

export function twinManifests(doc: LabWorkloads, nodes: PlacementNode[], now = new Date()): TwinManifests {
  const m: TwinManifests = { foundation: [], objects: [], afterClaims: [], volumes: [], statuses: [], workloads: [] };
  const kinds = new Set(doc.customResources.map((r) => r.kind));
  for (const kind of kinds) m.foundation.push(crdManifest(CRDS[kind]));
  for (const sc of doc.storageClasses) {
    m.foundation.push({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: sc.name,
        labels: labelled(),
        ...(sc.default ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}),
      },
      provisioner: sc.provisioner,
      reclaimPolicy: sc.reclaimPolicy,
      volumeBindingMode: sc.bindingMode,
      ...(sc.allowVolumeExpansion !== undefined ? { allowVolumeExpansion: sc.allowVolumeExpansion } : {}),
      ...(sc.parameters ? { parameters: sc.parameters } : {}),
      ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
    });
    if (sc.provisioner === 'nfs.csi.k8s.io') {
      // csi-driver-nfs registers its driver without attach (no VolumeAttachment objects).
      m.foundation.push({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSIDriver',
        metadata: { name: 'nfs.csi.k8s.io', labels: labelled() },
        spec: { attachRequired: false, volumeLifecycleModes: ['Persistent'], fsGroupPolicy: 'File' },
      });
    }
  }
  for (const ns of doc.namespaces) addNamespace(m, ns, doc, nodes);
  for (const r of doc.customResources) {
    m.objects.push(customResource(r));
    const s = customStatus(r, now);
    if (s) m.statuses.push(s);
  }
  return m;
}

function addNamespace(m: TwinManifests, ns: LabNamespace, doc: LabWorkloads, nodes: PlacementNode[]): void {
  m.foundation.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: labelled() } });
  const claims: Claim[] = (ns.claims ?? []).map((c) => ({
    namespace: ns.name,
    name: c.name,
    storageClass: c.storageClass,
    size: c.size,
  }));
  for (const w of ns.workloads) {
    for (const v of w.volumeClaims ?? []) {
      const sc = doc.storageClasses.find((s) => s.name === v.storageClass);
      for (let i = 0; i < (w.replicas ?? 1); i++) {
        const node = sc?.provisioner === 'rancher.io/local-path' ? localNode(w, nodes, i) : undefined;
        claims.push({
          namespace: ns.name,
          name: `${v.name}-${w.name}-${i}`,
          storageClass: v.storageClass,
          size: v.size,
          ...(node ? { node } : {}),
        });
      }
    }
  }
  for (const c of claims) {
    const [pv, pvc] = volumePair(c, doc);
    m.objects.push(pvc);
    m.volumes.push({ claim: { namespace: c.namespace, name: c.name }, pv });
  }
  for (const sec of ns.secrets ?? []) {
    m.objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: sec.name, namespace: ns.name, labels: labelled() },
      data: Object.fromEntries(Object.entries(sec.data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    });
  }
  const byName = new Map(ns.workloads.map((w) => [w.name, w]));
  for (const s of ns.services ?? []) {
    const target = byName.get(s.selects)!;
    m.objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: s.name,
        namespace: ns.name,
        labels: labelled(),
        ...(s.loadBalancerIP ? { annotations: { 'metallb.io/loadBalancerIPs': s.loadBalancerIP } } : {}),
      },
      spec: {
        type: s.type,
        selector: target.labels,
        ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
      },
    });
    if (s.loadBalancerIP) {
      // MetalLB's controller writes the address it assigned into the status.
      m.statuses.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: s.name, namespace: ns.name },
        status: { loadBalancer: { ingress: [{ ip: s.loadBalancerIP, ipMode: 'VIP' }] } },
      });
    }
  }
  for (const p of ns.pdbs ?? []) {
    const target = byName.get(p.selects)!;
    m.objects.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: p.name, namespace: ns.name, labels: labelled() },
      spec: {
        selector: { matchLabels: target.labels },
        ...(p.minAvailable !== undefined ? { minAvailable: p.minAvailable } : {}),
        ...(p.maxUnavailable !== undefined ? { maxUnavailable: p.maxUnavailable } : {}),
      },
    });
  }
  for (const w of ns.workloads) {
    (w.volumeClaims?.length || w.claims?.length ? m.afterClaims : m.objects).push(workloadManifest(ns.name, w));
    m.workloads.push({ kind: w.kind, namespace: ns.name, name: w.name });
  }
}
