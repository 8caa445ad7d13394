// A failure the pod simulator reports as the real tool would: a message on stderr and an exit code.
export class PodSimError extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.name = 'PodSimError';
    this.code = code;
  }
}
