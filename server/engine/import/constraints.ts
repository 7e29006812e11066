import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import type { Problem } from '../../errors.ts';
import { children } from '../extensions.ts';
import { append, contained } from './display-only.ts';
import { DATA_RULES } from './rules/data.ts';
import { EVENT_RULES } from './rules/events.ts';
import { FLOW_RULES } from './rules/flow.ts';
import { loopMarkerCounts } from './rules/loop-markers.ts';
import { is, isFlowNode, label, ref, type FileIndex, type Rule } from './rules/model.ts';
import { SERVICE_RULES } from './rules/services.ts';

/**
 * Rules of the BPMN 2.0 specification that a file must keep to be deployed at all, named as the
 * catalogue of serialization constraints that betsy's `bpmn_constraints` tests follow (EXT.nnn for
 * the rules written in the specification's text, REF for references that do not resolve). Each
 * problem names the rule, the element and what to change.
 */

const RULES: Rule[] = [...FLOW_RULES, ...EVENT_RULES, ...DATA_RULES, ...SERVICE_RULES];

/**
 * References whose type bpmn-moddle declares other than the specification: an ioBinding binds a
 * data input and a data output of the callable element to an operation (BPMN 2.0, 10.2.5 and its
 * XSD), where bpmn-moddle expects an input set and an output set.
 */
const SPECIFIED_TYPES: Record<string, string[]> = {
  'bpmn:InputOutputBinding.inputDataRef': ['bpmn:DataInput', 'bpmn:InputSet'],
  'bpmn:InputOutputBinding.outputDataRef': ['bpmn:DataOutput', 'bpmn:OutputSet'],
};

function index(context: ModdleContext, xml: string): FileIndex {
  const file: FileIndex = { outgoing: new Map(), incoming: new Map(), poolOf: new Map(), attached: new Map(), listsFlows: false, loopMarkers: loopMarkerCounts(xml) };
  for (const element of contained(context.rootElement)) {
    if (children(element, 'incoming').length || children(element, 'outgoing').length) file.listsFlows = true;
    if (is(element, 'bpmn:SequenceFlow')) {
      for (const [property, map] of [['sourceRef', file.outgoing], ['targetRef', file.incoming]] as const) {
        const end = ref(element, property);
        if (end) append(map, end, element);
      }
    }
    const host = is(element, 'bpmn:BoundaryEvent') ? ref(element, 'attachedToRef') : undefined;
    if (host) append(file.attached, host, element);
    if (is(element, 'bpmn:Participant')) {
      const process = ref(element, 'processRef');
      if (process) file.poolOf.set(process, element);
    }
  }
  return file;
}

/**
 * Whether the rules refuse a file rather than warn: when it has an executable process, or no process
 * at all. The specification lets a non-executable process document behaviour "at a modeler-defined
 * level of detail" (isExecutable, BPMN 2.0, 10.2.1), so a file whose processes are all marked so
 * keeps its violations as warnings. A file without any process (only collaborations, conversations,
 * choreographies or global tasks) claims no such allowance, and Baton has nothing in it to run: its
 * rules hold in full, and such a file that breaks one is deployed only with view-only.
 */
export function rulesRefuse(context: ModdleContext): boolean {
  const processes = children(context.rootElement, 'rootElements').filter((root) => is(root, 'bpmn:Process'));
  return !processes.length || processes.some((process) => process.isExecutable === true);
}

/**
 * Ids bpmn-moddle refuses, each with the reason. XML allows any name (`prüfung`), but bpmn-moddle,
 * which reads BPMN in Baton and in the web modeler alike, takes only ASCII names and drops an
 * element with another id together with everything in it: the file is refused rather than stored
 * without it (a process without its id would be kept, silently, for viewing only).
 */
export function unreadableIds(context: ModdleContext): Problem[] {
  return context.warnings.flatMap((warning) => {
    const id = /^illegal ID <(.*)>$/s.exec(warning.error?.message ?? '')?.[1];
    if (id === undefined) return [];
    const message = `the id <${id}> is not one Baton can read: an id must start with an ASCII letter or _ and hold only ASCII letters, digits, _, - and . (the element and all it contains would be lost)`;
    return [{ path: id, message }];
  });
}

/** Every violation of the rules in a parsed file (and its text), each naming its rule and element. */
export function checkConstraints(context: ModdleContext, xml: string): Problem[] {
  const problems: Problem[] = [];
  const add = (rule: string, element: ModdleElement | undefined, message: string): void => {
    problems.push({ ...(element?.id ? { path: String(element.id) } : {}), message: `${rule}: ${element ? `${label(element)}: ` : ''}${message}` });
  };
  for (const warning of context.warnings) {
    const text = warning.message.split('\n')[0] ?? '';
    if (/duplicate ID/i.test(text)) add('EXT.002', undefined, `${text}: every id must be unique in the file`);
    const unresolved = /unresolved reference <([^>]*)>/.exec(text);
    // references of the diagram (bpmndi) only matter for drawing; structureRef names a type, not an element
    const checked = !warning.property?.startsWith('bpmndi:') && warning.property !== 'bpmn:structureRef';
    if (unresolved && !unresolved[1]?.includes(':') && checked) add('REF', warning.element, `the reference <${unresolved[1] ?? ''}>${warning.property ? ` (${warning.property})` : ''} names no element of the file`);
  }
  for (const reference of context.references as { element: ModdleElement; property: string; id: string }[]) {
    const target = context.elementsById[reference.id] as (ModdleElement & { $instanceOf?(type: string): boolean }) | undefined;
    const descriptor = (reference.element as { $descriptor?: { propertiesByName?: Record<string, { type?: string }> } }).$descriptor;
    const type = descriptor?.propertiesByName?.[reference.property]?.type;
    const types = SPECIFIED_TYPES[`${reference.element.$type}.${reference.property.replace(/^bpmn:/, '')}`] ?? (type ? [type] : []);
    if (target?.$instanceOf && type?.startsWith('bpmn:') && !types.some((allowed) => target.$instanceOf?.(allowed))) {
      add('REF', reference.element, `${reference.property.replace(/^bpmn:/, '')} <${reference.id}> is a ${target.$type.slice(5)}, not a ${type.slice(5)}`);
    }
  }
  const file = index(context, xml);
  for (const element of contained(context.rootElement)) {
    if (!element.id && (isFlowNode(element) || children(context.rootElement, 'rootElements').includes(element) || is(element, 'bpmn:SequenceFlow'))) {
      add('EXT.003', undefined, `a ${element.$type.slice(5)}${element.name ? ` "${String(element.name)}"` : ''} has no id`);
    }
    for (const [rule, types, check] of RULES) {
      if (types.length && !types.includes(element.$type)) continue;
      const violation = check(element, file);
      if (violation) add(rule, element, violation);
    }
  }
  return problems;
}
