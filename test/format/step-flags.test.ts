import { describe, expect, it } from 'vitest';
import { STEP_FLAGS, stepFlagsOf } from '../../runner/format/step-flags.ts';
import { readAttributes } from '../../runner/format/attributes.ts';
import { tokenizeMeta } from '../../runner/format/meta.ts';

function tokens(meta: string) {
  const r = tokenizeMeta(meta);
  if ('error' in r) throw new Error(r.error);
  return r.tokens;
}
import { runRecordSchema } from '../../runner/record/schema.ts';

// The flag table drives the parser, the record and the displays: each flag must round-trip through all of them.
describe('the step flag table', () => {
  for (const flag of STEP_FLAGS) {
    it(`${flag.name}: the fence word sets ${flag.key}, and the step lists it`, () => {
      const { attrs, problems } = readAttributes(tokens(`step=x ${flag.name}`));
      expect(problems).toEqual([]);
      expect(attrs[flag.key]).toBe(true);
      expect(stepFlagsOf(attrs).map((f) => f.name)).toEqual([flag.name]);
    });
  }

  it('the record schema accepts exactly the table names', () => {
    const flags = runRecordSchema.shape.steps.element.shape.flags;
    for (const flag of STEP_FLAGS) expect(flags.safeParse([flag.name]).success).toBe(true);
    expect(flags.safeParse(['retries']).success).toBe(false);
  });

  it('a fence with every flag lists them in table order', () => {
    const all = STEP_FLAGS.map((f) => f.name);
    const { attrs } = readAttributes(tokens(`step=x ${[...all].reverse().join(' ')}`));
    expect(stepFlagsOf(attrs).map((f) => f.name)).toEqual(all);
  });
});
