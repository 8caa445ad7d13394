import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { markers } from './script.ts';

/**
 * One step's ssh channel, read: the step's output on stdout, and on stderr ssh's, sudo's and the
 * remote wrapper's lines, among them the wrapper's nonce-marked "started" and "exit N" reports.
 */

export interface Channel {
  /** The wrapper said it started: ssh connected and sudo/bash ran. */
  started(): boolean;
  /** The step's exit code, once the wrapper reported it. */
  exit(): number | undefined;
  /** ssh's, sudo's and the wrapper's own lines (capped). */
  stderr(): string;
  onExit?: () => void;
  end(): void;
}

/** Step output comes on stdout; the channel's stderr carries only ssh's, sudo's and the wrapper's lines. */
export function readChannel(
  child: ChildProcessWithoutNullStreams,
  nonce: string,
  show: (text: string) => void,
): Channel {
  const mark = markers(nonce);
  const out = new StringDecoder('utf8');
  const err = new StringDecoder('utf8');
  let stderr = '';
  let partial = '';
  let started = false;
  let exit: number | undefined;
  const channel: Channel = {
    started: () => started,
    exit: () => exit,
    stderr: () => stderr,
    end() {
      show(out.end());
      lines(err.end(), true);
    },
  };
  const lines = (text: string, final = false) => {
    const all = (partial + text).split('\n');
    partial = final ? '' : all.pop()!;
    for (const line of all) {
      const m = mark.parse(line);
      if (m === 'started') started = true;
      else if (m !== undefined) {
        exit = m;
        channel.onExit?.();
      } else if (line || !final) {
        if (stderr.length < 64 * 1024) stderr += `${line}\n`;
        show(`${line}\n`);
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => show(out.write(d)));
  child.stderr.on('data', (d: Buffer) => lines(err.write(d)));
  return channel;
}
