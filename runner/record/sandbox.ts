/**
 * A run whose API server is on loopback ran against the sandbox (or a test
 * cluster), never the lab: readers show it, but do not count it as evidence.
 */
export function isSandboxServer(server: string | undefined): boolean {
  if (!server) return false;
  try {
    const host = new URL(server).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}
