import { yamlLib } from '../../format/yaml-lib.ts';
import type { Diagnostic } from '../../format/model.ts';
import type { StepRule } from '../types.ts';

/** An apply step must be YAML whose every document names apiVersion, kind and metadata.name. */
export const manifestRule: StepRule = (step, { at }) => {
  if (step.kind !== 'apply') return [];
  const { LineCounter, parseAllDocuments } = yamlLib();
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(step.code, { lineCounter, prettyErrors: false });
  const out: Diagnostic[] = [];
  if (!Array.isArray(docs)) return [at(0, 'yaml-manifest', `step "${step.id}": the manifest is empty`)];
  for (const doc of docs) {
    const line = (offset: number) => lineCounter.linePos(offset).line - 1;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      out.push(at(line(e.pos[0]), 'yaml-manifest', `step "${step.id}": invalid YAML: ${e.message.split('\n')[0]}`));
      continue;
    }
    const obj = doc.toJS() as Record<string, unknown> | null;
    if (obj === null || obj === undefined) continue;
    const start = line(doc.range[0]);
    const meta = obj.metadata as Record<string, unknown> | undefined;
    const missing = [
      typeof obj.apiVersion !== 'string' && 'apiVersion',
      typeof obj.kind !== 'string' && 'kind',
      !(typeof meta?.name === 'string' || typeof meta?.generateName === 'string') && 'metadata.name',
    ].filter(Boolean);
    if (missing.length)
      out.push(
        at(
          start,
          'yaml-manifest',
          `step "${step.id}": the manifest lacks ${missing.join(', ')}; server-side apply needs them`,
        ),
      );
  }
  return out;
};
