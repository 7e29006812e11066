import type { Problem } from './api.ts';
import { h, replace } from './dom.ts';

/** A form field of a start form or a user task (Camunda formData), as the API describes it. */
export interface FormField {
  id: string;
  label: string;
  type: 'string' | 'long' | 'boolean' | 'date' | 'enum';
  required: boolean;
  defaultValue?: unknown;
  values?: { id: string; name: string }[];
  constraints?: Record<string, string | number | true>;
}

/** A generated form: its fields, the values entered, and the server's messages shown per field. */
export interface GeneratedForm {
  element: HTMLElement;
  /** the values entered; empty fields are left out so the server can say what is required */
  values(): Record<string, unknown>;
  /** shows the problems of a 400 next to their fields; returns those that name no field */
  showProblems(problems: Problem[]): Problem[];
}

/**
 * Builds labelled inputs for form fields: text, whole numbers, yes/no (radio buttons, so an
 * unanswered required question stays unanswered), dates and choices, with their defaults.
 */
export function generateForm(fields: FormField[], prefix: string): GeneratedForm {
  const readers = new Map<string, () => unknown>();
  const messages = new Map<string, HTMLElement>();
  const inputs = new Map<string, HTMLElement>();
  const rows = fields.map((field) => {
    const id = `${prefix}-${field.id}`;
    const errorId = `${id}-error`;
    const message = h('p', { id: errorId, class: 'field-error', 'aria-live': 'polite' });
    messages.set(field.id, message);
    const readonly = field.constraints?.readonly === true;
    const mark = field.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null;
    if (field.type === 'boolean') {
      const choice = (value: boolean, text: string): HTMLElement => {
        const input = h('input', { type: 'radio', name: id, id: `${id}-${value}`, value: String(value), checked: field.defaultValue === value, disabled: readonly });
        return h('label', { class: 'choice', for: `${id}-${value}` }, input, ` ${text}`);
      };
      const set = h('fieldset', { class: 'field', 'aria-describedby': errorId, 'data-field': field.id }, h('legend', {}, field.label, mark), choice(true, 'Yes'), choice(false, 'No'), message);
      readers.set(field.id, () => {
        const checked = set.querySelector<HTMLInputElement>('input:checked');
        return checked ? checked.value === 'true' : undefined;
      });
      inputs.set(field.id, set);
      return set;
    }
    let input: HTMLInputElement | HTMLSelectElement;
    if (field.type === 'enum') {
      input = h(
        'select',
        { id, name: field.id },
        h('option', { value: '' }, '—'),
        (field.values ?? []).map((value) => h('option', { value: value.id, selected: field.defaultValue === value.id }, value.name || value.id)),
      );
    } else {
      input = h('input', {
        id,
        name: field.id,
        type: field.type === 'long' ? 'number' : field.type === 'date' ? 'date' : 'text',
        step: field.type === 'long' ? 1 : null,
        value: field.defaultValue === undefined || field.defaultValue === null ? null : String(field.defaultValue),
        readonly,
      });
    }
    input.setAttribute('aria-describedby', errorId);
    if (field.required) input.setAttribute('aria-required', 'true');
    readers.set(field.id, () => {
      const raw = input.value.trim();
      if (!raw) return undefined;
      if (field.type === 'long') return Number.isFinite(Number(raw)) ? Number(raw) : raw;
      if (field.type === 'date') return new Date(raw).toISOString();
      return raw;
    });
    inputs.set(field.id, input);
    return h('div', { class: 'field', 'data-field': field.id }, h('label', { for: id }, field.label, mark), input, message);
  });

  return {
    element: h('div', { class: 'generated-form' }, rows.length ? rows : h('p', { class: 'muted' }, 'No fields to fill in.')),
    values() {
      const values: Record<string, unknown> = {};
      for (const field of fields) {
        if (field.constraints?.readonly === true) continue;
        const value = readers.get(field.id)?.();
        if (value !== undefined) values[field.id] = value;
      }
      return values;
    },
    showProblems(problems) {
      for (const [id, message] of messages) {
        replace(message);
        inputs.get(id)?.removeAttribute('aria-invalid');
      }
      const unplaced: Problem[] = [];
      let first: HTMLElement | undefined;
      for (const problem of problems) {
        const message = problem.path ? messages.get(problem.path) : undefined;
        if (!message || !problem.path) {
          unplaced.push(problem);
          continue;
        }
        replace(message, problem.message);
        const input = inputs.get(problem.path);
        input?.setAttribute('aria-invalid', 'true');
        first ??= input;
      }
      (first?.matches('fieldset') ? first.querySelector('input') : first)?.focus();
      return unplaced;
    },
  };
}
