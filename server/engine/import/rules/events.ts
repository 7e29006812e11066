import type { ModdleElement } from 'bpmn-moddle';
import { ISOInterval } from '@0dep/piso';
import { children } from '../../extensions.ts';
import { contained } from '../display-only.ts';
import { definitionsOf, insideTransaction, is, isEventSubProcess, isExecutableProcess, itemOf, label, ref, sameItem, scopeOf, targetsEngine, type Rule } from './model.ts';

/** Rules about events: which triggers each kind of event may have, timers, links, boundary events. */

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

const THROW_EVENTS = ['bpmn:IntermediateThrowEvent', 'bpmn:EndEvent'];
const EVENTS = ['bpmn:StartEvent', 'bpmn:IntermediateCatchEvent', 'bpmn:BoundaryEvent', ...THROW_EVENTS];

/** The data a catch event receives (its data outputs) or a throw event sends (its data inputs), and its event definitions, in order. */
function eventData(event: ModdleElement): { data: ModdleElement[]; kind: string; definitions: ModdleElement[] } {
  const throws = is(event, ...THROW_EVENTS);
  return {
    data: children(event, throws ? 'dataInputs' : 'dataOutputs'),
    kind: throws ? 'data input' : 'data output',
    definitions: [...children(event, 'eventDefinitions'), ...children(event, 'eventDefinitionRef')],
  };
}

/** The item definition of what an event definition carries: its message's item, or the structure of its signal, error or escalation. */
function carried(definition: ModdleElement | undefined): ModdleElement | undefined {
  if (is(definition, 'bpmn:MessageEventDefinition')) return ref(ref(definition, 'messageRef'), 'itemRef');
  return ref(ref(definition, 'signalRef') ?? ref(definition, 'errorRef') ?? ref(definition, 'escalationRef'), 'structureRef');
}

export const EVENT_RULES: Rule[] = [
  [
    'EXT.093',
    EVENTS,
    (e) => {
      const { data, kind, definitions } = eventData(e);
      return data.length && data.length !== definitions.length ? `it has ${data.length} ${kind}(s) for ${definitions.length} event definition(s); an event with ${kind}s has one for each event definition` : null;
    },
  ],
  [
    'EXT.094',
    EVENTS,
    (e) => {
      const { data, kind, definitions } = eventData(e);
      for (const [index, element] of data.entries()) {
        const [item, expected] = [itemOf(element), carried(definitions[index])];
        if (item && expected && !sameItem(item, expected)) {
          return `its ${kind} <${String(element.id)}> holds a <${String(item.id)}>, but its event definition ${definitions[index]?.id ? `<${String(definitions[index]?.id)}>` : `#${index + 1}`} carries a <${String(expected.id)}>`;
        }
      }
      return null;
    },
  ],
  [
    'EXT.095',
    EVENTS,
    (e) => {
      const borrowed = children(e, 'eventDefinitionRef').find((definition) => is(definition.$parent, ...THROW_EVENTS));
      return borrowed?.$parent ? `it refers to the event definition <${String(borrowed.id)}> of ${label(borrowed.$parent)}; the event definitions of a throw event are valid only inside it` : null;
    },
  ],
  [
    'EXT.128',
    ['bpmn:MessageEventDefinition'],
    (e) =>
      isExecutableProcess(e) && !e.operationRef && !targetsEngine(e)
        ? 'a message event of an executable process names the operation it sends or receives (operationRef), unless the file is written for Camunda or Zeebe (their namespace declared), which bind it by the message name'
        : null,
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
    'EXT.127',
    ['bpmn:MessageEventDefinition'],
    (e) => (e.operationRef && !e.messageRef ? 'a message event that names an operation needs the message (messageRef) too' : null),
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
