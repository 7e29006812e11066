import { ValidationError, type Problem } from '../errors.ts';
import type { FormField, Json, Variables } from '../store/types.ts';
import { assertWithinLimits, countOverflow, depthOf, overflowError, type VariableLimits } from './variable-limits.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** names that would reach into an object's prototype where variables are merged or evaluated */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

function checkField(field: FormField, value: Json, limits: VariableLimits): string | null {
  const c = field.constraints ?? {};
  switch (field.type) {
    case 'string': {
      if (typeof value !== 'string') return 'must be a string';
      if (typeof c.minlength === 'number' && value.length < c.minlength) return `must have at least ${c.minlength} characters`;
      // a text field without its own maxlength gets the server's (BATON_FORM_TEXT_MAX_LENGTH)
      const max = typeof c.maxlength === 'number' ? c.maxlength : limits.textMaxLength;
      if (value.length > max) return `must have at most ${max} characters`;
      return null;
    }
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
 * The values must keep within the variable limits (400 too many or too deep, 413 too large).
 */
export function validateForm(fields: FormField[], input: unknown, limits: VariableLimits): Variables {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('variables must be a JSON object', [{ path: 'variables', message: 'must be an object' }]);
  }
  const values = input as Record<string, Json>;
  // counted before any value is looked at: 200,000 variables are refused at once
  const tooMany = countOverflow(Object.keys(values).length, limits);
  if (tooMany) throw overflowError(tooMany);
  const problems: Problem[] = [];
  const result: Variables = {};
  const byId = new Map(fields.map((field) => [field.id, field]));
  for (const [name, value] of Object.entries(values)) {
    if (!NAME.test(name)) problems.push({ path: name, message: 'is not a valid variable name' });
    else if (RESERVED.has(name)) problems.push({ path: name, message: 'is a reserved name' });
    else if (depthOf(value, limits.maxDepth) > limits.maxDepth) problems.push({ path: name, message: `nests deeper than ${limits.maxDepth} levels` });
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
    const problem = checkField(field, value, limits);
    if (problem) problems.push({ path: field.id, message: `${field.label} ${problem}` });
    else result[field.id] = value;
  }
  if (problems.length) throw new ValidationError(`${problems.length} invalid field${problems.length > 1 ? 's' : ''}`, problems);
  assertWithinLimits(result, limits);
  return result;
}
