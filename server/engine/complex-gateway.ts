import * as Elements from 'bpmn-elements';
import { PassTokenOn } from './gateway-behaviour.ts';

/**
 * Complex gateways that join (BPMN 2.0, 13.4.5): the gateway waits (state waiting-for-start)
 * until its activationCondition holds, `activationCount` being the number of incoming flows that
 * hold a token; it then consumes one token from each of those flows and fires once, its outgoing
 * flows taken as an inclusive split takes them. It then waits (state waiting-for-reset) for a
 * token or a dead-path discard on each incoming flow that got none in this cycle, swallows them,
 * and resets without producing a token: the discriminator — the first branch through, the others
 * swallowed. A token arriving on a flow that already delivered in this cycle waits for the next
 * cycle. What the gateway swallowed and where its cycle stands are part of its saved state.
 */

interface InboundMessage {
  fields: { routingKey: string };
  content: { id: string; sourceId: string };
  ack(): void;
}

interface FlowRef {
  id: string;
}

interface ActivityBase {
  id: string;
  type: string;
  behaviour: { activationCondition?: { body?: unknown } };
  environment: { resolveExpression(expression: string, message?: object): unknown };
  context: { getInboundSequenceFlows(id: string): FlowRef[] };
  broker: { cancel(consumerTag: string): void };
  emitFatal(error: Error, content?: object): void;
  run(content: object): unknown;
  _runDiscard(content: object): unknown;
  _onJoinInbound(routingKey: string, message: InboundMessage): unknown;
  getState(): object | undefined;
  recover(state: unknown): unknown;
}

/** Where the gateway's cycle stands, as its saved state holds it. */
interface Cycle {
  /** incoming flows that delivered a token or a discard in the current cycle, after firing */
  done: string[];
  /** the contents of the tokens swallowed while waiting for the reset */
  swallowed: object[];
}

type ActivityConstructor = new (behaviour: unknown, definition: object, context: unknown) => object;
const library = Elements as unknown as { Activity: new (...args: unknown[]) => ActivityBase };

function complexJoin(): ActivityConstructor {
  class ComplexJoin extends library.Activity {
    /** messages received and not consumed yet (unacknowledged: they come back after each run) */
    private held: InboundMessage[] = [];
    /** null while waiting for start */
    private cycle: Cycle | null = null;

    override _onJoinInbound(_routingKey: string, message: InboundMessage): unknown {
      const flows = this.context.getInboundSequenceFlows(this.id).map((flow) => flow.id);
      if (this.cycle) return this.awaitReset(message, flows);
      this.held.push(message);
      const byFlow = new Map<string, InboundMessage>();
      for (const held of this.held) if (!byFlow.has(held.content.id)) byFlow.set(held.content.id, held);
      const taken = flows.filter((flow) => byFlow.get(flow)?.fields.routingKey === 'flow.take');
      if (!taken.length) {
        // no branch brings a token this cycle: the gateway passes the dead path on
        if (byFlow.size < flows.length) return undefined;
        return this.consume([...byFlow.values()], (inbound) => this._runDiscard({ inbound }));
      }
      let activated: unknown;
      try {
        activated = this.activationHolds(taken.length);
      } catch (err) {
        this.emitFatal(err as Error, message.content);
        return undefined;
      }
      if (!activated) return undefined;
      const consumed = [...byFlow.values()];
      if (consumed.length < flows.length) this.cycle = { done: [...byFlow.keys()], swallowed: [] };
      return this.consume(consumed, (inbound) => this.run({ inbound }));
    }

    /** After firing: swallow what the other flows bring in this cycle, then reset. */
    private awaitReset(message: InboundMessage, flows: string[]): unknown {
      const cycle = this.cycle as Cycle;
      if (cycle.done.includes(message.content.id)) {
        this.held.push(message);
        return undefined;
      }
      message.ack();
      cycle.done.push(message.content.id);
      cycle.swallowed.push(structuredClone(message.content));
      if (flows.some((flow) => !cycle.done.includes(flow))) return undefined;
      this.cycle = null;
      // the reset run names the swallowed tokens (the process forgets their flows) and takes no flow
      return this.consume([], () => this.run({ inbound: cycle.swallowed, ignoreOutbound: true }));
    }

    /** Acknowledges the consumed messages and runs; the others come back once the run ends. */
    private consume(messages: InboundMessage[], run: (inbound: object[]) => unknown): unknown {
      for (const message of messages) message.ack();
      this.held = [];
      this.broker.cancel('_run-on-inbound');
      return run(messages.map((message) => structuredClone(message.content)));
    }

    private activationHolds(activationCount: number): unknown {
      const body = this.behaviour.activationCondition?.body;
      if (typeof body !== 'string' || !body.trim()) return true;
      return this.environment.resolveExpression(body.trim(), { activation: { activationCount } });
    }

    override getState(): object | undefined {
      const state = super.getState();
      if (!this.cycle) return state;
      return { ...(state ?? { id: this.id, type: this.type }), complexCycle: structuredClone(this.cycle) };
    }

    override recover(state: unknown): unknown {
      const cycle = (state as { complexCycle?: Cycle } | undefined)?.complexCycle;
      if (cycle) this.cycle = structuredClone(cycle);
      return super.recover(state);
    }
  }
  return ComplexJoin as unknown as ActivityConstructor;
}

const ComplexJoin = complexJoin();

/** A complex gateway with several incoming flows, joining as {@link complexJoin} describes. */
export function ComplexJoinGateway(activityDef: object, context: unknown): object {
  return new ComplexJoin(PassTokenOn, { ...activityDef, isParallelGateway: true }, context);
}
