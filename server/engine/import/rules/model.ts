import type { ModdleElement } from 'bpmn-moddle';
import { children } from '../../extensions.ts';

/** What the rules of the specification (../constraints.ts) are written with. */

/** What a rule knows about the whole file besides the element it checks. */
export interface FileIndex {
  /** sequence flows by their source and by their target */
  outgoing: Map<ModdleElement, ModdleElement[]>;
  incoming: Map<ModdleElement, ModdleElement[]>;
  /** the pool (participant) each process belongs to */
  poolOf: Map<ModdleElement, ModdleElement>;
  /** boundary events by the activity they are attached to */
  attached: Map<ModdleElement, ModdleElement[]>;
}

/** A rule: its name, the element types it applies to (empty: all), and the violation it finds or nothing. */
export type Rule = [rule: string, types: string[], check: (element: ModdleElement, file: FileIndex) => string | null | undefined];

export const is = (element: ModdleElement | undefined, ...types: string[]): boolean => !!element && types.includes(element.$type);

/** The element a reference property points to, if it resolved. */
export const ref = (element: ModdleElement, property: string): ModdleElement | undefined => {
  const value = element[property];
  return value && typeof value === 'object' && typeof (value as ModdleElement).$type === 'string' ? (value as ModdleElement) : undefined;
};

/** The kinds of an event's triggers ("Message", "Timer", ...), also those given by reference. */
export const definitionsOf = (element: ModdleElement): string[] =>
  [...children(element, 'eventDefinitions'), ...children(element, 'eventDefinitionRef')].map((definition) => definition.$type.slice(5, -15));

export const isEventSubProcess = (element: ModdleElement | undefined): boolean =>
  is(element, 'bpmn:SubProcess', 'bpmn:Transaction', 'bpmn:AdHocSubProcess') && element?.triggeredByEvent === true;

export const SCOPES = ['bpmn:Process', 'bpmn:SubProcess', 'bpmn:Transaction', 'bpmn:AdHocSubProcess'];

/** `startEvent <Start>`, as problems name elements. */
export const label = (element: ModdleElement): string => `${element.$type.slice(5, 6).toLowerCase()}${element.$type.slice(6)} <${String(element.id ?? '?')}>`;

export const NOT_FLOW_NODES = new Set([
  'bpmn:SequenceFlow',
  'bpmn:TextAnnotation',
  'bpmn:Group',
  'bpmn:Association',
  'bpmn:DataObject',
  'bpmn:DataObjectReference',
  'bpmn:DataStoreReference',
  'bpmn:DataStore',
  'bpmn:Participant',
  'bpmn:Lane',
]);

/** An event, activity or gateway of a process or sub-process. */
export const isFlowNode = (element: ModdleElement | undefined): boolean =>
  !!element && !NOT_FLOW_NODES.has(element.$type) && children(element.$parent, 'flowElements').includes(element);

export const isExecutableProcess = (element: ModdleElement): boolean => {
  let at: ModdleElement | undefined = element;
  while (at && !is(at, 'bpmn:Process')) at = at.$parent;
  return at?.isExecutable === true;
};

export const scopeOf = (element: ModdleElement): ModdleElement | undefined => element.$parent;

export const insideTransaction = (element: ModdleElement): boolean => {
  for (let at = element.$parent; at; at = at.$parent) if (is(at, 'bpmn:Transaction')) return true;
  return false;
};

/** The process of this file with the given id. */
export function findProcess(element: ModdleElement, id: string): ModdleElement | undefined {
  let definitions: ModdleElement | undefined = element;
  while (definitions && !is(definitions, 'bpmn:Definitions')) definitions = definitions.$parent;
  return children(definitions, 'rootElements').find((root) => is(root, 'bpmn:Process') && root.id === id);
}
