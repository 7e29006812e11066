import type { ModdleElement } from 'bpmn-moddle';
import { children } from '../../extensions.ts';
import { definitionsOf, is, isActivity, isExecutableProcess, itemOf, label, NOT_FLOW_NODES, ref, sameItem, targetsEngine, type Rule } from './model.ts';

/** Rules about data, resources, loops, expressions, text formats and collaborations. */

const EXPRESSION_PROPERTIES = ['from', 'to', 'loopCondition', 'loopCardinality', 'completionCondition', 'activationCondition'];
// timer values are checked unless the file is written for an engine that reads them without
// xsi:type (targetsEngine); conditions of sequence flows are left out: modelers of many tools write
// them without xsi:type, and engines (Camunda's, and betsy's execution tests) run them
const TIMER_VALUES = ['timeDate', 'timeDuration', 'timeCycle'];
// a number or a quoted text: a constant that is never a Boolean
const CONSTANT = /^(-?\d+(\.\d+)?|"[^"]*"|'[^']*')$/;
const words = (text: string): string => text.replace(/\s+/g, ' ').trim();
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
    'EXT.012',
    ['bpmn:TimerEventDefinition'],
    (e) => {
      if (!isExecutableProcess(e) || targetsEngine(e)) return null;
      const untyped = TIMER_VALUES.find((property) => is(ref(e, property), 'bpmn:Expression'));
      return untyped ? `its ${untyped} must be a formal expression in an executable process (xsi:type="tFormalExpression")` : null;
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
  [
    'EXT.119',
    ['bpmn:MessageFlow'],
    (e) => {
      const [source, target] = [ref(e, 'sourceRef'), ref(e, 'targetRef')];
      if (source && is(source, 'bpmn:StartEvent', 'bpmn:IntermediateCatchEvent', 'bpmn:BoundaryEvent')) return `it starts at ${label(source)}, a catch event, which receives messages and sends none`;
      if (target && is(target, 'bpmn:IntermediateThrowEvent', 'bpmn:EndEvent')) return `it ends at ${label(target)}, a throw event, which sends messages and receives none`;
      return null;
    },
  ],
  [
    'EXT.027',
    ['bpmn:Choreography', 'bpmn:GlobalChoreographyTask', 'bpmn:GlobalConversation'],
    (e) => {
      const used = children(e, 'choreographyRef')[0];
      return used ? `it references the choreography <${String(used.id)}> (choreographyRef); only a collaboration refers to choreographies` : null;
    },
  ],
  ['EXT.041', [], (e, file) => (isActivity(e) && (file.loopMarkers.get(String(e.id)) ?? 0) > 1 ? 'an activity has one loop marker: a standard loop or a multi-instance, not both' : null)],
  [
    'EXT.069',
    ['bpmn:MultiInstanceLoopCharacteristics'],
    (e) => {
      const [collection, item] = [itemOf(ref(e, 'loopDataOutputRef')), itemOf(ref(e, 'outputDataItem'))];
      return collection && item && !sameItem(collection, item, { collection: false })
        ? `its outputDataItem holds a <${String(item.id)}>, not an item of the collection <${String(collection.id)}> its loopDataOutputRef holds`
        : null;
    },
  ],
  [
    'EXT.072',
    ['bpmn:ComplexBehaviorDefinition'],
    (e) => {
      const condition = String(ref(e, 'condition')?.body ?? '').trim();
      // also as the body of an expression: ${23}, =23
      const value = (/^\$\{([\s\S]*)\}$/.exec(condition)?.[1] ?? condition.replace(/^=/, '')).trim();
      return CONSTANT.test(value) ? `its condition "${condition}" is a constant, not a Boolean condition` : null;
    },
  ],
  [
    'EXT.076',
    ['bpmn:DataObjectReference'],
    (e) => {
      const [state, object] = [ref(e, 'dataState'), ref(e, 'dataObjectRef')];
      if (typeof e.name !== 'string' || typeof state?.name !== 'string' || typeof object?.name !== 'string') return null;
      // the name with the state, or the data object's name alone (modelers draw the state from dataState)
      const expected = `${words(object.name)} [${words(state.name)}]`;
      return [expected, words(object.name)].includes(words(e.name)) ? null : `a reference to the data object "${words(object.name)}" in the state "${words(state.name)}" is named "${expected}", not "${words(e.name)}"`;
    },
  ],
  [
    'EXT.091',
    ['bpmn:DataInputAssociation', 'bpmn:DataOutputAssociation'],
    (e) => {
      if (e.transformation || children(e, 'assignment').length) return null;
      const target = itemOf(ref(e, 'targetRef'));
      const source = children(e, 'sourceRef').map(itemOf).find((item) => item && target && !sameItem(item, target, { collection: false }));
      return source && target ? `it carries a <${String(source.id)}> into a <${String(target.id)}> without a transformation; both ends hold the same item, or a transformation converts it` : null;
    },
  ],
];
