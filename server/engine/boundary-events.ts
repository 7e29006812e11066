import * as Elements from 'bpmn-elements';

/**
 * Non-interrupting boundary events stay armed while their activity runs: each signal, message or
 * escalation one catches starts its path again while the activity goes on (BPMN 2.0, 10.5.3,
 * cancelActivity="false"). bpmn-elements arms them once, except for timer cycles; Baton re-arms one
 * after each catch, as the library does for a cycle. A conditional boundary event is not re-armed:
 * its condition fires when it becomes true, and it is still true right after the catch.
 */

/** Event definitions whose non-interrupting boundary event catches any number of times. */
const REPEATING = new Set(['bpmn:SignalEventDefinition', 'bpmn:MessageEventDefinition', 'bpmn:EscalationEventDefinition']);

interface EventDefinition {
  type?: string;
  Behaviour?: unknown;
}

interface BoundaryDefinition {
  behaviour?: { cancelActivity?: boolean; eventDefinitions?: EventDefinition[] };
}

interface CatchMessage {
  content: { executionId?: string; message?: { id?: string }; source?: { executionId?: string } };
}

interface Broker {
  publish(exchange: string, routingKey: string, content: object): void;
  subscribeTmp(exchange: string, pattern: string, handler: (routingKey: string, message: { content: { isDefinitionScope?: boolean } }) => void, options: object): void;
}

type Catcher = new (...args: unknown[]) => { _onCatchMessage(routingKey: string, message: CatchMessage): unknown };
const library = Elements as unknown as { BoundaryEvent: (definition: BoundaryDefinition, context: unknown) => { broker: Broker } };

/**
 * A catching event definition that takes each thrown event once. bpmn-elements hands an event
 * thrown inside a process to the process's elements twice — from the process, then from the
 * definition (as `source`) — which a catcher armed again after the first delivery would take twice.
 */
function catchingOnce(Definition: Catcher): Catcher {
  /** deliveries taken from the process whose second delivery, from the definition, is still due */
  const due = new Map<string, number>();
  return class CatchingOnce extends Definition {
    override _onCatchMessage(routingKey: string, message: CatchMessage): unknown {
      const { content } = message;
      const key = `${content.source?.executionId ?? content.executionId}:${content.message?.id}`;
      const pending = due.get(key) ?? 0;
      if (content.source && pending > 0) {
        due.set(key, pending - 1);
        return undefined;
      }
      if (!content.source) due.set(key, pending + 1);
      return super._onCatchMessage(routingKey, message);
    }
  };
}

/** bpmn-elements' boundary event, re-armed after each catch when it does not interrupt. */
export function BoundaryEvent(activityDef: BoundaryDefinition, context: unknown) {
  const definitions = activityDef.behaviour?.eventDefinitions ?? [];
  const repeats = activityDef.behaviour?.cancelActivity === false && definitions.length > 0 && definitions.every((definition) => REPEATING.has(definition.type ?? ''));
  if (!repeats) return library.BoundaryEvent(activityDef, context);
  const eventDefinitions = definitions.map((definition) => ({ ...definition, Behaviour: catchingOnce(definition.Behaviour as Catcher) }));
  const activity = library.BoundaryEvent({ ...activityDef, behaviour: { ...activityDef.behaviour, eventDefinitions } }, context);
  // an event definition caught: the request to re-arm goes out before the boundary completes, as a timer cycle's does
  activity.broker.subscribeTmp(
    'execution',
    'execute.completed',
    (_, message) => {
      if (message.content.isDefinitionScope) activity.broker.publish('execution', 'execute.repeat', { ...message.content, isDefinitionScope: undefined });
    },
    { noAck: true, consumerTag: '_baton-boundary-repeat', priority: 500 },
  );
  return activity;
}
