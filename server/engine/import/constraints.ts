import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import { ISOInterval } from '@0dep/piso';
import type { Problem } from '../../errors.ts';
import { children } from '../extensions.ts';
import { contained } from './display-only.ts';

/**
 * Rules of the BPMN 2.0 specification that a file must keep to be deployed at all, named as the
 * catalogue of serialization constraints that betsy's `bpmn_constraints` tests follow (EXT.nnn for
 * the rules written in the specification's text, REF for references that do not resolve). Each
 * problem names the rule, the element and what to change.
 */

type Check = (element: ModdleElement, file: FileIndex) => string | null | undefined;

interface FileIndex {
  /** sequence flows by the id of their source and of their target */
  outgoing: Map<ModdleElement, ModdleElement[]>;
  incoming: Map<ModdleElement, ModdleElement[]>;
  /** the pool (participant) each process belongs to */
  poolOf: Map<ModdleElement, ModdleElement>;
  /** boundary events by the activity they are attached to */
  attached: Map<ModdleElement, ModdleElement[]>;
}

const is = (element: ModdleElement | undefined, ...types: string[]): boolean => !!element && types.includes(element.$type);
const ref = (element: ModdleElement, property: string): ModdleElement | undefined => {
  const value = element[property];
  return value && typeof value === 'object' && typeof (value as ModdleElement).$type === 'string' ? (value as ModdleElement) : undefined;
};
const definitionsOf = (element: ModdleElement): string[] =>
  [...children(element, 'eventDefinitions'), ...children(element, 'eventDefinitionRef')].map((definition) => definition.$type.slice(5, -15));
const isEventSubProcess = (element: ModdleElement | undefined): boolean => is(element, 'bpmn:SubProcess', 'bpmn:Transaction', 'bpmn:AdHocSubProcess') && element?.triggeredByEvent === true;
const SCOPES = ['bpmn:Process', 'bpmn:SubProcess', 'bpmn:Transaction', 'bpmn:AdHocSubProcess'];
const label = (element: ModdleElement): string => `${element.$type.slice(5, 6).toLowerCase()}${element.$type.slice(6)} <${String(element.id ?? '?')}>`;

const NOT_FLOW_NODES = new Set([
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
const isFlowNode = (element: ModdleElement | undefined): boolean =>
  !!element && !NOT_FLOW_NODES.has(element.$type) && children(element.$parent, 'flowElements').includes(element);
// conditions of sequence flows and timer values are left out: modelers (Camunda's among them)
// write them without xsi:type, and Camunda runs them
const EXPRESSION_PROPERTIES = ['from', 'to', 'loopCondition', 'loopCardinality', 'completionCondition', 'activationCondition'];
const MIME = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i;
const URI_CHARACTERS = /^([a-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9a-f]{2})*$/i;

const isExecutableProcess = (element: ModdleElement): boolean => {
  let at: ModdleElement | undefined = element;
  while (at && !is(at, 'bpmn:Process')) at = at.$parent;
  return at?.isExecutable === true;
};
const scopeOf = (element: ModdleElement): ModdleElement | undefined => element.$parent;
const insideTransaction = (element: ModdleElement): boolean => {
  for (let at = element.$parent; at; at = at.$parent) if (is(at, 'bpmn:Transaction')) return true;
  return false;
};

/** The violation of a timer value that is not an expression and does not parse. */
function timerValue(definition: ModdleElement, property: string, parse: (text: string) => unknown): string | null {
  const text = String(ref(definition, property)?.body ?? '').trim();
  if (!text || text.includes('${') || text.startsWith('=')) return null;
  try {
    parse(text);
    return null;
  } catch {
    return `${property} "${text}" is not an ISO 8601 ${property === 'timeCycle' ? 'repeating interval such as R3/PT10M' : 'duration such as PT10M'}`;
  }
}

/** A collection flag that differs from the element's item definition, or null. */
function collectionMismatch(element: ModdleElement): string | null {
  const item = ref(element, 'itemSubjectRef');
  if (!item) return null;
  const own = element.isCollection === true;
  return own === (item.isCollection === true) ? null : `isCollection is ${String(own)} but its item definition <${String(item.id)}> says ${String(item.isCollection === true)}`;
}

/** [rule, element types it applies to (empty: all), check giving the violation or nothing] */
const RULES: [rule: string, types: string[], check: Check][] = [
  ['EXT.004', ['bpmn:Documentation'], (e) => (e.textFormat !== undefined && !MIME.test(String(e.textFormat)) ? `textFormat "${String(e.textFormat)}" is not a MIME type such as text/plain` : null)],
  ['EXT.010', ['bpmn:TextAnnotation'], (e) => (e.textFormat !== undefined && !MIME.test(String(e.textFormat)) ? `textFormat "${String(e.textFormat)}" is not a MIME type such as text/plain` : null)],
  ['EXT.007', ['bpmn:SequenceFlow'], (e) => { const source = ref(e, 'sourceRef'); return source && !isFlowNode(source) ? `its source ${label(source)} is not a flow node` : null; }],
  ['EXT.006', ['bpmn:SequenceFlow'], (e) => { const target = ref(e, 'targetRef'); return target && !isFlowNode(target) ? `its target ${label(target)} is not a flow node` : null; }],
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
    'EXT.011',
    ['bpmn:IntermediateThrowEvent', 'bpmn:EndEvent'],
    (e) => {
      const definition = children(e, 'eventDefinitions').find((d) => is(d, 'bpmn:EscalationEventDefinition'));
      if (!definition) return null;
      const escalation = ref(definition, 'escalationRef');
      return !escalation?.escalationCode ? 'a thrown escalation needs an escalationRef to an escalation with an escalationCode' : null;
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
    'EXT.013',
    ['bpmn:TimerEventDefinition', 'bpmn:ConditionalEventDefinition'],
    (e) => {
      for (const property of ['timeDate', 'timeDuration', 'timeCycle', 'condition']) {
        const expression = ref(e, property);
        if (expression && !String(expression.body ?? '').trim()) return `its ${property} is empty`;
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
    'EXT.018',
    ['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway', 'bpmn:ParallelGateway', 'bpmn:EventBasedGateway', 'bpmn:ComplexGateway'],
    (e, file) => {
      const into = file.incoming.get(e)?.length ?? 0;
      const out = file.outgoing.get(e)?.length ?? 0;
      const direction = String(e.gatewayDirection ?? 'Unspecified');
      if (direction === 'Diverging' && (into > 1 || out < 2)) return `a diverging gateway has at most one incoming and several outgoing flows (it has ${into} and ${out})`;
      if (direction === 'Converging' && (into < 2 || out > 1)) return `a converging gateway has several incoming and at most one outgoing flow (it has ${into} and ${out})`;
      if (direction === 'Mixed' && (into < 2 || out < 2)) return `a mixed gateway has several incoming and several outgoing flows (it has ${into} and ${out})`;
      return null;
    },
  ],
  [
    'EXT.023',
    [],
    (e, file) => {
      if (!isFlowNode(e)) return null;
      for (const [property, flows, end] of [['incoming', file.incoming, 'targetRef'], ['outgoing', file.outgoing, 'sourceRef']] as const) {
        for (const flow of children(e, property)) {
          if (is(flow, 'bpmn:SequenceFlow') && ref(flow, end) !== e) return `its ${property} <${String(flow.id)}> is a sequence flow of another element`;
        }
        if (Array.isArray(e[property]) && (flows.get(e) ?? []).some((flow) => !children(e, property).includes(flow))) {
          return `its ${property} list leaves out a sequence flow that ${property === 'incoming' ? 'ends' : 'starts'} here`;
        }
      }
      return null;
    },
  ],
  [
    'EXT.026',
    [],
    (e, file) => {
      const flow = ref(e, 'default');
      if (!flow) return null;
      if (!(file.outgoing.get(e) ?? []).includes(flow)) return `its default flow <${String(flow.id)}> is not one of its outgoing flows`;
      return flow.conditionExpression ? `its default flow <${String(flow.id)}> has a condition; a default flow is taken when no condition holds` : null;
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
    'EXT.059',
    ['bpmn:StartEvent'],
    (e) => {
      const scope = scopeOf(e);
      if (!is(scope, 'bpmn:SubProcess') || !scope?.triggeredByEvent) return null;
      const kinds = definitionsOf(e);
      const allowed = ['Message', 'Timer', 'Escalation', 'Error', 'Compensate', 'Conditional', 'Signal'];
      if (!kinds.length) return 'a start event of an event sub-process needs a trigger (message, timer, signal, error, ...)';
      const wrong = kinds.find((kind) => !allowed.includes(kind));
      if (wrong) return `a ${wrong.toLowerCase()} start event cannot start an event sub-process`;
      if (e.isInterrupting === false && kinds.some((kind) => kind === 'Error' || kind === 'Compensate')) return 'error and compensation start events are always interrupting';
      return null;
    },
  ],
  [
    'EXT.098',
    ['bpmn:StartEvent'],
    (e) => {
      const scope = scopeOf(e);
      if (is(scope, 'bpmn:SubProcess') && scope?.triggeredByEvent) return null;
      const wrong = definitionsOf(e).find((kind) => !['Message', 'Timer', 'Conditional', 'Signal'].includes(kind));
      return wrong ? `a ${wrong.toLowerCase()} start event can only start an event sub-process` : null;
    },
  ],
  [
    'EXT.106',
    ['bpmn:EndEvent', 'bpmn:BoundaryEvent'],
    (e) => {
      if (!definitionsOf(e).includes('Cancel')) return null;
      const transaction = is(e, 'bpmn:BoundaryEvent') ? is(ref(e, 'attachedToRef'), 'bpmn:Transaction') : insideTransaction(e);
      return transaction ? null : 'cancel events are only used in or on a transaction';
    },
  ],
  ['EXT.112', ['bpmn:StartEvent', 'bpmn:BoundaryEvent'], (e, file) => ((file.incoming.get(e)?.length ?? 0) ? `a ${e.$type.slice(5)} must not have incoming sequence flows` : null)],
  [
    'EXT.113',
    ['bpmn:BoundaryEvent'],
    (e, file) => (!(file.outgoing.get(e)?.length) && !definitionsOf(e).includes('Compensate') ? 'a boundary event needs an outgoing sequence flow' : null),
  ],
  [
    'EXT.116',
    ['bpmn:IntermediateCatchEvent'],
    (e, file) => (!definitionsOf(e).includes('Link') && !(file.outgoing.get(e)?.length) && (file.incoming.get(e)?.length ?? 0) > 0 ? 'an intermediate catch event in a flow needs an outgoing sequence flow' : null),
  ],
  ['EXT.117', ['bpmn:IntermediateCatchEvent'], (e, file) => (definitionsOf(e).includes('Link') && file.incoming.get(e)?.length ? 'a catching link event must not have incoming sequence flows' : null)],
  [
    'EXT.123',
    ['bpmn:ConditionalEventDefinition'],
    (e) => (!is(ref(e, 'condition'), 'bpmn:FormalExpression') ? 'its condition must be a formal expression (xsi:type="tFormalExpression")' : null),
  ],
  [
    'EXT.124',
    ['bpmn:IntermediateCatchEvent'],
    (e) => {
      const link = children(e, 'eventDefinitions').find((d) => is(d, 'bpmn:LinkEventDefinition'));
      if (!link) return null;
      const throws = [...contained(scopeOf(e) as ModdleElement)].filter((t) => is(t, 'bpmn:IntermediateThrowEvent') && children(t, 'eventDefinitions').some((d) => is(d, 'bpmn:LinkEventDefinition') && d.name === link.name));
      return throws.length ? null : `no throwing link event named "${String(link.name)}" leads to it`;
    },
  ],
  [
    'EXT.125',
    ['bpmn:IntermediateThrowEvent'],
    (e) => {
      const link = children(e, 'eventDefinitions').find((d) => is(d, 'bpmn:LinkEventDefinition'));
      if (!link) return null;
      const catches = children(scopeOf(e), 'flowElements').filter((c) => is(c, 'bpmn:IntermediateCatchEvent') && children(c, 'eventDefinitions').some((d) => is(d, 'bpmn:LinkEventDefinition') && d.name === link.name));
      return catches.length === 1 ? null : `it needs exactly one catching link event named "${String(link.name)}" in the same scope (found ${catches.length})`;
    },
  ],
  [
    'EXT.129',
    ['bpmn:BoundaryEvent'],
    (e) => {
      const kinds = definitionsOf(e);
      if (!kinds.length) return 'a boundary event needs a trigger (timer, message, error, ...)';
      const wrong = kinds.find((kind) => !['Message', 'Timer', 'Escalation', 'Error', 'Cancel', 'Compensate', 'Conditional', 'Signal'].includes(kind));
      return wrong ? `a ${wrong.toLowerCase()} event cannot be a boundary event` : null;
    },
  ],
  ['EXT.133', ['bpmn:TimerEventDefinition'], (e) => timerValue(e, 'timeCycle', (text) => new ISOInterval(text).parse())],
  ['EXT.134', ['bpmn:TimerEventDefinition'], (e) => timerValue(e, 'timeDuration', (text) => new ISOInterval(text).parse())],
  ['EXT.131', ['bpmn:TimerEventDefinition'], (e) => (['timeDate', 'timeDuration', 'timeCycle'].filter((p) => e[p]).length > 1 ? 'a timer has one of timeDate, timeDuration and timeCycle' : null)],
  [
    'EXT.148',
    ['bpmn:IntermediateCatchEvent'],
    (e) => {
      const kinds = definitionsOf(e);
      if (!kinds.length) return 'an intermediate catch event needs a trigger (message, timer, signal, conditional or link)';
      const wrong = kinds.find((kind) => !['Message', 'Timer', 'Conditional', 'Link', 'Signal'].includes(kind));
      return wrong ? `a ${wrong.toLowerCase()} event cannot be caught in the flow; use a boundary event` : null;
    },
  ],
  [
    'EXT.149',
    ['bpmn:IntermediateThrowEvent'],
    (e) => {
      const wrong = definitionsOf(e).find((kind) => !['Message', 'Escalation', 'Link', 'Compensate', 'Signal'].includes(kind));
      return wrong ? `a ${wrong.toLowerCase()} event cannot be thrown in the flow${['Error', 'Terminate', 'Cancel'].includes(wrong) ? '; use an end event' : ''}` : null;
    },
  ],
  [
    'EXT.152',
    ['bpmn:SequenceFlow'],
    (e) => {
      const crossing = [ref(e, 'sourceRef'), ref(e, 'targetRef')].find((end) => end && isFlowNode(end) && end.$parent !== e.$parent);
      return crossing ? `it crosses the boundary of a sub-process to ${label(crossing)}; sequence flows stay inside one process level` : null;
    },
  ],
  [
    'EXT.021',
    ['bpmn:SubProcess'],
    (e, file) => (isEventSubProcess(e) && (file.incoming.get(e)?.length || file.outgoing.get(e)?.length) ? 'an event sub-process has no incoming or outgoing sequence flows' : null),
  ],
  [
    'EXT.058',
    ['bpmn:SubProcess'],
    (e) => {
      if (!isEventSubProcess(e)) return null;
      const starts = children(e, 'flowElements').filter((child) => is(child, 'bpmn:StartEvent')).length;
      return starts === 1 ? null : `an event sub-process has exactly one start event (it has ${starts})`;
    },
  ],
  [
    'EXT.062',
    ['bpmn:AdHocSubProcess'],
    (e) => {
      const event = children(e, 'flowElements').find((child) => is(child, 'bpmn:StartEvent', 'bpmn:EndEvent'));
      return event ? `an ad-hoc sub-process has no start or end events, but holds ${label(event)}` : null;
    },
  ],
  [
    'EXT.097',
    SCOPES,
    (e) => {
      const elements = children(e, 'flowElements');
      return elements.some((child) => is(child, 'bpmn:EndEvent')) && !elements.some((child) => is(child, 'bpmn:StartEvent')) && !isEventSubProcess(e)
        ? 'it has an end event, so it needs a start event'
        : null;
    },
  ],
  [
    'EXT.105',
    ['bpmn:SubProcess', 'bpmn:Transaction'],
    (e) => {
      const elements = children(e, 'flowElements');
      return elements.some((child) => is(child, 'bpmn:StartEvent')) && !elements.some((child) => is(child, 'bpmn:EndEvent')) ? 'it has a start event, so it needs an end event' : null;
    },
  ],
  [
    'EXT.110',
    ['bpmn:BoundaryEvent'],
    (e) => (e.cancelActivity === false && definitionsOf(e).includes('Error') ? 'an error boundary event always interrupts (cancelActivity="true")' : null),
  ],
  [
    'EXT.147',
    ['bpmn:BoundaryEvent'],
    (e) => (e.cancelActivity === false && definitionsOf(e).includes('Cancel') ? 'a cancel boundary event always interrupts (cancelActivity="true")' : null),
  ],
  [
    'EXT.146',
    ['bpmn:EndEvent'],
    (e) => {
      const wrong = definitionsOf(e).find((kind) => !['Message', 'Error', 'Escalation', 'Cancel', 'Compensate', 'Signal', 'Terminate'].includes(kind));
      return wrong ? `a ${wrong.toLowerCase()} event cannot end a flow` : null;
    },
  ],
  [
    'EXT.150',
    SCOPES,
    (e, file) => {
      const elements = children(e, 'flowElements');
      if (!elements.some((child) => is(child, 'bpmn:StartEvent'))) return null;
      const exempt = (node: ModdleElement): boolean =>
        is(node, 'bpmn:StartEvent', 'bpmn:BoundaryEvent') || isEventSubProcess(node) || node.isForCompensation === true || (is(node, 'bpmn:IntermediateCatchEvent') && definitionsOf(node).includes('Link'));
      // a node without any sequence flow is tolerated (sketches, notes in the flow); one that leads on but is never reached is not
      const unreached = elements.find((node) => isFlowNode(node) && !exempt(node) && !file.incoming.get(node)?.length && file.outgoing.get(node)?.length);
      return unreached ? `it has a start event, so ${label(unreached)} needs an incoming sequence flow` : null;
    },
  ],
  [
    'EXT.151',
    SCOPES,
    (e, file) => {
      const elements = children(e, 'flowElements');
      if (!elements.some((child) => is(child, 'bpmn:EndEvent'))) return null;
      const exempt = (node: ModdleElement): boolean =>
        is(node, 'bpmn:EndEvent') ||
        isEventSubProcess(node) ||
        node.isForCompensation === true ||
        (is(node, 'bpmn:BoundaryEvent') && definitionsOf(node).includes('Compensate')) ||
        (is(node, 'bpmn:IntermediateThrowEvent') && definitionsOf(node).includes('Link'));
      const deadEnd = elements.find((node) => isFlowNode(node) && !exempt(node) && !file.outgoing.get(node)?.length && file.incoming.get(node)?.length);
      return deadEnd ? `it has an end event, so ${label(deadEnd)} needs an outgoing sequence flow` : null;
    },
  ],
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
  [
    'EXT.137',
    ['bpmn:SequenceFlow'],
    (e) => (is(ref(e, 'sourceRef'), 'bpmn:EventBasedGateway') && e.conditionExpression ? 'a flow leaving an event-based gateway has no condition: the first event decides' : null),
  ],
  [
    'EXT.138',
    ['bpmn:EventBasedGateway'],
    (e, file) => {
      for (const flow of file.outgoing.get(e) ?? []) {
        const target = ref(flow, 'targetRef');
        if (!target) continue;
        const kinds = definitionsOf(target);
        const catches = is(target, 'bpmn:IntermediateCatchEvent') && kinds.length === 1 && ['Message', 'Timer', 'Signal', 'Conditional'].includes(kinds[0] ?? '');
        if (!catches && !is(target, 'bpmn:ReceiveTask')) return `it leads to ${label(target)}; an event-based gateway leads to catching events or receive tasks`;
      }
      return null;
    },
  ],
  [
    'EXT.140',
    ['bpmn:ReceiveTask'],
    (e, file) => {
      const afterGateway = (file.incoming.get(e) ?? []).some((flow) => is(ref(flow, 'sourceRef'), 'bpmn:EventBasedGateway'));
      const attached = afterGateway && [...file.attached.get(e) ?? []][0];
      return attached ? `it follows an event-based gateway, so it cannot have boundary events such as <${String(attached.id)}>` : null;
    },
  ],
  ['EXT.142', ['bpmn:EventBasedGateway'], (e, file) => (e.instantiate === true && file.incoming.get(e)?.length ? 'an event-based gateway that starts the process has no incoming sequence flows' : null)],
  ['EXT.020', ['bpmn:DataInput', 'bpmn:DataOutput'], collectionMismatch],
  ['EXT.077', ['bpmn:DataObject'], collectionMismatch],
  [
    'EXT.025',
    ['bpmn:SequenceFlow'],
    (e, file) => {
      const source = ref(e, 'sourceRef');
      if (!e.conditionExpression || !source || /Gateway$|Event$/.test(source.$type)) return null;
      return (file.outgoing.get(source)?.length ?? 0) < 2 ? `it is the only flow leaving ${label(source)}; a conditional flow from an activity needs another outgoing flow` : null;
    },
  ],
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
    'EXT.127',
    ['bpmn:MessageEventDefinition'],
    (e) => (e.operationRef && !e.messageRef ? 'a message event that names an operation needs the message (messageRef) too' : null),
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
    'EXT.099',
    ['bpmn:CallActivity'],
    (e) => {
      const called = findProcess(e, String(e.calledElement ?? ''));
      if (!called) return null;
      const starts = children(called, 'flowElements').filter((child) => is(child, 'bpmn:StartEvent'));
      return starts.length && !starts.some((start) => !definitionsOf(start).length) ? `the process <${String(called.id)}> it calls has no none start event to be started by it` : null;
    },
  ],
  [
    'EXT.100',
    ['bpmn:StartEvent'],
    (e) => {
      const scope = scopeOf(e);
      if (!is(scope, 'bpmn:SubProcess', 'bpmn:Transaction') || isEventSubProcess(scope)) return null;
      return definitionsOf(e).length ? 'a start event of a sub-process has no trigger: the sub-process starts when a token arrives' : null;
    },
  ],
];

/** The process of this file with the given id. */
function findProcess(element: ModdleElement, id: string): ModdleElement | undefined {
  let definitions: ModdleElement | undefined = element;
  while (definitions && !is(definitions, 'bpmn:Definitions')) definitions = definitions.$parent;
  return children(definitions, 'rootElements').find((root) => is(root, 'bpmn:Process') && root.id === id);
}

function index(context: ModdleContext): FileIndex {
  const file: FileIndex = { outgoing: new Map(), incoming: new Map(), poolOf: new Map(), attached: new Map() };
  for (const element of contained(context.rootElement)) {
    if (is(element, 'bpmn:SequenceFlow')) {
      for (const [property, map] of [['sourceRef', file.outgoing], ['targetRef', file.incoming]] as const) {
        const end = ref(element, property);
        if (end) map.set(end, [...(map.get(end) ?? []), element]);
      }
    }
    const host = is(element, 'bpmn:BoundaryEvent') ? ref(element, 'attachedToRef') : undefined;
    if (host) file.attached.set(host, [...(file.attached.get(host) ?? []), element]);
    if (is(element, 'bpmn:Participant')) {
      const process = ref(element, 'processRef');
      if (process) file.poolOf.set(process, element);
    }
  }
  return file;
}

/** Every violation of the rules in a parsed file, each naming its rule and element. */
export function checkConstraints(context: ModdleContext): Problem[] {
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
    if (target?.$instanceOf && type?.startsWith('bpmn:') && !target.$instanceOf(type)) {
      add('REF', reference.element, `${reference.property.replace(/^bpmn:/, '')} <${reference.id}> is a ${target.$type.slice(5)}, not a ${type.slice(5)}`);
    }
  }
  const file = index(context);
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
