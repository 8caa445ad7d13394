/**
 * Every rule a diagnostic can name, parser's and checker's alike, with the severity it is reported at.
 * Diagnostic.rule is typed by this table, so a new rule is added here or does not compile, and the
 * format reference's rule table is tested against it in both directions
 * (test/reference/format-examples.test.ts). Summaries live in the reference, not here.
 */
export const RULES = {
  // The page as a file and as MDX (runner/format/)
  read: 'error',
  'invalid-encoding': 'warning',
  'mdx-syntax': 'error',
  'unclosed-fence': 'error',
  'unclosed-frontmatter': 'error',
  frontmatter: 'error',
  'page-structure': 'error',
  'control-character': 'error',
  'page-id': 'error',
  'mdx-in-markdown': 'error',
  // Step fences and their attributes
  'unknown-attribute': 'error',
  'invalid-attribute': 'error',
  'attribute-without-step': 'warning',
  'duplicate-step-id': 'error',
  'duplicate-runbook-id': 'error',
  'unknown-language': 'error',
  'bash-syntax': 'error',
  'yaml-manifest': 'error',
  'cluster-dry-run': 'error',
  // Targets, components and params against the inventory
  'unknown-node': 'error',
  'unknown-role': 'error',
  'unknown-cluster': 'error',
  'node-outside-foreach': 'error',
  'nested-foreach': 'error',
  'foreach-nodes': 'error',
  'tabs-param': 'error',
  'param-spec': 'error',
  // What the shell in a step does (runner/check/rules/)
  'destructive-unconfirmed': 'error',
  'destructive-check': 'error',
  'check-writes': 'error',
  'interactive-command': 'error, warning',
  placeholder: 'error',
  'ssh-without-command': 'error',
  'sudo-with-become': 'warning',
  'status-under-set-e': 'warning',
  'sleep-wait': 'warning',
  'missing-requirement': 'warning',
  'no-steps': 'warning',
  // Run records (runner/check/records.ts)
  'run-record': 'error',
  'orphan-record': 'warning',
} as const satisfies Record<string, 'error' | 'warning' | 'error, warning'>;

export type RuleId = keyof typeof RULES;
