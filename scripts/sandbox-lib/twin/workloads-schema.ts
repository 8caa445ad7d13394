// The schema of src/content/lab/workloads.yaml: what the example lab runs.
// Pure zod + yaml (no Kubernetes client), so the site can import it as it
// imports runner/inventory/schema.ts. The twin turns it into objects in
// workloads-manifests.ts.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'use lowercase letters, digits and dashes (a DNS label)');
const dnsName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'use lowercase letters, digits, dots and dashes (a DNS subdomain)');
const quantity = z.union([
  z.string().regex(/^[0-9.]+[a-zA-Z]*$/, 'a Kubernetes quantity such as 250m, 1Gi or "2"'),
  z.number(),
]);
const labels = z.record(z.string(), z.string());
/** Where the content installs or names it: a weekend, an ADR, a chart's default. */
const from = z.string().min(1);

export const placementSchema = z.enum(['agents', 'any', 'all']);

const volumeClaimSchema = z.object({ name: dnsLabel, storageClass: dnsName, size: quantity }).strict();

export const workloadSchema = z
  .object({
    kind: z.enum(['Deployment', 'DaemonSet', 'StatefulSet']),
    name: dnsLabel,
    /** Deployments and StatefulSets; 1 unless said. */
    replicas: z.number().int().min(0).optional(),
    on: placementSchema,
    strategy: z.enum(['RollingUpdate', 'Recreate']).optional(),
    /** The pod labels (and the selector). */
    labels,
    containers: z.array(dnsLabel).min(1),
    resources: z
      .object({
        requests: z.record(z.string(), quantity).optional(),
        limits: z.record(z.string(), quantity).optional(),
      })
      .strict()
      .optional(),
    /** PVCs of the namespace the pods mount (claims: below). */
    claims: z.array(dnsLabel).optional(),
    /** StatefulSets: volumeClaimTemplates (PVC <name>-<statefulset>-<ordinal>). */
    volumeClaims: z.array(volumeClaimSchema).optional(),
    /** Where the first container mounts each claim or volume claim template (by its name), as the chart does. */
    mounts: z.record(dnsLabel, z.string().regex(/^\//, 'an absolute path')).optional(),
    /** The first container's environment, as the chart renders it (literal values only). */
    env: z
      .array(z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), value: z.string() }).strict())
      .optional(),
    /** A Secret of the namespace mounted as files in the first container (the chart's password files). */
    secretMounts: z.array(z.object({ secret: dnsLabel, mountPath: z.string().regex(/^\//) }).strict()).optional(),
    /** What the pod simulator (scripts/sandbox-lib/twin/pods/) answers as inside this workload's pods. */
    simulate: z.enum(['postgresql']).optional(),
    /** What changes later in the lab's plan (and is not simulated yet). */
    later: z.string().optional(),
    from,
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.kind === 'DaemonSet' && w.on !== 'all')
      ctx.addIssue({ code: 'custom', path: ['on'], message: 'a DaemonSet runs on: all' });
    if (w.kind !== 'DaemonSet' && w.on === 'all')
      ctx.addIssue({ code: 'custom', path: ['on'], message: 'on: all is for DaemonSets; use agents or any' });
    if (w.kind === 'DaemonSet' && w.replicas !== undefined)
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'a DaemonSet has no replicas' });
    if (w.volumeClaims && w.kind !== 'StatefulSet')
      ctx.addIssue({ code: 'custom', path: ['volumeClaims'], message: "volumeClaims are a StatefulSet's" });
  });

export const serviceSchema = z
  .object({
    name: dnsLabel,
    type: z.enum(['ClusterIP', 'LoadBalancer']),
    /** The workload (of this namespace) whose pods it selects. */
    selects: dnsLabel,
    /** LoadBalancer: the address MetalLB gives it (metallb.io/loadBalancerIPs). */
    loadBalancerIP: z
      .string()
      .regex(/^\d+\.\d+\.\d+\.\d+$/)
      .optional(),
    ports: z.array(z.object({ name: dnsLabel, port: z.number().int().min(1).max(65535) }).strict()).min(1),
  })
  .strict()
  .refine((s) => (s.type === 'LoadBalancer') === (s.loadBalancerIP !== undefined), {
    message: 'a LoadBalancer service has a loadBalancerIP, a ClusterIP one none',
    path: ['loadBalancerIP'],
  });

export const pdbSchema = z
  .object({
    name: dnsLabel,
    selects: dnsLabel,
    minAvailable: z.union([z.number().int().min(0), z.string().regex(/^\d+%$/)]).optional(),
    maxUnavailable: z.union([z.number().int().min(0), z.string().regex(/^\d+%$/)]).optional(),
    from,
  })
  .strict()
  .refine((p) => (p.minAvailable === undefined) !== (p.maxUnavailable === undefined), {
    message: 'a PDB sets exactly one of minAvailable and maxUnavailable',
  });

export const namespaceSchema = z
  .object({
    name: dnsLabel,
    purpose: z.string().min(1),
    workloads: z.array(workloadSchema).default([]),
    claims: z.array(volumeClaimSchema).optional(),
    services: z.array(serviceSchema).optional(),
    pdbs: z.array(pdbSchema).optional(),
    /** Secrets the namespace holds, with the twin's own made-up values (never a lab secret). */
    secrets: z.array(z.object({ name: dnsLabel, data: z.record(z.string(), z.string()), from }).strict()).optional(),
  })
  .strict();

export const storageClassSchema = z
  .object({
    name: dnsName,
    provisioner: z.string().regex(/^[a-z0-9][-a-z0-9./]*[a-z0-9]$/, 'a provisioner name such as nfs.csi.k8s.io'),
    default: z.boolean().optional(),
    bindingMode: z.enum(['Immediate', 'WaitForFirstConsumer']),
    reclaimPolicy: z.enum(['Delete', 'Retain']),
    allowVolumeExpansion: z.boolean().optional(),
    parameters: z.record(z.string(), z.string()).optional(),
    mountOptions: z.array(z.string()).optional(),
    from,
  })
  .strict();

export const CUSTOM_KINDS = [
  'IPAddressPool',
  'L2Advertisement',
  'ClusterIssuer',
  'Certificate',
  'BackupStorageLocation',
] as const;

export const customResourceSchema = z
  .object({
    apiVersion: z.string().regex(/^[a-z0-9.-]+\/v[0-9a-z]+$/),
    kind: z.enum(CUSTOM_KINDS),
    namespace: dnsLabel.optional(),
    name: dnsName,
    spec: z.record(z.string(), z.unknown()),
    /** Writes a Ready=True condition into status, as the product's controller would. */
    ready: z.boolean().optional(),
    status: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const workloadsSchema = z
  .object({
    storageClasses: z.array(storageClassSchema),
    namespaces: z.array(namespaceSchema).min(1),
    customResources: z.array(customResourceSchema).default([]),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    const classes = new Set(doc.storageClasses.map((c) => c.name));
    doc.namespaces.forEach((ns, i) => {
      if (seen.has(ns.name))
        ctx.addIssue({
          code: 'custom',
          path: ['namespaces', i, 'name'],
          message: `namespace ${ns.name} is listed twice`,
        });
      seen.add(ns.name);
      const names = new Map<string, string>();
      ns.workloads.forEach((w, j) => {
        const key = `${w.kind}/${w.name}`;
        if (names.has(key))
          ctx.addIssue({
            code: 'custom',
            path: ['namespaces', i, 'workloads', j],
            message: `${key} is listed twice in ${ns.name}`,
          });
        names.set(key, w.name);
        for (const c of w.claims ?? []) {
          if (!ns.claims?.some((x) => x.name === c))
            ctx.addIssue({
              code: 'custom',
              path: ['namespaces', i, 'workloads', j, 'claims'],
              message: `${ns.name}/${w.name} mounts claim ${c}, which ${ns.name}'s claims do not list`,
            });
        }
        for (const m of w.secretMounts ?? []) {
          if (!ns.secrets?.some((x) => x.name === m.secret))
            ctx.addIssue({
              code: 'custom',
              path: ['namespaces', i, 'workloads', j, 'secretMounts'],
              message: `${ns.name}/${w.name} mounts secret ${m.secret}, which ${ns.name}'s secrets do not list`,
            });
        }
        for (const c of Object.keys(w.mounts ?? {})) {
          if (!w.claims?.includes(c) && !w.volumeClaims?.some((v) => v.name === c))
            ctx.addIssue({
              code: 'custom',
              path: ['namespaces', i, 'workloads', j, 'mounts'],
              message: `${ns.name}/${w.name} mounts ${c}, which is none of its claims or volumeClaims`,
            });
        }
        for (const v of w.volumeClaims ?? []) {
          if (!classes.has(v.storageClass))
            ctx.addIssue({
              code: 'custom',
              path: ['namespaces', i, 'workloads', j, 'volumeClaims'],
              message: `storage class ${v.storageClass} is not in storageClasses`,
            });
        }
      });
      const workloadNames = new Set(ns.workloads.map((w) => w.name));
      for (const [k, list] of [
        ['services', ns.services],
        ['pdbs', ns.pdbs],
      ] as const) {
        (list ?? []).forEach((s, j) => {
          if (!workloadNames.has(s.selects))
            ctx.addIssue({
              code: 'custom',
              path: ['namespaces', i, k, j, 'selects'],
              message: `${s.name} selects ${s.selects}, which is no workload of ${ns.name}`,
            });
        });
      }
      (ns.claims ?? []).forEach((c, j) => {
        if (!classes.has(c.storageClass))
          ctx.addIssue({
            code: 'custom',
            path: ['namespaces', i, 'claims', j],
            message: `storage class ${c.storageClass} is not in storageClasses`,
          });
      });
    });
    doc.customResources.forEach((r, i) => {
      const clusterScoped = r.kind === 'ClusterIssuer';
      if (clusterScoped && r.namespace)
        ctx.addIssue({
          code: 'custom',
          path: ['customResources', i, 'namespace'],
          message: `a ${r.kind} has no namespace`,
        });
      if (!clusterScoped && !r.namespace)
        ctx.addIssue({ code: 'custom', path: ['customResources', i], message: `a ${r.kind} needs a namespace` });
      if (r.namespace && !seen.has(r.namespace))
        ctx.addIssue({
          code: 'custom',
          path: ['customResources', i, 'namespace'],
          message: `namespace ${r.namespace} is not in namespaces`,
        });
    });
  });

export type LabWorkloads = z.infer<typeof workloadsSchema>;
export type LabNamespace = z.infer<typeof namespaceSchema>;
export type LabWorkload = z.infer<typeof workloadSchema>;
export type LabCustomResource = z.infer<typeof customResourceSchema>;

export const defaultWorkloadsFile = new URL('../../../src/content/lab/workloads.yaml', import.meta.url).pathname;

/** Reads and validates the file; the error names the file and each problem's path. */
export function loadWorkloads(file: string = defaultWorkloadsFile): LabWorkloads {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  const r = workloadsSchema.safeParse(doc);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`).join('\n');
    throw new Error(`${file} is not a valid workloads file:\n${problems}`);
  }
  return r.data;
}
