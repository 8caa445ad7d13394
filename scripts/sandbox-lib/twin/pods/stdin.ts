// Reading a command's stdin inside a twin pod.
//
// kwok v0.7.0 never closes an exec'd process's stdin: with `kubectl exec -i` it copies the
// stream into the child's stdin pipe and does not close the pipe when the stream ends
// (pkg/utils/exec/exec.go, WithPipeStdin: io.Copy into cmd.StdinPipe() without Close).
// A reader of that pipe would wait forever. So a pipe's input ends at EOF or after
// IDLE_MS without new bytes (the first bytes may take FIRST_MS): kubectl streams a file
// at once over loopback, so a pause that long means the stream has ended. A file or
// /dev/null (no -i: kwok gives the child /dev/null) is read to its real end.
import { fstatSync, readFileSync, type Stats } from 'node:fs';

export const FIRST_MS = 1500;
export const IDLE_MS = 400;

export function readStdin(): Promise<Buffer> {
  let st: Stats;
  try {
    st = fstatSync(0);
  } catch {
    return Promise.resolve(Buffer.alloc(0));
  }
  if (!st.isFIFO() && !st.isSocket()) {
    try {
      return Promise.resolve(readFileSync(0));
    } catch {
      return Promise.resolve(Buffer.alloc(0));
    }
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout;
    const done = () => {
      clearTimeout(timer);
      process.stdin.removeAllListeners('data');
      process.stdin.pause();
      process.stdin.destroy();
      resolve(Buffer.concat(chunks));
    };
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(done, ms);
    };
    process.stdin.on('data', (c: Buffer) => {
      chunks.push(c);
      arm(IDLE_MS);
    });
    process.stdin.once('end', done);
    process.stdin.once('error', done);
    arm(FIRST_MS);
  });
}
