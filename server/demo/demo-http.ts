/**
 * The little HTTP server both demo systems are built on: JSON in and out, RFC 9457 problem
 * bodies for errors, a size limit on request bodies, a simulated network latency, and an outage
 * switch to show Baton's retries and incidents: `POST /outage` with `{"seconds": 60}` (down for a
 * while) or `{"requests": 2}` (the next two calls fail), `DELETE /outage` to end it. While down
 * the system answers 503.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** A running (or ready to run) demo system. */
export interface DemoSystem {
  /** Starts listening and resolves with the base URL, e.g. `http://127.0.0.1:41234`. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  /** Makes the system answer 503 for a while or for a number of requests (both: whichever ends first); none ends it. */
  outage(spec?: { seconds?: number; requests?: number }): void;
}

/** Options shared by the demo systems. */
export interface DemoSystemOptions {
  /** Fixed delay before every answer; default is a random 150–400 ms. Use 0 in tests. */
  readonly latencyMs?: number;
}

/** What a route answers when it succeeds. */
export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One endpoint: method, a path pattern whose groups become `params`, and its handler. */
export interface DemoRoute {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  handle(params: readonly string[], readBody: () => Promise<unknown>): JsonReply | Promise<JsonReply>;
}

/** Thrown by routes (and the body reader) to answer with a problem body of this status. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

const maxBodyBytes = 16 * 1024;

/** Builds a demo system named `name` (used in problem bodies) that serves `routes`. */
export function createDemoSystem(name: string, routes: readonly DemoRoute[], opts: DemoSystemOptions = {}): DemoSystem {
  const latency = (): number => opts.latencyMs ?? 150 + Math.floor(Math.random() * 250);
  let down: { until: number; requests: number } | null = null;
  const outage = (spec: { seconds?: number; requests?: number } = {}): void => {
    const { seconds, requests } = spec;
    down = seconds || requests ? { until: seconds ? Date.now() + seconds * 1000 : Infinity, requests: requests ?? Infinity } : null;
  };
  /** true while an outage lasts; counts the request against it */
  const isDown = (): boolean => {
    if (down && Date.now() < down.until && down.requests > 0) {
      down.requests--;
      return true;
    }
    down = null;
    return false;
  };

  const server = createServer((req, res) => {
    void answer(req)
      .catch((error: unknown) => problemReply(name, error))
      .then(async (reply) => {
        await sleep(latency());
        if (!res.destroyed) send(res, reply);
      });
  });

  async function answer(req: IncomingMessage): Promise<JsonReply> {
    const { pathname } = new URL(req.url ?? '/', 'http://demo.invalid');
    if (pathname === '/outage') return switchOutage(req);
    if (isDown()) throw new ProblemError(503, 'Service Unavailable', `The ${name} system is down (demo outage)`, { 'retry-after': '10' });
    const matching = routes.flatMap((route) => {
      const match = route.path.exec(pathname);
      return match ? [{ route, params: match.slice(1) }] : [];
    });
    if (matching.length === 0) throw new ProblemError(404, 'Not Found', `No resource at ${pathname}`);
    const hit = matching.find(({ route }) => route.method === req.method);
    if (!hit) {
      const allowed = matching.map(({ route }) => route.method).join(', ');
      throw new ProblemError(405, 'Method Not Allowed', `${pathname} allows ${allowed}`, { allow: allowed });
    }
    return hit.route.handle(hit.params.map(decodeParam), () => readJsonBody(req));
  }

  async function switchOutage(req: IncomingMessage): Promise<JsonReply> {
    if (req.method === 'DELETE') {
      outage();
      return { status: 200, body: { system: name, down: false } };
    }
    if (req.method !== 'POST') throw new ProblemError(405, 'Method Not Allowed', '/outage allows POST, DELETE', { allow: 'POST, DELETE' });
    const body = (await readJsonBody(req)) as { seconds?: unknown; requests?: unknown } | null;
    const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);
    const spec = { seconds: count(body?.seconds), requests: count(body?.requests) };
    if (!spec.seconds && !spec.requests) throw new ProblemError(400, 'Bad Request', 'Send {"seconds": n} or {"requests": n} with a positive whole number');
    outage(spec);
    return { status: 200, body: { system: name, down: true, ...spec } };
  }

  return {
    outage,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          const actualPort = typeof address === 'object' && address !== null ? address.port : port;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ProblemError(400, 'Bad Request', `Malformed path segment ${raw}`);
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new ProblemError(415, 'Unsupported Media Type', 'Send the body as application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new ProblemError(413, 'Content Too Large', `Bodies are limited to ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ProblemError(400, 'Bad Request', 'The body is not valid JSON');
  }
}

function problemReply(system: string, error: unknown): JsonReply {
  const problem =
    error instanceof ProblemError ? error : new ProblemError(500, 'Internal Server Error', 'Unexpected error');
  return {
    status: problem.status,
    headers: problem.headers,
    body: { type: 'about:blank', title: problem.title, status: problem.status, detail: problem.message, system },
  };
}

function send(res: ServerResponse, reply: JsonReply): void {
  const payload = JSON.stringify(reply.body);
  const type = reply.status >= 400 ? 'application/problem+json' : 'application/json';
  // After an error the rest of a request body may still be unread: do not reuse the connection.
  if (reply.status >= 400) res.setHeader('connection', 'close');
  res.writeHead(reply.status, { ...reply.headers, 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
