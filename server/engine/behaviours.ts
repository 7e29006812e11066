import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import * as Elements from 'bpmn-elements';

/**
 * Where bpmn-elements departs from the BPMN 2.0 specification, Baton's own behaviours, handed to
 * the type resolver in place of the library's (definitions.ts).
 */

interface LoopDefinition {
  type?: string;
  behaviour?: { loopCondition?: unknown; testBefore?: boolean; [key: string]: unknown };
}

/** The negation of a condition, in its own expression language (`${x}` or FEEL `=x`). */
export function negateCondition(condition: string): string {
  const text = condition.trim();
  const juel = /^\$\{([\s\S]*)\}$/.exec(text);
  if (juel) return `\${!(${juel[1]})}`;
  if (text.startsWith('=')) return `=not(${text.slice(1)})`;
  return `\${!(${text})}`;
}

/**
 * Standard loops (BPMN 2.0, 13.3.6): the activity repeats *while* loopCondition is true, tested
 * before each iteration (testBefore) or after it, at most loopMaximum times. bpmn-elements stops
 * when the condition becomes true; Baton hands it the negated condition.
 */
function StandardLoopCharacteristics(activity: unknown, loopCharacteristics: LoopDefinition) {
  const behaviour = { ...loopCharacteristics.behaviour };
  if (typeof behaviour.loopCondition === 'string') behaviour.loopCondition = negateCondition(behaviour.loopCondition);
  const Library = (Elements as unknown as { StandardLoopCharacteristics: new (activity: unknown, definition: LoopDefinition) => LoopBehaviour }).StandardLoopCharacteristics;
  const loop = new Library(activity, { ...loopCharacteristics, behaviour });
  const execute = loop.execute.bind(loop);
  loop.execute = (message) => {
    const started = execute(message);
    // a loop whose condition is false before the first iteration completes without one
    if (started === undefined && behaviour.testBefore && !message.fields?.redelivered && loop.characteristics) {
      return loop.characteristics.complete(message.content);
    }
    return started;
  };
  return loop;
}

interface LoopBehaviour {
  characteristics?: { complete(content: unknown): unknown } | null;
  execute(message: { fields?: { redelivered?: boolean }; content: unknown }): unknown;
}

type ActivityConstructor = new (behaviour: unknown, definition: object, context: unknown) => object;
const library = Elements as unknown as { Activity: ActivityConstructor };

/** What an inclusive gateway does once it fires: bpmn-elements' own gateway behaviour. */
function InclusiveGatewayBehaviour(this: { broker: Broker }, activity: { broker: Broker }) {
  this.broker = activity.broker;
}
InclusiveGatewayBehaviour.prototype.execute = function execute(this: { broker: Broker }, message: { content: Record<string, unknown> }) {
  this.broker.publish('execution', 'execute.completed', { ...message.content });
};

interface Broker {
  publish(exchange: string, routingKey: string, content: object): void;
}

/**
 * Inclusive gateways join (BPMN 2.0, 13.4.4): with several incoming flows the gateway fires once,
 * when every incoming flow has a token or can no longer get one — bpmn-elements fired once per
 * arriving token. It now joins as its parallel gateway does, whose discarded flows count as
 * done (dead-path elimination).
 */
function InclusiveGateway(activityDef: object, context: unknown) {
  return new library.Activity(InclusiveGatewayBehaviour, { ...activityDef, isParallelGateway: true }, context);
}

/** The behaviours Baton replaces, by bpmn-elements type name. */
export const BEHAVIOURS: Record<string, unknown> = { StandardLoopCharacteristics, InclusiveGateway };

/**
 * Adjusts a parsed definition where the specification says what bpmn-elements does not: events
 * use the top-level event definitions they reference (eventDefinitionRef), and a parallel gateway
 * ignores the conditions of its outgoing flows (BPMN 2.0, 13.4.3) — every outgoing flow gets a
 * token.
 */
export function prepareForExecution(context: ModdleContext): void {
  for (const element of Object.values(context.elementsById)) {
    // an event may reference a top-level event definition instead of holding one (eventDefinitionRef)
    const referenced = element.eventDefinitionRef as ModdleElement[] | undefined;
    if (Array.isArray(referenced) && referenced.length) {
      const own = Array.isArray(element.eventDefinitions) ? (element.eventDefinitions as ModdleElement[]) : [];
      element.eventDefinitions = [...own, ...referenced.filter((definition) => !own.includes(definition))];
    }
    if (element.$type !== 'bpmn:SequenceFlow') continue;
    const source = element.sourceRef as ModdleElement | undefined;
    if (source?.$type === 'bpmn:ParallelGateway' && element.conditionExpression) delete element.conditionExpression;
  }
}
