import type { Masker } from '../../runner/secrets/mask.ts';

/** Feeds `text` to a stream masker in the pieces that `cuts` (any numbers, folded into range) make. */
export function maskInPieces(masker: Masker, text: string, cuts: number[]): string {
  const stream = masker.stream();
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  let out = '';
  let from = 0;
  for (const p of [...points, text.length]) {
    out += stream.push(text.slice(from, p));
    from = p;
  }
  return out + stream.flush();
}
