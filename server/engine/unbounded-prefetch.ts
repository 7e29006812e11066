import * as Elements from 'bpmn-elements';

/**
 * bpmn-elements hands a process (or sub-process) at most 1,000 unacknowledged messages of its
 * children, and a parallel join at most 1,000 of its incoming flows (smqp consumer prefetch).
 * Every child that waits holds one: with 1,000 or more branches waiting, the ones past the bound
 * were never resumed on a recovered engine (their tasks "did not wait"), and a join of more flows
 * never saw its last tokens — the instance stayed running with nothing to wait for. Baton lifts
 * the bound of those two consumers only, through the options they are created with; what a
 * process holds stays bounded by its model, whose size is checked at deployment.
 */

interface ConsumeOptions {
  consumerTag?: string;
  prefetch?: number;
}

interface Queue {
  consume(onMessage: unknown, options?: ConsumeOptions, owner?: unknown): unknown;
}

interface Broker {
  createQueue(name?: string | null, options?: unknown): Queue;
  getQueue(name: string): Queue | undefined;
}

/** The consumer of a process's (or sub-process's) children's messages. */
export const CHILDREN = /^_process-activity-/;
/** The consumer of a parallel join's incoming flows. */
export const JOIN_INBOUND = /^_run-on-inbound$/;

/** Makes the consumers whose tag matches `tags` that `queue` gets take any number of messages. */
function lift(queue: Queue, tags: RegExp): Queue {
  const consume = queue.consume.bind(queue);
  queue.consume = (onMessage, options, owner) =>
    consume(onMessage, options && tags.test(options.consumerTag ?? '') ? { ...options, prefetch: Number.POSITIVE_INFINITY } : options, owner);
  return queue;
}

/**
 * Lifts the prefetch bound of the consumers tagged `tags` on `broker`: on the queue `existing`,
 * or else on every queue the broker creates from now on.
 */
export function unboundedPrefetch(broker: Broker, tags: RegExp, existing?: string): void {
  if (existing) {
    const queue = broker.getQueue(existing);
    if (queue) lift(queue, tags);
    return;
  }
  const createQueue = broker.createQueue.bind(broker);
  broker.createQueue = (name, options) => lift(createQueue(name, options), tags);
}

type ProcessConstructor = new (definition: unknown, context: unknown) => { broker: Broker };

/** A process whose children's messages are not bounded (see above). */
export class Process extends (Elements as unknown as { Process: ProcessConstructor }).Process {
  constructor(definition: unknown, context: unknown) {
    super(definition, context);
    unboundedPrefetch(this.broker, CHILDREN);
  }
}
