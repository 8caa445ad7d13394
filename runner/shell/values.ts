/**
 * Option values read the way the tool reads them. kubectl and helm (spf13/pflag) parse integers
 * with Go's strconv.ParseInt in base 0: a sign, a 0x/0b/0o prefix or a leading 0 for octal, and
 * underscores between digits, so `+0`, `-0`, `0x0`, `0b0`, `0o0`, `00` and `0_0` are all zero.
 * Hand-written: no JS library parses Go's integer syntax.
 */
const GO_INTEGER: Array<[RegExp, number]> = [
  [/^0[xX]((?:_?[0-9a-fA-F])+)$/, 16],
  [/^0[bB]((?:_?[01])+)$/, 2],
  [/^0[oO]((?:_?[0-7])+)$/, 8],
  [/^0((?:_?[0-7])*)$/, 8],
  [/^([1-9](?:_?[0-9])*)$/, 10],
];

/** The integer Go's ParseInt(text, 0, 64) reads, or undefined when it reads none. */
export function goInteger(text: string): bigint | undefined {
  const sign = text.startsWith('-') ? -1n : 1n;
  const body = text.replace(/^[+-]/, '');
  for (const [re, base] of GO_INTEGER) {
    const m = re.exec(body);
    if (!m) continue;
    const digits = m[1]!.replace(/_/g, '') || '0';
    let n = 0n;
    for (const d of digits) n = n * BigInt(base) + BigInt(Number.parseInt(d, base));
    return sign * n;
  }
  return undefined;
}
