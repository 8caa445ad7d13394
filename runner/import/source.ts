import { relative } from 'node:path';
import { UsageError } from '../errors.ts';
import { decodeSource, lineAt } from '../format/source.ts';
import { readProblem, readRegularFile } from '../read-file.ts';

/**
 * A Markdown file to import, as text: a regular file (a FIFO would be waited on forever), text
 * (a NUL byte means a binary file), UTF-8 (an invalid byte would become U+FFFD inside a step), with LF
 * line endings (a CR left in a step is a control character the page check refuses). Anything else
 * is a UsageError naming the file, and the line where it can be; nothing is imported.
 */
export function readImportSource(file: string, cwd: string): { text: string; crlf: boolean } {
  const rel = relative(cwd, file);
  const shown = rel && !rel.startsWith('..') ? rel : file;
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file);
  } catch (err) {
    throw new UsageError(`${shown}: cannot read it: ${readProblem(err)}; pass a Markdown file`);
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new UsageError(`${shown}:${lineAt(bytes, nul)}: a NUL byte: this is not a text file; nothing was imported`);
  }
  const decoded = decodeSource(bytes);
  const bad = decoded.invalid[0];
  if (bad) {
    throw new UsageError(
      `${shown}:${bad.line}:${bad.column}: byte 0x${bad.byte.toString(16).padStart(2, '0')} is not UTF-8 ` +
        `(${decoded.invalidCount} such sequence${decoded.invalidCount === 1 ? '' : 's'}); save the file as UTF-8 and import it again`,
    );
  }
  const crlf = decoded.text.includes('\r');
  return { text: crlf ? decoded.text.replace(/\r\n?/g, '\n') : decoded.text, crlf };
}
