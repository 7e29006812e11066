/**
 * Camunda's typed variables (`{name: {value, type, valueInfo}}`) to and from Baton's plain JSON
 * variables. Baton stores JSON values only, so the type travels as far as it can: numbers become
 * Integer, Long or Double by their value, objects and arrays Json, and a typed value coming in is
 * checked against its type before it is stored as plain JSON.
 */
import { ValidationError } from '../errors.ts';
import type { FormField, Json, Variables } from '../store/types.ts';

/** One variable as Camunda's REST API writes it. */
export interface TypedValue {
  value: Json;
  type: string;
  valueInfo: Record<string, Json>;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A stored value as Camunda types it: by its JSON kind and, for numbers, its size. */
export function toTyped(value: Json | undefined): TypedValue {
  if (value === null || value === undefined) return { value: null, type: 'Null', valueInfo: {} };
  if (typeof value === 'string') return { value, type: 'String', valueInfo: {} };
  if (typeof value === 'boolean') return { value, type: 'Boolean', valueInfo: {} };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { value, type: 'Double', valueInfo: {} };
    return { value, type: value >= INT_MIN && value <= INT_MAX ? 'Integer' : 'Long', valueInfo: {} };
  }
  return { value: JSON.stringify(value), type: 'Json', valueInfo: {} };
}

/** All variables (or the named ones) in Camunda's typed form. */
export function toTypedMap(variables: Variables, names?: string[]): Record<string, TypedValue> {
  const result: Record<string, TypedValue> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (!names || names.includes(name)) result[name] = toTyped(value);
  }
  return result;
}

/** A form field's current value typed as the form declares it (Camunda's form-variables). */
export function formFieldValue(field: FormField, value: Json | undefined): TypedValue {
  const current = value ?? field.defaultValue ?? null;
  switch (field.type) {
    case 'long':
      return { value: current, type: 'Long', valueInfo: {} };
    case 'boolean':
      return { value: current, type: 'Boolean', valueInfo: {} };
    case 'date':
      return { value: typeof current === 'string' ? camundaDate(current) : current, type: 'Date', valueInfo: {} };
    default:
      return { value: current, type: 'String', valueInfo: {} };
  }
}

/** Formats a timestamp as Camunda does: `2024-01-31T09:30:00.000+0000`; null stays null. */
export function camundaDate(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Date(time).toISOString().replace('Z', '+0000');
}

const bad = (name: string, message: string): ValidationError =>
  new ValidationError(`Cannot convert variable '${name}': ${message}`, [{ path: name, message }]);

/** A number from a number or a numeric string, as Camunda's JSON mapper accepts both. */
function numeric(name: string, value: unknown, type: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) throw bad(name, `value ${JSON.stringify(value)} is not a ${type}`);
  return number;
}

function parseJson(name: string, value: unknown): Json {
  if (typeof value !== 'string') return value as Json;
  try {
    return JSON.parse(value) as Json;
  } catch {
    throw bad(name, 'value is not valid JSON');
  }
}

/** Converts one typed value to the plain JSON Baton stores, checking it against its type. */
export function fromTyped(name: string, input: unknown): Json {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw bad(name, 'must be an object {value, type}');
  const { value, type, valueInfo } = input as { value?: unknown; type?: unknown; valueInfo?: unknown };
  if (type !== undefined && type !== null && typeof type !== 'string') throw bad(name, 'type must be a string');
  const kind = typeof type === 'string' ? type.toLowerCase() : undefined;
  if (value === undefined || value === null) {
    if (kind === 'bytes' || kind === 'file') throw bad(name, `Baton does not store ${type} variables`);
    return null;
  }
  switch (kind) {
    case undefined:
      if (typeof value === 'object') throw bad(name, 'an object value needs type Json');
      return value as Json;
    case 'string':
      if (typeof value !== 'string') throw bad(name, `value ${JSON.stringify(value)} is not a String`);
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw bad(name, `value ${JSON.stringify(value)} is not a Boolean`);
    case 'integer':
    case 'short':
    case 'long': {
      const number = numeric(name, value, type as string);
      const [min, max] = kind === 'short' ? [-32768, 32767] : kind === 'integer' ? [INT_MIN, INT_MAX] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
      if (!Number.isInteger(number) || number < min || number > max) throw bad(name, `value ${JSON.stringify(value)} is not a ${type}`);
      return number;
    }
    case 'double':
      return numeric(name, value, 'Double');
    case 'date': {
      const time = typeof value === 'string' ? Date.parse(value) : NaN;
      if (Number.isNaN(time)) throw bad(name, `value ${JSON.stringify(value)} is not a Date (yyyy-MM-dd'T'HH:mm:ss.SSSZ)`);
      return new Date(time).toISOString();
    }
    case 'json':
      return parseJson(name, value);
    case 'object': {
      const format = (valueInfo as { serializationDataFormat?: unknown } | undefined)?.serializationDataFormat;
      if (format !== 'application/json') throw bad(name, 'Object variables are accepted only with serializationDataFormat application/json');
      return parseJson(name, value);
    }
    case 'bytes':
    case 'file':
      throw bad(name, `Baton does not store ${type} variables`);
    default:
      throw bad(name, `unsupported value type '${type}'`);
  }
}

/** Converts a map of typed variables (absent or null: none) to Baton's plain variables. */
export function fromTypedMap(input: unknown, field = 'variables'): Variables {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError(`${field} must be an object of {value, type} entries`, [{ path: field, message: 'must be an object' }]);
  }
  const result: Variables = {};
  for (const [name, typed] of Object.entries(input)) {
    if (!NAME.test(name)) throw bad(name, 'is not a valid variable name');
    result[name] = fromTyped(name, typed);
  }
  return result;
}
