import { stripVTControlCharacters } from 'node:util';

/** Renders rows as aligned columns; widths ignore colour codes. */
export function table(header: string[], rows: string[][], indent = ''): string {
  const width = (s: string) => stripVTControlCharacters(s).length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
