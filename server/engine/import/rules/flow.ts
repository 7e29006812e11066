import type { ModdleElement } from 'bpmn-moddle';
import { children } from '../../extensions.ts';
import { definitionsOf, findProcess, is, isEventSubProcess, isExecutableProcess, isFlowNode, label, ref, SCOPES, type Rule } from './model.ts';

/** Rules about sequence flows, gateways and the scopes they run in. */
export const FLOW_RULES: Rule[] = [
  ['EXT.007', ['bpmn:SequenceFlow'], (e) => { const source = ref(e, 'sourceRef'); return source && !isFlowNode(source) ? `its source ${label(source)} is not a flow node` : null; }],
  ['EXT.006', ['bpmn:SequenceFlow'], (e) => { const target = ref(e, 'targetRef'); return target && !isFlowNode(target) ? `its target ${label(target)} is not a flow node` : null; }],
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
    'EXT.024',
    ['bpmn:SequenceFlow'],
    (e) => (e.isImmediate === false && isExecutableProcess(e) ? 'isImmediate="false" lets other activities run between its ends, which an executable process does not allow' : null),
  ],
  ['EXT.049', ['bpmn:ReceiveTask'], (e, file) => (e.instantiate === true && file.incoming.get(e)?.length ? 'a receive task that starts the process (instantiate="true") has no incoming sequence flows' : null)],
  [
    'EXT.079',
    ['bpmn:SubProcess', 'bpmn:AdHocSubProcess', 'bpmn:Transaction'],
    (e) => (e.ioSpecification ? 'a sub-process declares no data inputs and outputs (ioSpecification): it works on the data of the process around it' : null),
  ],
  [
    'EXT.107',
    ['bpmn:EndEvent'],
    (e, file) => {
      if (!file.incoming.get(e)?.length) return 'an end event needs an incoming sequence flow';
      // a file that lists the flows of its flow nodes says in an end event's own list which flows end there
      return file.listsFlows && !children(e, 'incoming').length ? 'an end event needs an incoming sequence flow, and its incoming list names none' : null;
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
];
