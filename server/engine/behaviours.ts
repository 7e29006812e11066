import type { ModdleContext, ModdleElement } from 'bpmn-moddle';
import * as Elements from 'bpmn-elements';
import * as TaskElements from 'bpmn-elements/tasks';
import { ComplexJoinGateway } from './complex-gateway.ts';
import { SubProcess } from './compensation.ts';
import { PassTokenOn } from './gateway-behaviour.ts';
import { JOIN_INBOUND, unboundedPrefetch } from './unbounded-prefetch.ts';

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

/**
 * Inclusive gateways join (BPMN 2.0, 13.4.4): with several incoming flows the gateway fires once,
 * when every incoming flow has a token or can no longer get one — bpmn-elements fired once per
 * arriving token. It now joins as its parallel gateway does, whose discarded flows count as
 * done (dead-path elimination).
 */
function InclusiveGateway(activityDef: object, context: unknown) {
  return new Join(PassTokenOn, { ...activityDef, isParallelGateway: true }, context);
}

interface JoinMessage {
  fields: { routingKey: string };
  content: { sourceId: string };
  ack(): void;
}

interface JoinContext {
  getActivities(scopeId?: string): { id: string; status?: string }[];
  getInboundSequenceFlows(id: string): { sourceId: string }[];
  getOutboundSequenceFlows(id: string): { targetId: string }[];
}

/**
 * A join (parallel, or inclusive) that fires only when no token can still arrive. bpmn-elements
 * counts an incoming flow as done once it got a discard (dead-path elimination), but an exclusive
 * merge upstream passes on the discard of its dead branch while its live branch still runs: the
 * join fired early and then waited forever for the late token (bpmn-engine issue #200). Baton
 * holds a discard back while an element that is still running can reach the flow's source, and
 * hands the library one message per incoming flow — the take when there is one.
 */
/** Statuses of an element that holds a live token (not ending, not discarded). */
const LIVE = new Set(['entered', 'started', 'executing', 'executed', 'formatting']);

function joinActivity(): ActivityConstructor {
  const Base = library.Activity as unknown as new (...args: unknown[]) => { id: string; context: JoinContext; _onJoinInbound(routingKey: string, message: JoinMessage): unknown };
  class Join extends Base {
    private held: JoinMessage[] = [];
    private readonly waitsForAll = (this as unknown as { type?: string }).type === 'bpmn:ParallelGateway';

    constructor(...args: unknown[]) {
      super(...args);
      // a join of 1,000 or more flows holds them all (unbounded-prefetch.ts)
      unboundedPrefetch((this as unknown as { broker: Parameters<typeof unboundedPrefetch>[0] }).broker, JOIN_INBOUND, 'inbound-q');
    }

    override _onJoinInbound(routingKey: string, message: JoinMessage): unknown {
      this.held.push(message);
      const bySource = new Map<string, JoinMessage[]>();
      for (const held of this.held) bySource.set(held.content.sourceId, [...(bySource.get(held.content.sourceId) ?? []), held]);
      const inbound = this.inboundSources();
      if (inbound.some((source) => !bySource.has(source))) return undefined;
      const taken = (source: string): boolean => (bySource.get(source) ?? []).some((m) => m.fields.routingKey === 'flow.take');
      const anyTaken = inbound.some(taken);
      const takenSources = inbound.filter(taken);
      if (anyTaken && inbound.some((source) => !taken(source) && this.stillLive(source, takenSources))) return undefined;
      // a parallel join waits for a token on every incoming flow (BPMN 2.0, 13.4.2): with some taken
      // and some dead it never fires — the deadlock the specification describes
      if (this.waitsForAll && anyTaken && takenSources.length < inbound.length) return undefined;
      // every held message goes to the library in one round (it lets the process forget the flows);
      // a source with a single message comes last, as the one that completes the round
      const order = [...inbound].sort((a, b) => Number((bySource.get(a)?.length ?? 0) === 1) - Number((bySource.get(b)?.length ?? 0) === 1));
      this.held = [];
      let result: unknown;
      for (const source of order) for (const next of bySource.get(source) ?? []) result = super._onJoinInbound(next.fields.routingKey, next);
      return result;
    }

    private inboundSources(): string[] {
      return [...new Set(this.context.getInboundSequenceFlows(this.id).map((flow) => flow.sourceId))];
    }

    /**
     * A token can still come from `source`: an element still running reaches it (or is it) and is on
     * a path of its own — it reaches none of the sources that already delivered (a split upstream
     * of both, still finishing its own step, is not such a token).
     */
    private stillLive(source: string, takenSources: string[]): boolean {
      return this.context
        .getActivities()
        .some(
          (activity) =>
            activity.id !== this.id &&
            LIVE.has(activity.status ?? '') &&
            this.reaches(activity.id, source) &&
            !takenSources.some((taken) => this.reaches(activity.id, taken)),
        );
    }

    private reaches(from: string, to: string): boolean {
      const seen = new Set<string>();
      const queue = [from];
      while (queue.length) {
        const id = queue.shift() as string;
        if (id === to) return true;
        if (seen.has(id) || id === this.id) continue;
        seen.add(id);
        for (const flow of this.context.getOutboundSequenceFlows(id)) queue.push(flow.targetId);
      }
      return false;
    }
  }
  return Join as unknown as ActivityConstructor;
}

const Join = joinActivity();

/** Parallel gateways join with {@link joinActivity}. */
function ParallelGateway(activityDef: object, context: unknown) {
  return new Join(PassTokenOn, { ...activityDef, isParallelGateway: true }, context);
}


interface QuantityDefinition {
  behaviour?: { startQuantity?: unknown; completionQuantity?: unknown };
}

const quantity = (value: unknown): number => (Number.isInteger(Number(value)) && Number(value) > 1 ? Number(value) : 1);

interface InboundMessage {
  content: object;
  ack(): void;
}

/**
 * Token quantities (BPMN 2.0, 13.3.2): a task with startQuantity n starts once n tokens have
 * arrived and consumes them; one with completionQuantity n puts n tokens on each outgoing flow it
 * takes. bpmn-elements ignores both. The tokens counted so far are part of the task's saved state.
 */
function quantifiedActivity(): ActivityConstructor {
  const Base = library.Activity as unknown as new (...args: unknown[]) => {
    id: string;
    type: string;
    behaviour: QuantityDefinition['behaviour'];
    broker: { cancel(consumerTag: string): void };
    run(content: object): unknown;
    _onInbound(routingKey: string, message: InboundMessage): unknown;
    _publishRunOutbound(flow: { action: string }, content: object, discardSequence: unknown): unknown;
    getState(): object | undefined;
    recover(state: unknown): unknown;
  };
  class Quantified extends Base {
    /** the tokens that arrived before enough did, handed to the run that consumes them */
    private tokens: object[] = [];

    override _onInbound(routingKey: string, message: InboundMessage): unknown {
      if (routingKey === 'flow.discard' && this.tokens.length) {
        message.ack();
        return undefined;
      }
      if (routingKey !== 'flow.take') return super._onInbound(routingKey, message);
      const tokens = [...this.tokens, structuredClone(message.content)];
      message.ack();
      if (tokens.length < quantity(this.behaviour?.startQuantity)) {
        this.tokens = tokens;
        return undefined;
      }
      this.tokens = [];
      this.broker.cancel('_run-on-inbound');
      // every consumed token is named as inbound: the process forgets each flow it came by
      return this.run({ message: (message.content as { message?: unknown }).message, inbound: tokens });
    }

    override _publishRunOutbound(flow: { action: string }, content: object, discardSequence: unknown): unknown {
      const times = flow.action === 'take' ? quantity(this.behaviour?.completionQuantity) : 1;
      let result: unknown;
      for (let i = 0; i < times; i++) result = super._publishRunOutbound(flow, content, discardSequence);
      return result;
    }

    override getState(): object | undefined {
      const state = super.getState();
      if (!this.tokens.length) return state;
      return { ...(state ?? { id: this.id, type: this.type }), startTokens: this.tokens };
    }

    override recover(state: unknown): unknown {
      const tokens = (state as { startTokens?: unknown } | undefined)?.startTokens;
      if (Array.isArray(tokens)) this.tokens = structuredClone(tokens) as object[];
      return super.recover(state);
    }
  }
  return Quantified as unknown as ActivityConstructor;
}

const Quantified = quantifiedActivity();
const tasks = TaskElements as unknown as Record<string, unknown>;

/** A task type that runs as bpmn-elements' own unless its definition sets a token quantity. */
function withQuantities(name: string, behaviourName: string) {
  const Original = tasks[name] as (definition: object, context: unknown) => object;
  const Behaviour = tasks[behaviourName];
  return function QuantifiedTask(activityDef: QuantityDefinition, context: unknown) {
    const { startQuantity, completionQuantity } = activityDef.behaviour ?? {};
    if (quantity(startQuantity) === 1 && quantity(completionQuantity) === 1) return Original(activityDef, context);
    return new Quantified(Behaviour, activityDef, context);
  };
}

const QUANTIFIED_TASKS: Record<string, unknown> = {
  Task: withQuantities('Task', 'TaskBehaviour'),
  ScriptTask: withQuantities('ScriptTask', 'ScriptTaskBehaviour'),
  ServiceTask: withQuantities('ServiceTask', 'ServiceTaskBehaviour'),
  SendTask: withQuantities('ServiceTask', 'ServiceTaskBehaviour'),
  BusinessRuleTask: withQuantities('ServiceTask', 'ServiceTaskBehaviour'),
  ReceiveTask: withQuantities('ReceiveTask', 'ReceiveTaskBehaviour'),
  SignalTask: withQuantities('SignalTask', 'SignalTaskBehaviour'),
  ManualTask: withQuantities('SignalTask', 'SignalTaskBehaviour'),
  UserTask: withQuantities('SignalTask', 'SignalTaskBehaviour'),
};

/**
 * A complex gateway that splits gives a token to every outgoing flow whose condition holds, the
 * default flow when none does (BPMN 2.0, 13.4.5): an inclusive split. One that joins waits for its
 * activationCondition (complex-gateway.ts).
 */
function ComplexGateway(activityDef: { id: string }, context: { getInboundSequenceFlows(id: string): unknown[] }) {
  if (context.getInboundSequenceFlows(activityDef.id).length > 1) return ComplexJoinGateway(activityDef, context);
  return InclusiveGateway(activityDef, context);
}

/** The behaviours Baton replaces, by bpmn-elements type name. */
export const BEHAVIOURS: Record<string, unknown> = { StandardLoopCharacteristics, InclusiveGateway, ParallelGateway, ComplexGateway, SubProcess, ...QUANTIFIED_TASKS };

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
