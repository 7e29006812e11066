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

/** The behaviours Baton replaces, by bpmn-elements type name. */
export const BEHAVIOURS: Record<string, unknown> = { StandardLoopCharacteristics };

/**
 * Adjusts a parsed definition where the specification says what bpmn-elements does not: a
 * parallel gateway ignores the conditions of its outgoing flows (BPMN 2.0, 13.4.3) — every
 * outgoing flow gets a token.
 */
export function prepareForExecution(context: ModdleContext): void {
  for (const element of Object.values(context.elementsById)) {
    if (element.$type !== 'bpmn:SequenceFlow') continue;
    const source = element.sourceRef as ModdleElement | undefined;
    if (source?.$type === 'bpmn:ParallelGateway' && element.conditionExpression) delete element.conditionExpression;
  }
}
