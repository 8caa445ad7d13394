import { beforeAll, describe, expect, it } from 'vitest';
import { requiresRule } from '../../runner/check/rules/requires.ts';
import { parseProcedure } from '../../runner/format/parse.ts';
import { shellLines } from '../../runner/shell/lines.ts';
import { loadShellParser } from '../../runner/shell/parser.ts';
import { testInventory } from '../helpers/inventory.ts';

beforeAll(() => loadShellParser());

/** The tools `requires` finds in one local step of a runbook that lists none. */
function toolsUsed(code: string): string[] {
  const page = `---\ntitle: t\nrunbook:\n  risk: low\n---\n\n\`\`\`bash step=s\n${code}\n\`\`\`\n`;
  return requiresRule(parseProcedure(page, 'p.mdx'), testInventory()).map((d) => /uses (\S+)/.exec(d.message)![1]!);
}

/** What the `requires` rule counts: tools this shell runs, not those run on a node or in a pod. */
describe('requires sees the commands the step runs here', () => {
  it('a tool inside kubectl exec or ssh runs elsewhere', () => {
    expect(toolsUsed(`kubectl exec p -- sh -c 'psql -c "x"' # pg_dump`)).toEqual(['kubectl']);
    expect(toolsUsed('ssh k3s-master jq . /etc/x.json')).toEqual(['ssh']);
    expect(toolsUsed(`echo "helm is a word"`)).toEqual([]);
  });

  it('a tool in $(…), bash -c or behind a wrapper runs here', () => {
    expect(toolsUsed(`v="$(helm version)"`)).toEqual(['helm']);
    expect(toolsUsed(`bash -c 'curl -sf https://x'`)).toEqual(['curl']);
    expect(toolsUsed('sudo -E timeout 5 yq . f')).toEqual(['yq']);
  });

  it('points at the line the tool is on', () => {
    const page = "---\ntitle: t\nrunbook:\n  risk: low\n---\n\n```bash step=s\na '\nb\n'\nhelm list\n```\n";
    expect(requiresRule(parseProcedure(page, 'p.mdx'), testInventory()).map((d) => d.line)).toEqual([11]);
  });

  it('an escaped quote is text, and # inside a word is no comment', () => {
    expect(toolsUsed(`echo it\\'s; curl a#b`)).toEqual(['curl']);
  });
});

describe('shellLines', () => {
  it('drops comments outside quotes and joins continued lines, keeping the first line number', () => {
    expect(shellLines(`a # x\necho "# kept" \\\n  more\n\n# only\nb`)).toEqual([
      { text: 'a', line: 0 },
      { text: 'echo "# kept"    more', line: 1 },
      { text: 'b', line: 5 },
    ]);
  });
});
