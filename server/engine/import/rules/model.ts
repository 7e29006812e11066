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
  /** whether the file lists the sequence flows of its flow nodes (incoming, outgoing), as most modelers write them */
  listsFlows: boolean;
  /** how many loop characteristics each element holds in the XML, by id (the reader keeps only the last) */
  loopMarkers: Map<string, number>;
}

/** A rule: its name, the element types it applies to (empty: all), and the violation it finds or nothing. */
export type Rule = [rule: string, types: string[], check: (element: ModdleElement, file: FileIndex) => string | null | undefined];

export const is = (element: ModdleElement | undefined, ...types: string[]): boolean => !!element && types.includes(element.$type);

/** The element a reference property points to, if it resolved. */
export const ref = (element: ModdleElement | undefined, property: string): ModdleElement | undefined => {
  const value = element?.[property];
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

/** each scope's flow elements as a set, so that telling a flow node costs the same in a file of any size */
const flowElementSets = new WeakMap<ModdleElement[], Set<ModdleElement>>();

function flowElementsOf(scope: ModdleElement | undefined): Set<ModdleElement> {
  const list = children(scope, 'flowElements');
  let set = flowElementSets.get(list);
  if (!set || set.size !== list.length) flowElementSets.set(list, (set = new Set(list)));
  return set;
}

/** An event, activity or gateway of a process or sub-process. */
export const isFlowNode = (element: ModdleElement | undefined): boolean =>
  !!element && !NOT_FLOW_NODES.has(element.$type) && flowElementsOf(element.$parent).has(element);

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

/** The bpmn:definitions element a file's element belongs to. */
export function definitionsElement(element: ModdleElement): ModdleElement | undefined {
  let at: ModdleElement | undefined = element;
  while (at && !is(at, 'bpmn:Definitions')) at = at.$parent;
  return at;
}

/** The process of this file with the given id. */
export function findProcess(element: ModdleElement, id: string): ModdleElement | undefined {
  return children(definitionsElement(element), 'rootElements').find((root) => is(root, 'bpmn:Process') && root.id === id);
}

/**
 * The extension namespaces of engines whose execution semantics Baton follows (Camunda 7 and 8, and
 * Activiti and Flowable, whose semantics Camunda 7 kept), and of Camunda Modeler, which names its
 * target engine (modeler:executionPlatform): these engines bind a message event to its message by
 * the message's name, not to a service operation, and read the body of an expression in their own
 * expression language whether or not it is marked xsi:type="tFormalExpression".
 */
const ENGINE_NAMESPACES = [
  'http://camunda.org/schema/1.0/bpmn',
  'http://camunda.org/schema/zeebe/1.0',
  'http://camunda.org/schema/modeler/1.0',
  'http://activiti.org/bpmn',
  'http://flowable.org/bpmn',
];

/** Whether the file declares the extension namespace of such an engine (its target platform). */
export const targetsEngine = (element: ModdleElement): boolean =>
  Object.entries(definitionsElement(element)?.$attrs ?? {}).some(([name, uri]) => name.startsWith('xmlns') && ENGINE_NAMESPACES.includes(String(uri)));

/**
 * Whether two item definitions describe the same data, as the specification's "equivalent item
 * definitions" are checked: the same element, or the same structure (structureRef, a type name)
 * and the same collection flag. Item definitions without a structure are equivalent only to themselves.
 */
export function sameItem(a: ModdleElement, b: ModdleElement, options: { collection: boolean } = { collection: true }): boolean {
  if (a === b) return true;
  if (typeof a.structureRef !== 'string' || a.structureRef !== b.structureRef) return false;
  return !options.collection || (a.isCollection === true) === (b.isCollection === true);
}

/** The item definition of a data element: its own itemSubjectRef, or that of the data object or store it refers to. */
export function itemOf(element: ModdleElement | undefined): ModdleElement | undefined {
  if (!element) return undefined;
  const own = ref(element, 'itemSubjectRef');
  if (own) return own;
  const target = ref(element, 'dataObjectRef') ?? ref(element, 'dataStoreRef');
  return target ? ref(target, 'itemSubjectRef') : undefined;
}

export const isActivity = (element: ModdleElement): boolean => isFlowNode(element) && !/Event$|Gateway$/.test(element.$type);
