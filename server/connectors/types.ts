import type { LockedTask } from '../jobs/service.ts';
import type { Json, Variables } from '../store/types.ts';

/** One delivery of a job to a connector. */
export interface ConnectorCall {
  task: LockedTask;
  /**
   * `<job id>.<attempt>`: sent with every call (Idempotency-Key, Message-ID, Twilio's idempotency
   * token) so a re-delivered call is recognised downstream; a retry after a failure is a new attempt.
   */
  idempotencyKey: string;
  /** aborted when Baton stops: leave the job alone, its lock expires and it is delivered again */
  signal: AbortSignal;
}

/** What a connector call came to. */
export type ConnectorOutcome =
  | { kind: 'complete'; variables: Variables; details: Variables }
  | { kind: 'bpmnError'; errorCode: string; errorMessage: string };

/** A built-in connector: an in-process worker for one reserved topic. */
export interface Connector {
  topic: string;
  /** how it sends, for GET /health: 'twilio' or 'log', 'smtp' or 'log', 'on' */
  mode: string;
  execute(call: ConnectorCall): Promise<ConnectorOutcome>;
  close?(): Promise<void>;
}

/** Thrown by a connector when a call failed: with `retry` the job is tried again, without it becomes an incident. */
export class ConnectorError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

/** A parameter as a list of strings: an array, or a comma-separated text. */
export function textList(value: Json | undefined): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => textList(item));
  if (value === null || value === undefined || typeof value === 'object') return [];
  return String(value).split(',').map((part) => part.trim()).filter(Boolean);
}

/** A parameter as one text, or undefined when it is not given. */
export function text(value: Json | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The words of an error and of its causes (fetch and axios hide the reason, e.g. ECONNREFUSED, in `cause` or `code`). */
export function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const own = typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  return error.cause instanceof Error ? `${own}: ${reason(error.cause)}` : own;
}
