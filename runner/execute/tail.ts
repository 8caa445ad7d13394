import { OUTPUT_TAIL_BYTES } from './types.ts';

/**
 * Keeps the last `limit` bytes of a text stream. Cheap to push to: the text is
 * trimmed only when it has grown well past the limit; `text()` does the exact cut,
 * starting at a line boundary when one is near so the tail reads cleanly.
 */
export class OutputTail {
  private buf = '';
  private dropped = false;
  private readonly limit: number;

  constructor(limit = OUTPUT_TAIL_BYTES) {
    this.limit = limit;
  }

  push(text: string): void {
    this.buf += text;
    // Characters are at most 4 bytes: past 4x the limit in characters, the head can surely go.
    if (this.buf.length > 4 * this.limit) {
      this.buf = this.buf.slice(this.buf.length - this.limit);
      this.dropped = true;
    }
  }

  get truncated(): boolean {
    return this.dropped || Buffer.byteLength(this.buf) > this.limit;
  }

  text(): string {
    const bytes = Buffer.from(this.buf);
    if (bytes.length <= this.limit && !this.dropped) return this.buf;
    // Cut, drop a split multi-byte character, then start at the next line if one begins soon.
    let tail = bytes
      .subarray(bytes.length - this.limit)
      .toString('utf8')
      .replace(/^\uFFFD+/, '');
    const nl = tail.indexOf('\n');
    if (nl >= 0 && nl < 4096) tail = tail.slice(nl + 1);
    return tail;
  }
}
