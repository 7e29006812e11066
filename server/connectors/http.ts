import type { Logger } from 'pino';
import { deadline } from '../deadline.ts';
import { CONNECTOR_TOPICS } from '../engine/extensions.ts';
import type { Json, Variables } from '../store/types.ts';
import { ConnectorError, reason, text, type Connector, type ConnectorOutcome } from './types.ts';

/**
 * The HTTP connector on topic `http` (also Camunda's `http-connector`), on Node's fetch.
 * Parameters (input parameters of the task): `url`, `method` (default GET, POST with a payload),
 * `headers` (a map or a JSON object), `payload` (an object or list goes as JSON), `bpmnErrors`
 * (a map or "404=CODE,409=OTHER": answers that are BPMN errors), `timeout` (ms). The answer is
 * given to output parameters as `statusCode`, `response` (JSON parsed) and `headers`.
 * 5xx, 408, 429 and network errors are retried; another 4xx is an incident.
 */

const MAX_RESPONSE_BYTES = 1024 * 1024;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** A URL for messages: no credentials, no query (it may hold a secret). */
const shown = (url: URL): string => `${url.origin}${url.pathname}`;

function objectOf(value: Json | undefined, name: string): Record<string, Json> {
  if (value === undefined || value === null || value === '') return {};
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ConnectorError(`the input parameter "${name}" is neither a map nor a JSON object`, false);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConnectorError(`the input parameter "${name}" must be a map`, false);
  }
  return parsed as Record<string, Json>;
}

/** `bpmnErrors`: HTTP status → BPMN error code. */
function errorCodes(value: Json | undefined): Map<number, string> {
  const entries =
    typeof value === 'string' && !value.trim().startsWith('{')
      ? value.split(',').filter((part) => part.trim()).map((part) => part.split('=').map((side) => side.trim()))
      : Object.entries(objectOf(value, 'bpmnErrors')).map(([status, code]) => [status, String(code)]);
  return new Map(
    entries.map(([status, code]) => {
      if (!/^[1-5]\d\d$/.test(status ?? '') || !code) throw new ConnectorError(`bpmnErrors must map HTTP statuses to error codes, e.g. 404=NOT_FOUND; got "${status}=${code}"`, false);
      return [Number(status), code];
    }),
  );
}

/** Reads an answer, refusing it (without holding more of it) once it grows past MAX_RESPONSE_BYTES. */
async function readBody(response: Response): Promise<Json> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw new ConnectorError(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`, false);
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  if (/\bjson\b/i.test(response.headers.get('content-type') ?? '') && body) {
    try {
      return JSON.parse(body) as Json;
    } catch {
      return body;
    }
  }
  return body;
}

/** The short reason in an error answer: a problem's detail or title, a message, or the start of the text. */
function detailOf(body: Json): string {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const key of ['detail', 'message', 'error', 'title']) if (typeof body[key] === 'string') return body[key];
  }
  return (typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 300);
}

/** calls to one host waiting at once; more fail fast (and are retried), so a hanging host holds few of the connector's slots */
const PER_HOST = 8;

export function createHttpConnector(deps: { timeoutMs: number; log: Logger }): Connector {
  const { timeoutMs, log } = deps;
  const waiting = new Map<string, number>();
  return {
    topic: CONNECTOR_TOPICS.http,
    mode: 'on',
    async execute({ task, idempotencyKey, signal }): Promise<ConnectorOutcome> {
      const { input } = task;
      let url: URL;
      try {
        url = new URL(text(input.url) ?? '');
      } catch {
        throw new ConnectorError(`the input parameter "url" is missing or not a URL`, false);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConnectorError(`only http and https URLs are called, not ${url.protocol}`, false);
      const payload = input.payload;
      const method = (text(input.method) ?? (payload === undefined || payload === null ? 'GET' : 'POST')).toUpperCase();
      if (!METHODS.has(method)) throw new ConnectorError(`method ${method} is not supported`, false);
      let headers: Headers;
      try {
        headers = new Headers(Object.entries(objectOf(input.headers, 'headers')).map(([name, value]): [string, string] => [name, String(value)]));
      } catch (error) {
        if (error instanceof ConnectorError) throw error;
        throw new ConnectorError(`the input parameter "headers" holds a bad header: ${reason(error)}`, false);
      }
      headers.set('Idempotency-Key', idempotencyKey);
      if (!headers.has('user-agent')) headers.set('User-Agent', 'Baton');
      let body: string | undefined;
      if (payload !== undefined && payload !== null && method !== 'GET' && method !== 'HEAD') {
        body = typeof payload === 'string' ? payload : JSON.stringify(payload);
        if (!headers.has('content-type')) headers.set('Content-Type', typeof payload === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
      }
      const bpmnErrors = errorCodes(input.bpmnErrors);
      const limit = typeof input.timeout === 'number' && input.timeout > 0 ? Math.min(input.timeout, timeoutMs) : timeoutMs;
      const target = `${method} ${shown(url)}`;

      const host = url.host;
      if ((waiting.get(host) ?? 0) >= PER_HOST) throw new ConnectorError(`${target} not sent: ${PER_HOST} calls to ${host} are already waiting for an answer`, true);
      waiting.set(host, (waiting.get(host) ?? 0) + 1);
      const call = deadline(limit, signal);
      let response: Response;
      let answer: Json;
      try {
        response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), redirect: 'follow', signal: call.signal });
        answer = await readBody(response);
      } catch (error) {
        if (error instanceof ConnectorError) throw error;
        throw new ConnectorError(`${target} ${call.expired ? `did not answer within ${limit} ms` : `failed: ${reason(error)}`}`, true);
      } finally {
        call.clear();
        const left = (waiting.get(host) ?? 1) - 1;
        if (left) waiting.set(host, left);
        else waiting.delete(host);
      }
      const { status } = response;
      log.info({ connector: 'http', jobId: task.id, instanceId: task.instanceId, elementId: task.elementId, idempotencyKey, request: target, status }, 'HTTP connector called');
      const code = bpmnErrors.get(status);
      if (code) return { kind: 'bpmnError', errorCode: code, errorMessage: `${target} answered ${status}: ${detailOf(answer)}` };
      if (status >= 400) {
        const retry = status >= 500 || status === 408 || status === 429;
        throw new ConnectorError(`${target} answered ${status}: ${detailOf(answer)}`, retry);
      }
      const responseHeaders: Variables = {};
      response.headers.forEach((value, name) => (responseHeaders[name] = value));
      return {
        kind: 'complete',
        variables: { statusCode: status, response: answer, headers: responseHeaders },
        details: { channel: 'http', request: target, statusCode: status },
      };
    },
  };
}
