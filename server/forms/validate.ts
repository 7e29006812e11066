import { ValidationError, type Problem } from '../errors.ts';
import type { FormField, Json, Variables } from '../store/types.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** names that would reach into an object's prototype where variables are merged or evaluated */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
/** deeper values make the engine's recursive copies overflow the stack */
const MAX_DEPTH = 32;

/** How deeply a JSON value nests (a scalar is 0); stops counting past the limit. */
function depthOf(value: Json, limit = MAX_DEPTH + 1): number {
  if (value === null || typeof value !== 'object' || limit <= 0) return 0;
  let deepest = 0;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depthOf(item as Json, limit - 1));
  return deepest + 1;
}

function checkField(field: FormField, value: Json): string | null {
  const c = field.constraints ?? {};
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (typeof c.minlength === 'number' && value.length < c.minlength) return `must have at least ${c.minlength} characters`;
      if (typeof c.maxlength === 'number' && value.length > c.maxlength) return `must have at most ${c.maxlength} characters`;
      return null;
    case 'long':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be a whole number';
      if (typeof c.min === 'number' && value < c.min) return `must be at least ${c.min}`;
      if (typeof c.max === 'number' && value > c.max) return `must be at most ${c.max}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? null : 'must be an ISO 8601 date';
    case 'enum':
      return typeof value === 'string' && (field.values ?? []).some((option) => option.id === value)
        ? null
        : `must be one of ${(field.values ?? []).map((option) => option.id).join(', ')}`;
  }
}

/**
 * Checks submitted values against a form and returns the variables to store (defaults filled
 * in). Without a form, any variables with valid names are taken. Throws one ValidationError
 * naming every bad field. A form's fields are the only variables a person can set through it.
 */
export function validateForm(fields: FormField[], input: unknown): Variables {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('variables must be a JSON object', [{ path: 'variables', message: 'must be an object' }]);
  }
  const values = input as Record<string, Json>;
  const problems: Problem[] = [];
  const result: Variables = {};
  const byId = new Map(fields.map((field) => [field.id, field]));
  for (const [name, value] of Object.entries(values)) {
    if (!NAME.test(name)) problems.push({ path: name, message: 'is not a valid variable name' });
    else if (RESERVED.has(name)) problems.push({ path: name, message: 'is a reserved name' });
    else if (depthOf(value) > MAX_DEPTH) problems.push({ path: name, message: `nests deeper than ${MAX_DEPTH} levels` });
    else if (fields.length && !byId.has(name)) problems.push({ path: name, message: 'is not a field of this form' });
    else if (!fields.length) result[name] = value;
  }
  for (const field of fields) {
    const value = values[field.id];
    if (value === undefined || value === null || value === '') {
      if (field.required) problems.push({ path: field.id, message: `${field.label} is required` });
      else if (field.defaultValue !== undefined) result[field.id] = field.defaultValue;
      continue;
    }
    if (field.constraints?.readonly) {
      problems.push({ path: field.id, message: `${field.label} is read-only` });
      continue;
    }
    const problem = checkField(field, value);
    if (problem) problems.push({ path: field.id, message: `${field.label} ${problem}` });
    else result[field.id] = value;
  }
  if (problems.length) throw new ValidationError(`${problems.length} invalid field${problems.length > 1 ? 's' : ''}`, problems);
  return result;
}
