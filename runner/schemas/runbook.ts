import { z } from 'zod';

/** Param names are environment variable names: they reach steps as env vars. */
export const PARAM_NAME = /^[A-Z][A-Z0-9_]*$/;

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

/** The `runbook:` block of a page's frontmatter. */
export const runbookFrontmatterSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'use lowercase letters, digits and dashes').optional(),
    risk: z.enum(['low', 'medium', 'high'], { error: 'risk must be low, medium or high' }),
    cluster: z.string().optional(),
    requires: z.array(z.string()).default([]),
    params: z
      .record(z.string(), paramSchema)
      .superRefine((params, ctx) => {
        for (const name of Object.keys(params)) {
          if (!PARAM_NAME.test(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: `param "${name}" must be an environment variable name in UPPER_CASE (e.g. ${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')})` });
          }
        }
      })
      .default({}),
  })
  .strict();

export type RunbookFrontmatter = z.infer<typeof runbookFrontmatterSchema>;
