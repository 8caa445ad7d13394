import { runbookFrontmatterSchema } from '../schemas/runbook.ts';
import type { FrontmatterPositions, Frontmatter } from './frontmatter.ts';
import type { ParamSpec, RunbookMeta } from './model.ts';
import type { Report } from './report.ts';
import { fieldIssues } from '../errors.ts';

/**
 * Source lines of the runbook block's fields, looked up when a check first asks
 * (so a clean page never pays for the position-aware YAML parse).
 */
class RunbookLines {
  readonly #positions: FrontmatterPositions;
  readonly #params: string[];
  readonly #hasCluster: boolean;
  #cache: { block: number; cluster?: number; params: Record<string, number> } | undefined;

  constructor(positions: FrontmatterPositions, params: string[], hasCluster: boolean) {
    this.#positions = positions;
    this.#params = params;
    this.#hasCluster = hasCluster;
  }

  get block(): number {
    return this.#lines().block;
  }

  get cluster(): number | undefined {
    return this.#lines().cluster;
  }

  get params(): Record<string, number> {
    return this.#lines().params;
  }

  /** Positions are not data: JSON output of a page leaves them out, as before. */
  toJSON(): undefined {
    return undefined;
  }

  #lines() {
    const lineOf = (...path: string[]) => this.#positions.lineOf(['runbook', ...path]);
    return (this.#cache ??= {
      block: lineOf(),
      ...(this.#hasCluster ? { cluster: lineOf('cluster') } : {}),
      params: Object.fromEntries(this.#params.map((name) => [name, lineOf('params', name)])),
    });
  }
}

/** Reads and validates the `runbook:` block; every schema issue is reported at its field's line. */
export function readRunbookMeta(frontmatter: Frontmatter, slug: string, report: Report): RunbookMeta | undefined {
  const result = runbookFrontmatterSchema.safeParse(frontmatter.data.runbook);
  if (!result.success) {
    for (const i of fieldIssues(result.error.issues, (path) => frontmatter.positions.lineOf(path), ['runbook'])) {
      report(i.line ?? 1, 1, 'frontmatter', `${i.field}: ${i.message}`);
    }
    return undefined;
  }
  const rb = result.data;
  return {
    id: rb.id ?? slug,
    risk: rb.risk,
    ...(rb.cluster ? { cluster: rb.cluster } : {}),
    api: rb.api,
    requires: rb.requires,
    params: rb.params as Record<string, ParamSpec>,
    lines: new RunbookLines(frontmatter.positions, Object.keys(rb.params), Boolean(rb.cluster)),
  };
}
