// The lab's web services (src/content/lab/services.yaml) as the twin answers
// them in the operator's namespace: the list of hostnames, and what a request
// gets. Plain data and pure functions, so the answers are testable without a
// namespace; operator-web.ts serves them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { repoRoot } from '../paths.ts';

export const servicesFile = join(repoRoot, 'src', 'content', 'lab', 'services.yaml');

const answerSchema = z.union([
  z.object({ json: z.unknown() }).strict(),
  z.object({ text: z.string() }).strict(),
  z.object({ echo: z.literal(true) }).strict(),
]);

const pathSchema = z
  .object({
    path: z.string().startsWith('/'),
    /** Also answers every path below it (whoami answers anything). */
    prefix: z.boolean().optional(),
    methods: z.array(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'])).optional(),
    status: z.number().int().min(100).max(599).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    answer: answerSchema,
  })
  .strict();

const serviceSchema = z
  .object({
    name: z.string().min(1),
    hostname: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'a lower-case DNS name'),
    what: z.string().min(1),
    paths: z.array(pathSchema).min(1),
  })
  .strict();

const fileSchema = z.object({ services: z.array(serviceSchema).min(1) }).strict();

export type LabService = z.infer<typeof serviceSchema>;

export function loadServices(file = servicesFile): LabService[] {
  const parsed = fileSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`${file} is not a valid list of lab services:\n${issues}`);
  }
  const names = new Set<string>();
  for (const s of parsed.data.services) {
    if (names.has(s.hostname)) throw new Error(`${file}: hostname ${s.hostname} is listed twice`);
    names.add(s.hostname);
  }
  return parsed.data.services;
}

/** The header every answer carries, so nothing the twin serves can be mistaken for the lab. */
export const TWIN_HEADER = { name: 'X-Lab-Twin', value: 'simulated' } as const;

export interface TwinRequest {
  method: string;
  /** The Host header (a port, if any, is ignored). */
  host: string;
  /** The request target: path and query. */
  url: string;
  httpVersion: string;
  headers: Array<[string, string]>;
  body: string;
  remoteAddress: string;
  scheme: 'http' | 'https';
}

export interface TwinAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * What the twin answers. Plain HTTP is redirected to HTTPS, as Traefik's
 * entrypoint redirect does in the lab (ADR-0005); over HTTPS a listed path of
 * a listed host answers as the data file says, anything else is a 404 that
 * says where the list is.
 */
export function answerRequest(services: readonly LabService[], req: TwinRequest): TwinAnswer {
  const host = req.host.replace(/:\d+$/, '').toLowerCase();
  const headers: Record<string, string> = { [TWIN_HEADER.name]: TWIN_HEADER.value };
  const service = services.find((s) => s.hostname === host);
  if (req.scheme === 'http' && service) {
    return {
      status: 308,
      headers: { ...headers, Location: `https://${host}${req.url}`, 'Content-Type': 'text/plain' },
      body: `Permanent Redirect: https://${host}${req.url} (lab twin)\n`,
    };
  }
  const path = req.url.split('?')[0]!;
  const route = service?.paths.find(
    (p) =>
      (p.path === path || (p.prefix && path.startsWith(p.path))) &&
      (p.methods ?? ['GET', 'HEAD']).includes(req.method as never),
  );
  if (!service || !route) {
    const what = service
      ? `${service.name} (${host}) has no ${req.method} ${path}`
      : `no lab service is named ${host || '(no Host header)'}`;
    return {
      status: 404,
      headers: { ...headers, 'Content-Type': 'text/plain' },
      body: `lab twin: ${what}; the simulated services are listed in src/content/lab/services.yaml\n`,
    };
  }
  const status = route.status ?? 200;
  const a = route.answer;
  if ('echo' in a) {
    // traefik/whoami's format: who answered, then the request as received.
    const lines = [
      `Hostname: ${service.name} (lab twin)`,
      'IP: 127.0.0.1',
      `RemoteAddr: ${req.remoteAddress}`,
      `${req.method} ${req.url} HTTP/${req.httpVersion}`,
      `Host: ${req.host}`,
      ...req.headers.filter(([k]) => k.toLowerCase() !== 'host').map(([k, v]) => `${k}: ${v}`),
    ];
    return {
      status,
      headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...route.headers },
      body: `${lines.join('\n')}\n\n${req.body}`,
    };
  }
  if ('json' in a)
    return {
      status,
      headers: { ...headers, 'Content-Type': 'application/json', ...route.headers },
      body: JSON.stringify(a.json),
    };
  return {
    status,
    headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...route.headers },
    body: a.text,
  };
}
