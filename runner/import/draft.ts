/**
 * The page while it is being built: prose lines, steps and illustration fences in source order.
 * Steps stay structured until the end so that later passes (an "Expected output" block, a
 * `sleep` before a check, repeated per-node blocks, Option A/B sections) can change them.
 */

export interface DraftStep {
  id: string;
  title: string;
  on: string;
  code: string;
  /** Source line (1-based) the step came from. */
  line: number;
  expect?: string;
  cwd?: string;
  timeout?: string;
  /** Set once the code is final: what the checker's rules say about it. */
  confirm?: boolean;
  check?: boolean;
}

export type Item =
  | { kind: 'text'; text: string; line: number; heading?: number }
  | { kind: 'step'; step: DraftStep }
  | { kind: 'fence'; lines: string[]; line: number }
  /** A component tag the importer adds (<ForEach>, <Tabs>, <TabItem>); `group` ties Tabs marks together. */
  | { kind: 'mark'; text: string; group?: number; alt?: string };

export type Decide = (line: number, what: string, needsDecision?: boolean) => void;

/** Text as a regular expression that matches it literally. */
export const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** A meta value: bare when it can be, quoted otherwise. */
export const metaValue = (s: string) => (/^[^\s"'{}]+$/.test(s) ? s : quote(s));

export const stepsOf = (body: Item[]) =>
  body.flatMap((it) => (it.kind === 'step' && it.step.code.trim() ? [it.step] : []));
