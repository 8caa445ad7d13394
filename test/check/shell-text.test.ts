import { describe, expect, it } from 'vitest';
import { commandText } from '../../runner/check/shell-text.ts';

/** What the `requires` rule sees: only text this shell runs as commands survives. */
describe('commandText', () => {
  const visible = (code: string) => commandText(code).replace(/\s+/g, ' ').trim();

  it('blanks single- and double-quoted strings and comments', () => {
    expect(visible(`kubectl exec p -- sh -c 'psql -c "x"' # pg_dump`)).toBe('kubectl exec p -- sh -c');
    expect(visible(`echo "helm is a word"`)).toBe('echo');
  });

  it('keeps command substitutions inside double quotes, which run here', () => {
    expect(visible(`v="$(helm version)"`)).toBe('v= $(helm version)');
    expect(visible(`v="$(kubectl exec p -- sh -c "psql -c 1")"`)).toBe('v= $(kubectl exec p -- sh -c )');
  });

  it('keeps line numbers across multi-line strings', () => {
    const code = `a '\nb\n'\nhelm`;
    expect(commandText(code).split('\n')).toHaveLength(4);
    expect(commandText(code).split('\n')[3]).toBe('helm');
  });

  it('treats an escaped quote as text, and # inside a word as no comment', () => {
    expect(visible(`echo it\\'s; curl a#b`)).toBe(`echo it\\'s; curl a#b`);
  });
});
