import { z } from 'zod';

/** Node and role names follow Kubernetes node-name rules (DNS labels). */
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'use lowercase letters, digits and dashes (a Kubernetes node name)');

export const sshSchema = z
  .object({
    user: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    /** Run remote steps through `sudo -n bash -s`. */
    become: z.boolean().optional(),
  })
  .strict();

export const nodeSchema = z
  .object({
    name: dnsLabel,
    roles: z.array(dnsLabel).min(1, 'a node needs at least one role (server or agent)'),
    address: z.string().min(1),
    ssh: sshSchema.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    hardware: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .strict();

export const clusterSchema = z
  .object({
    name: dnsLabel,
    /** The kube context that must be current (or passed with --context) to run this cluster's runbooks. */
    context: z.string().min(1),
    /** The API server URL the context is expected to point at. */
    server: z.string().url(),
    /**
     * The UID of the cluster's kube-system namespace: what makes this cluster this one
     * (K3s names every cluster's context and user `default`). `runbook inventory pin` writes it.
     */
    uid: z
      .string()
      .regex(/^[0-9a-f-]{36}$/, 'a namespace UID such as 7c9e6679-7425-40de-944b-e07fc1f90ae7')
      .optional(),
    k3sVersion: z.string().regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, 'a K3s version such as v1.34.3+k3s1'),
    datastore: z.enum(['embedded-etcd', 'sqlite', 'external']).optional(),
    domain: z.string().optional(),
    network: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export const deviceSchema = z
  .object({
    name: z.string(),
    address: z.string(),
    role: z.string(),
    /** A NAS's NFS exports (the sandbox's lab twin serves the same paths). */
    exports: z.array(z.string().regex(/^\//, 'an absolute export path such as /volume1/k3s-backups')).optional(),
  })
  .strict();

export const inventorySchema = z
  .object({
    cluster: clusterSchema,
    /** Defaults for every node's ssh block. */
    ssh: sshSchema.optional(),
    nodes: z.array(nodeSchema).min(1),
    devices: z.array(deviceSchema).optional(),
  })
  .strict()
  .superRefine((inv, ctx) => {
    const seen = new Set<string>();
    inv.nodes.forEach((node, i) => {
      if (seen.has(node.name)) {
        ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `duplicate node name "${node.name}"` });
      }
      seen.add(node.name);
    });
  });

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryNode = z.infer<typeof nodeSchema>;
