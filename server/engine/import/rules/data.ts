import type { ModdleElement } from 'bpmn-moddle';
import { children } from '../../extensions.ts';
import { definitionsOf, is, isExecutableProcess, label, NOT_FLOW_NODES, ref, type Rule } from './model.ts';

/** Rules about data, resources, loops, expressions, text formats and collaborations. */

// conditions of sequence flows and timer values are left out: modelers (Camunda's among them)
// write them without xsi:type, and Camunda runs them
const EXPRESSION_PROPERTIES = ['from', 'to', 'loopCondition', 'loopCardinality', 'completionCondition', 'activationCondition'];
const MIME = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i;
const URI_CHARACTERS = /^([a-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9a-f]{2})*$/i;

/** A collection flag that differs from the element's item definition, or null. */
function collectionMismatch(element: ModdleElement): string | null {
  const item = ref(element, 'itemSubjectRef');
  if (!item) return null;
  const own = element.isCollection === true;
  return own === (item.isCollection === true) ? null : `isCollection is ${String(own)} but its item definition <${String(item.id)}> says ${String(item.isCollection === true)}`;
}

export const DATA_RULES: Rule[] = [
  ['EXT.004', ['bpmn:Documentation'], (e) => (e.textFormat !== undefined && !MIME.test(String(e.textFormat)) ? `textFormat "${String(e.textFormat)}" is not a MIME type such as text/plain` : null)],
  ['EXT.010', ['bpmn:TextAnnotation'], (e) => (e.textFormat !== undefined && !MIME.test(String(e.textFormat)) ? `textFormat "${String(e.textFormat)}" is not a MIME type such as text/plain` : null)],
  [
    'EXT.008',
    ['bpmn:MessageFlow'],
    (e) => {
      for (const end of [ref(e, 'sourceRef'), ref(e, 'targetRef')]) {
        if (end && !is(end, 'bpmn:Participant') && (NOT_FLOW_NODES.has(end.$type) || /Gateway$/.test(end.$type))) return `${label(end)} cannot send or receive messages: connect a pool, a task or an event`;
      }
      return null;
    },
  ],
  [
    'EXT.031',
    ['bpmn:MessageFlow'],
    (e, file) => {
      const pool = (end: ModdleElement | undefined): ModdleElement | undefined => {
        if (!end) return undefined;
        if (is(end, 'bpmn:Participant')) return end;
        let at: ModdleElement | undefined = end;
        while (at && !is(at, 'bpmn:Process')) at = at.$parent;
        return at ? file.poolOf.get(at) : undefined;
      };
      const source = pool(ref(e, 'sourceRef'));
      return source && source === pool(ref(e, 'targetRef')) ? `it connects two elements of the same pool <${String(source.id)}>; message flows go between pools` : null;
    },
  ],
  [
    'EXT.012',
    [],
    (e) => {
      if (!isExecutableProcess(e)) return null;
      for (const property of EXPRESSION_PROPERTIES) {
        const expression = ref(e, property);
        if (is(expression, 'bpmn:Expression')) return `its ${property} must be a formal expression in an executable process (xsi:type="tFormalExpression")`;
      }
      return null;
    },
  ],
  [
    'EXT.014',
    [],
    (e) => {
      for (const property of ['language', 'expressionLanguage', 'typeLanguage']) {
        if (typeof e[property] === 'string' && !URI_CHARACTERS.test(e[property] as string)) return `${property} "${e[property] as string}" is not a URI`;
      }
      return null;
    },
  ],
  [
    'EXT.029',
    ['bpmn:ParticipantMultiplicity'],
    (e) => (Number(e.minimum ?? 0) < 0 || Number(e.maximum ?? 1) < 1 ? 'minimum must be at least 0 and maximum at least 1' : null),
  ],
  ['EXT.030', ['bpmn:ParticipantMultiplicity'], (e) => (Number(e.maximum ?? 1) < Number(e.minimum ?? 0) ? 'maximum must not be less than minimum' : null)],
  ['EXT.037', [], (e) => (e.startQuantity !== undefined && Number(e.startQuantity) < 1 ? 'startQuantity must be at least 1' : null)],
  ['EXT.038', [], (e) => (e.completionQuantity !== undefined && Number(e.completionQuantity) < 1 ? 'completionQuantity must be at least 1' : null)],
  [
    'EXT.067',
    ['bpmn:MultiInstanceLoopCharacteristics'],
    (e) => {
      const vendor = typeof e.collection === 'string' || children(e.extensionElements as ModdleElement | undefined, 'values').length > 0;
      return e.loopCardinality || e.loopDataInputRef || vendor ? null : 'a multi-instance activity needs a loopCardinality or a loopDataInputRef';
    },
  ],
  [
    'EXT.084',
    ['bpmn:InputOutputSpecification'],
    (e) => {
      const used = new Set(children(e, 'inputSets').flatMap((set) => children(set, 'dataInputRefs')));
      const unused = children(e, 'dataInputs').find((input) => !used.has(input));
      return unused ? `its data input <${String(unused.id)}> is in no input set` : null;
    },
  ],
  [
    'EXT.085',
    ['bpmn:InputSet'],
    (e) => {
      const stray = children(e, 'optionalInputRefs').find((input) => !children(e, 'dataInputRefs').includes(input));
      return stray ? `its optional input <${String(stray.id)}> is not one of its data inputs` : null;
    },
  ],
  [
    'EXT.103',
    ['bpmn:MessageFlow'],
    (e) => {
      const target = ref(e, 'targetRef');
      const source = ref(e, 'sourceRef');
      if (is(target, 'bpmn:StartEvent', 'bpmn:IntermediateCatchEvent', 'bpmn:BoundaryEvent') && !definitionsOf(target as ModdleElement).includes('Message')) {
        return `it ends at ${label(target as ModdleElement)}, which does not catch a message`;
      }
      if (is(source, 'bpmn:EndEvent', 'bpmn:IntermediateThrowEvent') && !definitionsOf(source as ModdleElement).includes('Message')) {
        return `it starts at ${label(source as ModdleElement)}, which does not throw a message`;
      }
      return null;
    },
  ],
  ['EXT.020', ['bpmn:DataInput', 'bpmn:DataOutput'], collectionMismatch],
  ['EXT.077', ['bpmn:DataObject'], collectionMismatch],
  [
    'EXT.039',
    ['bpmn:Performer', 'bpmn:HumanPerformer', 'bpmn:PotentialOwner', 'bpmn:ResourceRole'],
    (e) => (e.resourceRef && e.resourceAssignmentExpression ? 'a resource role names its resource (resourceRef) or computes it (resourceAssignmentExpression), not both' : null),
  ],
  [
    'EXT.040',
    ['bpmn:Performer', 'bpmn:HumanPerformer', 'bpmn:PotentialOwner', 'bpmn:ResourceRole'],
    (e) => (!e.resourceRef && children(e, 'resourceParameterBindings').length ? 'parameter bindings need the resource (resourceRef) whose parameters they bind' : null),
  ],
  [
    'EXT.087',
    ['bpmn:InputSet', 'bpmn:OutputSet'],
    (e) => {
      const [mine, theirs] = is(e, 'bpmn:InputSet') ? ['outputSetRefs', 'inputSetRefs'] : ['inputSetRefs', 'outputSetRefs'];
      const other = children(e, mine).find((set) => !children(set, theirs).includes(e));
      return other ? `it names <${String(other.id)}> in ${mine}, but <${String(other.id)}> does not name it back in ${theirs}` : null;
    },
  ],
];
