/** JSON on stdout; with `mask`, every string in it is masked (a structure is never masked into invalid JSON). */
export function printJson(value: unknown, mask?: (text: string) => string): void {
  const replacer = mask ? (_key: string, v: unknown) => (typeof v === 'string' ? mask(v) : v) : undefined;
  process.stdout.write(`${JSON.stringify(value, replacer, 2)}\n`);
}
