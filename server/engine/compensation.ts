import * as TaskElements from 'bpmn-elements/tasks';
import { CHILDREN, unboundedPrefetch } from './unbounded-prefetch.ts';

/**
 * Compensation of a completed sub-process by its compensation event sub-process (BPMN 2.0,
 * 10.5.6 and 10.3.5): when compensation is thrown in the scope where a sub-process completed, the
 * event sub-process whose start event catches compensation runs inside that sub-process, and the
 * compensation it throws in turn runs the handlers of the sub-process's activities that completed
 * (the compensation handlers associated to their compensation boundary events), the latest first.
 * bpmn-elements forgets a sub-process's inner compensation handlers when it completes, and never
 * starts such an event sub-process. Baton runs the sub-process once more for the compensation, in
 * a run that starts only the event sub-process and takes no outgoing flow. Which handlers are
 * still due is part of the sub-process's saved state.
 */

const COMPENSATE = 'bpmn:CompensateEventDefinition';

interface Definition {
  id: string;
  type: string;
  behaviour?: { triggeredByEvent?: boolean; loopCharacteristics?: unknown; attachedTo?: { id?: string }; eventDefinitions?: { type?: string }[] };
}

interface DefinitionContext {
  getActivities(scopeId?: string): Definition[];
  getOutboundAssociations(id: string): { targetId: string }[];
}

interface Context {
  definitionContext: DefinitionContext;
}

interface EventMessage {
  content: { id?: string; parent?: { id?: string }; compensating?: boolean };
}

interface RunnableActivity {
  isRunning?: boolean;
  isStart?: boolean;
  run(content?: object): unknown;
}

interface SubProcessActivity extends RunnableActivity {
  id: string;
  type: string;
  Behaviour: unknown;
  broker: {
    subscribeTmp(exchange: string, pattern: string, handler: (routingKey: string, message: EventMessage) => void, options: object): void;
    publish(exchange: string, routingKey: string, content: object, properties?: object): void;
    cancel(consumerTag: string): void;
  };
  _consumeInbound(): unknown;
  activate(execution?: { id: string; broker: SubProcessActivity['broker'] }): unknown;
  deactivate(): unknown;
  getStartActivities(filter?: { referenceType?: string }): unknown[];
  getState(): object | undefined;
  recover(state: unknown): unknown;
}

interface ProcessExecutionLike {
  getActivities(): RunnableActivity[];
  getActivityById(id: string): (RunnableActivity & { broker: SubProcessActivity['broker'] }) | undefined;
  execute(message: object): unknown;
}

const compensates = (definition: Definition): boolean => (definition.behaviour?.eventDefinitions ?? []).some((event) => event.type === COMPENSATE);

/** Whether an activity definition is an event sub-process whose start event catches compensation. */
function isCompensationEventSubProcess(definitions: DefinitionContext, definition: Definition): boolean {
  if (definition.type !== 'bpmn:SubProcess' || !definition.behaviour?.triggeredByEvent) return false;
  return definitions.getActivities(definition.id).some((child) => child.type === 'bpmn:StartEvent' && compensates(child));
}

/** What compensating a sub-process runs: its compensation event sub-process, and its activities' handlers. */
interface Compensation {
  eventSubProcess: string;
  /** compensation handlers by the activity whose boundary event they are associated to */
  handlers: Map<string, string[]>;
}

function compensationOf(definitions: DefinitionContext, id: string): Compensation | null {
  const children = definitions.getActivities(id);
  const eventSubProcess = children.find((child) => isCompensationEventSubProcess(definitions, child));
  if (!eventSubProcess) return null;
  const handlers = new Map<string, string[]>();
  for (const child of children) {
    const attachedTo = child.behaviour?.attachedTo?.id;
    if (child.type !== 'bpmn:BoundaryEvent' || !attachedTo || !compensates(child)) continue;
    handlers.set(attachedTo, [...(handlers.get(attachedTo) ?? []), ...definitions.getOutboundAssociations(child.id).map((association) => association.targetId)]);
  }
  return { eventSubProcess: eventSubProcess.id, handlers };
}

type Behaviour = new (activity: unknown, context: unknown) => {
  activity: { id: string };
  /** the execution of the sub-process, recovered or running */
  execution?: ProcessExecutionLike;
  execute(message: { fields: { redelivered?: boolean }; content: { compensating?: boolean } }): unknown;
  _upsertExecution(message: object): ProcessExecutionLike;
};
const tasks = TaskElements as unknown as { SubProcess: (definition: object, context: unknown) => SubProcessActivity; SubProcessBehaviour: Behaviour };

/**
 * A sub-process as bpmn-elements runs it, except that a compensation event sub-process waits for
 * its sub-process to be compensated, and a sub-process that has one can be compensated.
 */
export function SubProcess(activityDef: Definition, context: Context): SubProcessActivity {
  const subProcess = tasks.SubProcess(activityDef, context);
  // a sub-process of 1,000 or more waiting children resumes them all (unbounded-prefetch.ts)
  unboundedPrefetch((subProcess as unknown as { broker: Parameters<typeof unboundedPrefetch>[0] }).broker, CHILDREN);
  const definitions = context.definitionContext;
  if (isCompensationEventSubProcess(definitions, activityDef)) {
    // compensation thrown while its sub-process runs is not for it (it compensates activities inside)
    const startActivities = subProcess.getStartActivities.bind(subProcess);
    subProcess.getStartActivities = (filter) => (filter?.referenceType === 'compensate' ? [] : startActivities(filter));
    return subProcess;
  }
  const compensation = activityDef.behaviour?.loopCharacteristics ? null : compensationOf(definitions, activityDef.id);
  if (compensation) makeCompensable(subProcess, compensation);
  return subProcess;
}

function makeCompensable(subProcess: SubProcessActivity, compensation: Compensation): void {
  /** handlers of the activities completed in the current run, in the order they completed */
  let completing: string[] = [];
  /** handlers still due once the sub-process completed; null when it cannot be compensated */
  let due: string[] | null = null;
  let compensating = false;

  /** compensation was thrown while the sub-process was still leaving: it runs once it has left */
  let pending = false;
  const compensate = (): void => {
    subProcess.run({ compensating: true, ignoreOutbound: true });
  };
  /** what the sub-process listens to, again after its broker was recovered */
  const listen = (): void => {
    subProcess.broker.cancel('_baton-compensable');
    subProcess.broker.subscribeTmp(
      'event',
      'activity.#',
      (routingKey, message) => {
        const { id, parent } = message.content;
        if (id === subProcess.id) {
          if (routingKey === 'activity.enter') compensating = message.content.compensating === true;
          if (routingKey === 'activity.enter' && !compensating) completing = [];
          if (routingKey === 'activity.end' && !compensating) due = completing;
          if (routingKey === 'activity.leave' && compensating) {
            compensating = false;
            due = null;
          }
          return;
        }
        if (compensating || routingKey !== 'activity.end' || parent?.id !== subProcess.id || !id) return;
        completing = [...completing, ...(compensation.handlers.get(id) ?? [])];
      },
      { noAck: true, consumerTag: '_baton-compensable' },
    );
  };
  listen();

  // compensation thrown in the scope the sub-process completed in: bpmn-elements delegates it to
  // the scope's children only once the scope's api message at hand is handled, too late when the
  // scope ends on the way; the sub-process follows the scope's events instead. Thrown on the way
  // out of the sub-process (it has not left yet), the compensation runs once it has.
  const watchTag = `_baton-compensate-${subProcess.id}`;
  let scope: { broker: SubProcessActivity['broker'] } | undefined;
  const activate = subProcess.activate.bind(subProcess);
  subProcess.activate = (execution) => {
    scope?.broker.cancel(watchTag);
    scope = execution;
    execution?.broker.subscribeTmp(
      'event',
      'activity.compensate',
      (_routingKey, message) => {
        if (message.content.parent?.id !== execution.id || due === null || compensating || pending) return;
        if (subProcess.isRunning) pending = true;
        else compensate();
      },
      { noAck: true, consumerTag: watchTag },
    );
    return activate(execution);
  };
  const deactivate = subProcess.deactivate.bind(subProcess);
  subProcess.deactivate = () => {
    scope?.broker.cancel(watchTag);
    scope = undefined;
    return deactivate();
  };

  const consumeInbound = subProcess._consumeInbound.bind(subProcess);
  subProcess._consumeInbound = () => {
    if (!pending) return consumeInbound();
    pending = false;
    return compensate();
  };

  /** the compensation the event sub-process throws runs the handlers of the activities that completed, the latest first, once */
  const runHandlers = (execution: ProcessExecutionLike, eventSubProcess: { broker: SubProcessActivity['broker'] }): void => {
    eventSubProcess.broker.subscribeTmp(
      'event',
      'activity.compensate',
      () => {
        const handlers = [...(due ?? [])].reverse();
        due = [];
        for (const handler of handlers) execution.getActivityById(handler)?.run();
      },
      { noAck: true, consumerTag: '_baton-compensate-inner' },
    );
  };

  class CompensationBehaviour extends tasks.SubProcessBehaviour {
    override execute(message: { fields: { redelivered?: boolean }; content: { compensating?: boolean } }): unknown {
      if (!message.content.compensating) return super.execute(message);
      if (message.fields.redelivered) {
        // resumed in a fresh engine: the event sub-process runs already
        const result = super.execute(message);
        const eventSubProcess = this.execution?.getActivityById(compensation.eventSubProcess);
        if (this.execution && eventSubProcess) runHandlers(this.execution, eventSubProcess);
        return result;
      }
      const execution = this._upsertExecution(message);
      // this run starts nothing but the compensation event sub-process
      for (const child of execution.getActivities()) if (child.isStart) Object.defineProperty(child, 'isStart', { value: false });
      const result = execution.execute(message);
      const eventSubProcess = execution.getActivityById(compensation.eventSubProcess);
      if (!eventSubProcess) return result;
      runHandlers(execution, eventSubProcess);
      eventSubProcess.run();
      // its start event catches the compensation
      eventSubProcess.broker.publish('api', `activity.compensate.${compensation.eventSubProcess}`, { id: compensation.eventSubProcess }, { type: 'compensate', delegate: true });
      return result;
    }
  }
  subProcess.Behaviour = CompensationBehaviour;

  const getState = subProcess.getState.bind(subProcess);
  subProcess.getState = () => {
    const state = getState();
    if (due === null && !completing.length && !compensating) return state;
    return { ...(state ?? { id: subProcess.id, type: subProcess.type }), compensation: { due, completing, compensating } };
  };
  const recover = subProcess.recover.bind(subProcess);
  subProcess.recover = (state) => {
    const saved = (state as { compensation?: { due: string[] | null; completing: string[]; compensating: boolean } } | undefined)?.compensation;
    if (saved) ({ due, completing, compensating } = structuredClone(saved));
    const recovered = recover(state);
    listen();
    return recovered;
  };
}
