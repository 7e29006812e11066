import type { ModdleElement } from 'bpmn-moddle';
import type { Problem } from '../errors.ts';
import type { Json, Variables } from '../store/types.ts';
import { checkExpression, evaluate } from './expressions.ts';
import { parseRetryCycle, type RetryPolicy } from './retry.ts';

/**
 * The Camunda extensions Baton reads beside the engine: input/output parameters, connectors,
 * retry cycles, extension properties and error variables. bpmn-engine does not run them.
 */

/** The value of a camunda input or output parameter: a text with `${...}`, a map or a list. */
export type IoValue = { text: string } | { map: [string, IoValue][] } | { list: IoValue[] };

/** One camunda:inputParameter or camunda:outputParameter. */
export interface IoParameter {
  name: string;
  value: IoValue;
}

/** Topics of the built-in connectors, reserved for them (README, "Connectors"). */
export const CONNECTOR_TOPICS = { sms: 'notify.sms', email: 'notify.email', http: 'http' } as const;

export const children = (element: ModdleElement | undefined, property: string): ModdleElement[] =>
  element && Array.isArray(element[property]) ? (element[property] as ModdleElement[]) : [];

/** The extension elements of one type on an element. */
export const extensions = (element: ModdleElement, type: string): ModdleElement[] =>
  children(element.extensionElements as ModdleElement | undefined, 'values').filter((value) => value.$type === type);

function readValue(id: string, where: string, parameter: ModdleElement, problems: Problem[]): IoValue {
  const definition = parameter.definition as ModdleElement | undefined;
  if (!definition || definition.$type === 'camunda:Value') {
    const text = String((definition ?? parameter).value ?? '');
    tryCheck(id, where, text, problems);
    return { text };
  }
  if (definition.$type === 'camunda:Map') {
    return { map: children(definition, 'entries').map((entry) => [String(entry.key), readValue(id, `${where}.${String(entry.key)}`, entry, problems)]) };
  }
  if (definition.$type === 'camunda:List') {
    return { list: children(definition, 'items').map((item, index) => readValue(id, `${where}[${index}]`, { value: item.value, definition: item } as unknown as ModdleElement, problems)) };
  }
  problems.push({ path: id, message: `<${id}>: ${where} is a ${definition.$type.slice(8)}; scripts are refused, use \${...}` });
  return { text: '' };
}

function tryCheck(id: string, where: string, text: string, problems: Problem[]): void {
  try {
    checkExpression(text);
  } catch (err) {
    problems.push({ path: id, message: `<${id}>: ${where}: ${(err as Error).message}` });
  }
}

/** Reads camunda:inputOutput of an element (or of its camunda:connector). */
export function readIo(id: string, container: ModdleElement | undefined, problems: Problem[]): { inputs: IoParameter[]; outputs: IoParameter[] } {
  const io = container ? (container.$type === 'camunda:InputOutput' ? container : extensions(container, 'camunda:InputOutput')[0]) : undefined;
  const read = (kind: 'inputParameters' | 'outputParameters'): IoParameter[] =>
    children(io, kind).map((parameter) => {
      const name = String(parameter.name ?? '');
      if (!name) problems.push({ path: id, message: `<${id}>: a camunda parameter has no name` });
      return { name, value: readValue(id, `${kind === 'inputParameters' ? 'input' : 'output'} parameter "${name}"`, parameter, problems) };
    });
  return { inputs: read('inputParameters'), outputs: read('outputParameters') };
}

/** Evaluates parameters against variables, in order: a later parameter sees the earlier ones. */
export function evaluateParameters(parameters: IoParameter[], scope: Variables): Variables {
  const result: Variables = {};
  const local: Variables = { ...scope };
  const value = (io: IoValue): Json => {
    if ('text' in io) return toJson(evaluate(io.text, local));
    if ('map' in io) return Object.fromEntries(io.map.map(([key, entry]) => [key, value(entry)]));
    return io.list.map(value);
  };
  for (const parameter of parameters) {
    result[parameter.name] = value(parameter.value);
    local[parameter.name] = result[parameter.name] as Json;
  }
  return result;
}

function toJson(value: unknown): Json {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** Reads camunda:failedJobRetryTimeCycle, or null when the element has none. */
export function readRetryCycle(id: string, element: ModdleElement, problems: Problem[]): RetryPolicy | null {
  const cycle = extensions(element, 'camunda:FailedJobRetryTimeCycle')[0];
  if (!cycle) return null;
  try {
    return parseRetryCycle(String(cycle.body ?? ''));
  } catch (err) {
    problems.push({ path: id, message: `<${id}>: failedJobRetryTimeCycle ${(err as Error).message}` });
    return null;
  }
}

/** camunda:properties of an element as a plain record. */
export function readProperties(element: ModdleElement): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const group of extensions(element, 'camunda:Properties')) {
    for (const property of children(group, 'values')) {
      if (property.name) properties[String(property.name)] = String(property.value ?? '');
    }
  }
  return properties;
}

/** An error boundary event or error start event and the error codes it catches. */
export interface ErrorCatcher {
  id: string;
  /** null: catches every error */
  errorCode: string | null;
  /** camunda:errorCodeVariable / errorMessageVariable: where the caught error is put */
  codeVariable: string | null;
  messageVariable: string | null;
}

/** Reads the error event definition of a boundary or start event; null when it has none. */
export function readErrorCatcher(element: ModdleElement): ErrorCatcher | null {
  const definition = children(element, 'eventDefinitions').find((d) => d.$type === 'bpmn:ErrorEventDefinition');
  if (!definition) return null;
  const error = definition.errorRef as ModdleElement | undefined;
  return {
    id: String(element.id),
    // bpmn-elements: a referenced error without errorCode matches no code; no reference catches all
    errorCode: error ? String(error.errorCode ?? '\u0000no code') : null,
    codeVariable: typeof definition.errorCodeVariable === 'string' ? definition.errorCodeVariable : null,
    messageVariable: typeof definition.errorMessageVariable === 'string' ? definition.errorMessageVariable : null,
  };
}
