import { z } from 'zod';

import { PARAM_NAME, reservedName } from './param-names.ts';

export { PARAM_NAME, RESERVED_NAMES, reservedName, SHELL_NAME } from './param-names.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const paramSchema = z
  .object({
    description: z.string().optional(),
    default: scalar.optional(),
    required: z.boolean().optional(),
    pattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression')
      .optional(),
    enum: z.array(scalar).min(1).optional(),
    secret: z.boolean().optional(),
  })
  .strict();

/** Why `name` cannot name a param: not an UPPER_CASE shell variable name, or reserved. */
export function paramNameProblem(name: string): string | undefined {
  if (!PARAM_NAME.test(name)) {
    const suggestion = name
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, '_')
      .replace(/^(?=[0-9_])/, 'P');
    return `param "${name}" must be an environment variable name in UPPER_CASE (e.g. ${suggestion})`;
  }
  const reserved = reservedName(name);
  return reserved && `param ${reserved} (see "Reserved names" in the format reference)`;
}

/** The `runbook:` block of a page's frontmatter. */
export const runbookFrontmatterSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'use lowercase letters, digits and dashes')
      .optional(),
    risk: z.enum(['low', 'medium', 'high'], { error: 'risk must be low, medium or high' }),
    cluster: z.string().optional(),
    /**
     * `optional`: the runbook must work while the Kubernetes API is down (restoring the
     * control plane, recovering a node), so an API that does not answer is recorded and
     * the run goes on. Every other runbook of a cluster refuses to start without an answer.
     */
    api: z.enum(['required', 'optional'], { error: 'api must be required or optional' }).default('required'),
    requires: z.array(z.string()).default([]),
    params: z
      .record(z.string(), paramSchema)
      .superRefine((params, ctx) => {
        for (const name of Object.keys(params)) {
          const problem = paramNameProblem(name);
          if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
        }
      })
      .default({}),
  })
  .strict();

export type RunbookFrontmatter = z.infer<typeof runbookFrontmatterSchema>;
