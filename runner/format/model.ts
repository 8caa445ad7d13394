/**
 * The Procedure model: what one MDX page says can be executed.
 * Produced by `parseProcedure` and shared by the runner, `runbook check` and the site.
 */

export interface Position {
  line: number;
  column: number;
}

export interface Span {
  start: Position;
  end: Position;
}
import type { RuleId } from './rule-ids.ts';

export type Severity = 'error' | 'warning';

/** A problem found in a page, positioned at the offending source. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  rule: RuleId;
  message: string;
}

export type StepKind = 'shell' | 'apply';

/** The typed attributes of a step fence (`key=value` pairs in the fence meta). */
export interface StepAttributes {
  title?: string;
  /** `local`, a node name, `role:<role>`, or `$NODE` inside a ForEach. */
  on: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  confirm: boolean;
  check: boolean;
  expect?: string;
  continueOnError: boolean;
  parallel: number;
  cwd?: string;
  apply: boolean;
}

/** A `<ForEach nodes="…">` group: its steps repeat per node, node by node. */
export interface ForEachGroup {
  index: number;
  nodes: string;
  position: Span;
}

/** Alternatives in `<Tabs param="NAME">`: a step inside `<TabItem label="X">` runs when NAME=X. */
export interface TabChoice {
  param: string;
  value: string;
}

export interface Step {
  id: string;
  lang: string;
  kind: StepKind;
  code: string;
  meta: string;
  attrs: StepAttributes;
  /** Position of the opening fence. */
  position: Span;
  /** sha256 (hex, 16 chars) of language, meta and code: changes when the step does. */
  hash: string;
  /** Index into `Procedure.groups` when inside a ForEach. */
  group?: number;
  tab?: TabChoice;
  /** Text of the nearest heading above the step, for readable plans. */
  section?: string;
}

export type { PageKind } from '../schemas/pages.ts';
import type { PageKind } from '../schemas/pages.ts';

export interface ParamSpec {
  description?: string;
  default?: string;
  required?: boolean;
  pattern?: string;
  enum?: string[];
  secret?: boolean;
}

export interface RunbookMeta {
  id: string;
  risk: 'low' | 'medium' | 'high';
  cluster?: string;
  /** `optional`: the runbook works while the API is down (see the schema). */
  api: 'required' | 'optional';
  requires: string[];
  params: Record<string, ParamSpec>;
  /** Source lines of frontmatter fields, so checks can point at them. */
  lines: { block: number; cluster?: number; params: Record<string, number> };
}

export interface Procedure {
  /** Path as given (relative to the project root when found by discovery). */
  file: string;
  id: string;
  title: string;
  kind: PageKind;
  runbook?: RunbookMeta;
  steps: Step[];
  groups: ForEachGroup[];
  /** sha256 over all step hashes in order. */
  hash: string;
  /** Problems found while parsing; a page with errors must not run. */
  diagnostics: Diagnostic[];
}
