import { isUtf8 } from 'node:buffer';

/** A page's bytes decoded, with where bytes that are not UTF-8 were. */
export interface DecodedSource {
  text: string;
  /** The first few invalid byte sequences: 1-based line, column (in characters) and the first byte. */
  invalid: Array<{ line: number; column: number; byte: number }>;
  /** How many invalid sequences there are in all. */
  invalidCount: number;
}

/** Positions reported per page; the rest are counted. */
export const MAX_INVALID_REPORTED = 5;

/**
 * Decodes a page as UTF-8. Valid input (nearly every page) costs one native check;
 * invalid sequences still become U+FFFD as before, but their positions are kept so
 * the parser can warn instead of silently showing and running `�`.
 */
export function decodeSource(bytes: Uint8Array): DecodedSource {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buf.toString('utf8');
  if (isUtf8(buf)) return { text, invalid: [], invalidCount: 0 };
  const offsets = invalidSequences(buf);
  const invalid = offsets.slice(0, MAX_INVALID_REPORTED).map((offset) => {
    // lastIndexOf with a negative offset counts from the end: the first line starts at 0.
    const lineStart = offset === 0 ? 0 : buf.lastIndexOf(0x0a, offset - 1) + 1;
    const line = countNewlines(buf, lineStart) + 1;
    return { line, column: buf.subarray(lineStart, offset).toString('utf8').length + 1, byte: buf[offset]! };
  });
  return { text, invalid, invalidCount: offsets.length };
}

/** The 1-based line of byte `offset`. */
export const lineAt = (buf: Buffer, offset: number): number => countNewlines(buf, offset) + 1;

function countNewlines(buf: Buffer, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i !== -1 && i < end; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/**
 * Byte offsets where a decoder substitutes U+FFFD: each maximal ill-formed subsequence
 * (Unicode's and WHATWG's rule, which Buffer#toString follows). Hand-written because
 * TextDecoder({ fatal: true }) says only that the input is bad, not where.
 */
function invalidSequences(buf: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const [need, lo, hi] = lead(b);
    if (need === 0) {
      out.push(i++);
      continue;
    }
    let j = 1;
    while (j <= need && i + j < buf.length) {
      const c = buf[i + j]!;
      const [min, max] = j === 1 ? [lo, hi] : [0x80, 0xbf];
      if (c < min || c > max) break;
      j++;
    }
    if (j <= need) out.push(i);
    i += j;
  }
  return out;
}

/** Continuation bytes a lead byte needs, and the allowed range of the first one (0 = not a lead byte). */
function lead(b: number): [number, number, number] {
  if (b >= 0xc2 && b <= 0xdf) return [1, 0x80, 0xbf];
  if (b === 0xe0) return [2, 0xa0, 0xbf];
  if (b === 0xed) return [2, 0x80, 0x9f];
  if (b >= 0xe1 && b <= 0xef) return [2, 0x80, 0xbf];
  if (b === 0xf0) return [3, 0x90, 0xbf];
  if (b >= 0xf1 && b <= 0xf3) return [3, 0x80, 0xbf];
  if (b === 0xf4) return [3, 0x80, 0x8f];
  return [0, 0, 0];
}
