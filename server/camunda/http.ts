/**
 * Request and response helpers for /engine-rest: Camunda's query parameters (firstResult,
 * maxResults, booleans, comma lists) and JSON answers with exactly `application/json`, which
 * Camunda's clients compare literally.
 */
import type { Context } from 'koa';
import { ValidationError } from '../errors.ts';
import type { Page } from '../store/types.ts';

/** Answers JSON with Content-Type `application/json` (no charset, as Camunda sends it). */
export function send(ctx: Context, body: unknown, status = 200): void {
  ctx.status = status;
  ctx.body = body;
  ctx.set('Content-Type', 'application/json');
}

/** The server's own address as the client reached it, for Camunda's `links` (Koa's `origin` is the Origin header). */
export function serverUrl(ctx: Context): string {
  return `${ctx.protocol}://${ctx.host}`;
}

/** Answers 204 No Content. */
export function noContent(ctx: Context): void {
  ctx.status = 204;
  ctx.body = null;
}

/** A single query-string value, or undefined. */
export function param(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new ValidationError(`Only one value may be given for query parameter ${name}`);
  return value === undefined || value === '' ? undefined : value;
}

/** A boolean query parameter (`true`/`false`), or undefined. */
export function flag(ctx: Context, name: string): boolean | undefined {
  const value = param(ctx, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw new ValidationError(`Cannot set query parameter '${name}' to value '${value}'`);
  return value === 'true';
}

/** A non-negative integer query parameter, or undefined. */
export function integer(ctx: Context, name: string): number | undefined {
  const value = param(ctx, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) throw new ValidationError(`Cannot set query parameter '${name}' to value '${value}'`);
  return number;
}

/** A comma-separated list query parameter (Camunda's `...In` parameters), or undefined. */
export function list(ctx: Context, name: string): string[] | undefined {
  return param(ctx, name)?.split(',').filter(Boolean);
}

/** Camunda's paging window: firstResult (default 0) and maxResults (default and at most MAX_RESULTS). */
export interface Window {
  first: number;
  max: number;
}

/**
 * The most items one list answer holds, and what it holds without maxResults: Camunda's
 * queryMaxResultsLimit, which Baton always sets, so no list answer grows with the data.
 */
export const MAX_RESULTS = 1_000;

/** Reads firstResult and maxResults; more than MAX_RESULTS is refused as Camunda refuses it. */
export function window(ctx: Context): Window {
  const max = integer(ctx, 'maxResults') ?? MAX_RESULTS;
  if (max > MAX_RESULTS) throw new ValidationError(`Max results limit of ${MAX_RESULTS} exceeded!`, [{ path: 'maxResults', message: `at most ${MAX_RESULTS}` }]);
  return { first: integer(ctx, 'firstResult') ?? 0, max };
}

/** Cuts a window out of a full list. */
export function slice<T>(items: T[], { first, max }: Window): T[] {
  return items.slice(first, max === Number.POSITIVE_INFINITY ? undefined : first + max);
}

const CHUNK = 500;
/** The most records one list or count request reads; a guard, not a feature. */
export const SCAN_LIMIT = 10_000;

/**
 * Pages through a Baton query, keeping what `keep` accepts, until `need` items are collected
 * or the query is exhausted (at most SCAN_LIMIT records read). Camunda filters Baton's queries
 * do not know are applied here.
 */
export async function collect<T>(
  fetch: (offset: number, limit: number) => Promise<Page<T>>,
  keep: (item: T) => boolean,
  need = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const kept: T[] = [];
  for (let offset = 0; offset < SCAN_LIMIT && kept.length < need; offset += CHUNK) {
    const page = await fetch(offset, CHUNK);
    kept.push(...page.items.filter(keep));
    if (page.items.length < CHUNK) break;
  }
  return kept;
}

/** How many items a list request needs: all for count, firstResult + maxResults otherwise. */
export function needed(win: Window): number {
  return win.first + win.max;
}

/** A JSON body property that must be a boolean when present. */
export function bodyFlag(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(`${name} must be a boolean`, [{ path: name, message: 'must be true or false' }]);
  return value;
}

/** Refuses body properties Baton cannot honour instead of silently ignoring them. */
export function refuse(body: Record<string, unknown>, names: string[], where: string): void {
  for (const name of names) {
    const value = body[name];
    const empty = value === undefined || value === null || value === false || value === '' || (typeof value === 'object' && !Object.keys(value).length);
    if (!empty) throw new ValidationError(`${where}: '${name}' is not supported by Baton`, [{ path: name, message: 'not supported' }]);
  }
}
