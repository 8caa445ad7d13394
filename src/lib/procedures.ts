import { existsSync, readFileSync } from 'node:fs';
import { parseProcedure } from '../../runner/format/parse.ts';
import type { Procedure } from '../../runner/format/model.ts';

/**
 * Procedures as the runner sees them: the site parses each page's source with
 * the runner's parser, so step ids, hashes and targets on the page are the
 * ones recorded in run records.
 */
const cache = new Map<string, { source: string; procedure: Procedure }>();

/** The procedure of a content file (`src/content/...`), re-parsed only when its source changed. */
export function procedureOf(filePath: string): Procedure {
  const source = readFileSync(filePath, 'utf8');
  const hit = cache.get(filePath);
  if (hit?.source === source) return hit.procedure;
  const procedure = parseProcedure(source, filePath);
  cache.set(filePath, { source, procedure });
  return procedure;
}

/** The procedure of a collection entry, when it has a source file. */
export function procedureOfEntry(entry: { filePath?: string }): Procedure | undefined {
  // Starlight's generated pages (the 404) carry a filePath that does not exist.
  return entry.filePath && existsSync(entry.filePath) ? procedureOf(entry.filePath) : undefined;
}

/** The command that runs a runbook with its required params spelled out. */
export function runCommand(procedure: Procedure): string {
  const params = procedure.runbook?.params ?? {};
  const sets = Object.entries(params)
    .filter(([, p]) => p.required && p.default === undefined)
    .map(
      ([name, p]) =>
        `--set ${name}=${p.enum?.[0] ?? (p.secret ? '…' : `<${name.toLowerCase().replaceAll('_', '-')}>`)}`,
    );
  return ['npx runbook run', procedure.id, ...sets].join(' ');
}
