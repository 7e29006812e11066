import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import * as Elements from 'bpmn-elements';
import type { Problem } from '../errors.ts';

/**
 * The events a multi-instance activity throws (BPMN 2.0, 10.2.8, MultiInstanceLoopCharacteristics
 * `behavior`): with behavior="None" the event definition that noneBehaviorEventRef names is thrown
 * each time an inner instance completes, with "One" the one of oneBehaviorEventRef when the first
 * inner instance completes; "All" throws nothing. These events "can be caught by boundary events on
 * the multi-instance activity": Baton hands each to the boundary events on the activity that catch
 * its signal, at once, before the activity goes on — and since the activity goes on with its other
 * instances, such a boundary event does not cancel it. bpmn-elements ignores `behavior`.
 */

/** What a multi-instance activity throws, as compileProcess hands it to the engine. */
interface BehaviourEvent {
  behavior: 'None' | 'One';
  signalId: string;
  /** the boundary events on the activity that catch the signal */
  boundaryIds: string[];
}

/** The property of the parsed loop characteristics that carries its {@link BehaviourEvent}. */
const BEHAVIOUR_EVENT = 'batonBehaviourEvent';

/** The event definition a multi-instance activity throws for its behavior, if it throws one. */
function behaviourEventOf(loop: ModdleElement | undefined): { behavior: 'None' | 'One'; definition: ModdleElement } | null {
  if (loop?.$type !== 'bpmn:MultiInstanceLoopCharacteristics') return null;
  const behavior = loop.behavior;
  const definition = (behavior === 'None' ? loop.noneBehaviorEventRef : behavior === 'One' ? loop.oneBehaviorEventRef : undefined) as ModdleElement | undefined;
  return definition && (behavior === 'None' || behavior === 'One') ? { behavior, definition } : null;
}

/**
 * Why Baton will not run an activity's multi-instance behavior, or null: it throws signal event
 * definitions, and does not evaluate complexBehaviorDefinitions.
 */
export function multiInstanceProblem(element: ModdleElement): Problem | null {
  const id = String(element.id);
  const loop = element.loopCharacteristics as ModdleElement | undefined;
  if (loop?.$type !== 'bpmn:MultiInstanceLoopCharacteristics') return null;
  const complex = loop.complexBehaviorDefinition;
  if (loop.behavior === 'Complex' && Array.isArray(complex) && complex.length) {
    return { path: id, message: `<${id}>: multi-instance behavior="Complex" (complexBehaviorDefinition) is not supported` };
  }
  const thrown = behaviourEventOf(loop);
  if (thrown && thrown.definition.$type !== 'bpmn:SignalEventDefinition') {
    return { path: id, message: `<${id}>: multi-instance behavior="${thrown.behavior}" throws the ${thrown.definition.$type.slice(5)} <${String(thrown.definition.id)}>; Baton throws signal event definitions only` };
  }
  return null;
}

/**
 * Hands the engine what each multi-instance activity throws, and makes the boundary events on it
 * that catch that signal leave it running. Run on a freshly parsed context, before serializing.
 */
export function prepareMultiInstanceEvents(context: ModdleContext): void {
  const elements = Object.values(context.elementsById);
  for (const element of elements) {
    const thrown = behaviourEventOf(element.loopCharacteristics as ModdleElement | undefined);
    const signal = thrown?.definition.signalRef as ModdleElement | undefined;
    if (!thrown || thrown.definition.$type !== 'bpmn:SignalEventDefinition' || !signal?.id) continue;
    const event: BehaviourEvent = { behavior: thrown.behavior, signalId: signal.id, boundaryIds: [] };
    for (const boundary of elements) {
      if (boundary.$type !== 'bpmn:BoundaryEvent' || boundary.attachedToRef !== element) continue;
      const definitions = (Array.isArray(boundary.eventDefinitions) ? boundary.eventDefinitions : []) as ModdleElement[];
      if (!definitions.some((definition) => definition.$type === 'bpmn:SignalEventDefinition' && definition.signalRef === signal)) continue;
      boundary.cancelActivity = false;
      event.boundaryIds.push(String(boundary.id));
    }
    if (event.boundaryIds.length) (element.loopCharacteristics as ModdleElement)[BEHAVIOUR_EVENT] = event;
  }
}

interface Message {
  fields?: { redelivered?: boolean };
  content: Record<string, unknown>;
}

interface LoopActivity {
  broker: {
    publish(exchange: string, routingKey: string, content: object, options?: object): void;
    subscribeTmp(exchange: string, pattern: string, handler: (routingKey: string, message: Message) => void, options: object): void;
    cancel(consumerTag: string): void;
  };
  getActivityById(id: string): { resolve?(message: Message): Record<string, unknown>; broker?: LoopActivity['broker'] } | undefined;
}

interface LoopDefinition {
  behaviour?: { isSequential?: boolean; [BEHAVIOUR_EVENT]?: BehaviourEvent };
}

const library = Elements as unknown as {
  MultiInstanceLoopCharacteristics: new (activity: LoopActivity, definition: LoopDefinition) => { execute(message: Message): unknown };
};

const TAG = '_baton-multi-instance-event';

/** Inner instances that completed before a loop that is resumed (its saved execute message). */
function completedBefore(root: Record<string, unknown>, sequential: boolean): number {
  const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
  // a sequential loop saves the index it runs now; a parallel one how many it started, runs and discarded
  return sequential ? count(root.index) : count(root.index) - count(root.running) - count(root.discarded);
}

/** bpmn-elements' multi-instance loop, throwing the event of its behavior as inner instances complete. */
export function MultiInstanceLoopCharacteristics(activity: LoopActivity, loopCharacteristics: LoopDefinition) {
  const loop = new library.MultiInstanceLoopCharacteristics(activity, loopCharacteristics);
  const event = loopCharacteristics.behaviour?.[BEHAVIOUR_EVENT];
  if (!event) return loop;
  const sequential = loopCharacteristics.behaviour?.isSequential === true;
  const execute = loop.execute.bind(loop);
  loop.execute = (executeMessage: Message) => {
    const root = executeMessage.content;
    const { broker } = activity;
    let completed = executeMessage.fields?.redelivered ? completedBefore(root, sequential) : 0;
    broker.cancel(TAG);
    // ahead of the library's own listener: the event is caught before the next instance starts or the activity completes
    broker.subscribeTmp(
      'execution',
      'execute.#',
      (routingKey, message) => {
        const { content } = message;
        if (content.isRootScope) {
          if (routingKey === 'execute.completed' || routingKey === 'execute.discard') broker.cancel(TAG);
          return;
        }
        if (!content.isMultiInstance || routingKey !== 'execute.completed') return;
        if (++completed > 1 && event.behavior === 'One') return;
        const signal = activity.getActivityById(event.signalId)?.resolve?.(executeMessage) ?? { id: event.signalId };
        for (const boundaryId of event.boundaryIds) {
          const content = { id: root.id, executionId: root.executionId, message: signal };
          activity.getActivityById(boundaryId)?.broker?.publish('api', `activity.signal.${String(root.executionId)}`, content, { type: 'signal' });
        }
      },
      { noAck: true, consumerTag: TAG, priority: 350 },
    );
    return execute(executeMessage);
  };
  return loop;
}
