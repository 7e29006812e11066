import { Engine } from 'bpmn-engine';
import type { Json, MessageSubscription, Timer, Variables } from '../store/types.ts';
import type { CompiledProcess } from './definitions.ts';
import { isExpressionFailure } from './expression-limits.ts';
import { evaluate } from './expressions.ts';
import { evaluateParameters } from './extensions.ts';
import { callActivityBetween, findErrorCatcher, isWithin } from './model.ts';
import { createScriptRunner } from './script-runner.ts';
import { createScopeTracker, type ScopeApi } from './scopes.ts';
import { NO_SCRIPTS, type ScriptLanguages } from './scripts.ts';
import { createDurableTimers } from './timers.ts';

/** What happens to an instance in one run: the event that loads it. */
export type Action =
  | { type: 'start' }
  | { type: 'completeTask'; executionId: string; variables: Variables }
  | { type: 'completeJob'; executionId: string; variables: Variables; local?: Variables }
  | { type: 'jobError'; executionId: string; code: string; message: string }
  | { type: 'fireTimers' }
  | { type: 'message'; messageId: string; variables: Variables };

/** A step the engine took, as history records it. */
export interface EngineEvent {
  type: string;
  elementId: string;
  elementName?: string;
  elementType?: string;
  executionId?: string;
  data?: Variables;
}

export interface RunInput {
  process: CompiledProcess;
  /** the saved engine state; null to start */
  state: Json | null;
  variables: Variables;
  /** the timers saved with the state: their due dates are kept */
  timers: Timer[];
  action: Action;
  now: Date;
  /** the instance's id, for script languages */
  instanceId?: string;
  /** the script languages the operator enabled */
  scripts?: ScriptLanguages;
  /** the time while the run lasts (defaults to `now`): timers falling due during a slow script fire */
  clock?: () => Date;
}

/** A message or signal an instance threw, for other instances to catch. */
export interface ThrownEvent {
  kind: 'message' | 'signal';
  /** the id of the bpmn:message or bpmn:signal */
  id: string;
  name: string;
  elementId: string;
}

/** Where the instance stands when every token waits. */
export interface RunResult {
  status: 'running' | 'completed' | 'failed';
  error: string | null;
  state: Json;
  variables: Variables;
  userTasks: { executionId: string; elementId: string; name: string }[];
  jobs: { executionId: string; elementId: string; name: string; topic: string }[];
  timers: Timer[];
  messages: MessageSubscription[];
  events: EngineEvent[];
  /** messages and signals thrown in this run */
  thrown: ThrownEvent[];
  /** the engine, for the instance's next event while it runs */
  live?: LiveEngine;
  /**
   * Set when an expression failed or passed a bound: the step did not happen, and the caller
   * keeps the instance as it was, with an incident (never a failed or half-run instance).
   */
  stepFailure?: { elementId: string | null; message: string };
}

/**
 * The engine of a run, kept in memory while its instance waits: it takes the instance's next event
 * without recovering the saved state, as long as it is provably current — its snapshot equals
 * `snapshotOf` the record's saved state, variables and timers.
 */
export interface LiveEngine {
  snapshot(): Promise<string>;
  run(action: Action, now: Date): Promise<RunResult>;
}

/** What a live engine must equal to take the next event of a saved instance. */
export const snapshotOf = (state: Json | null, variables: Variables, timers: Timer[]): string => JSON.stringify([state, variables, timers]);

/** Thrown when the action targets something that does not wait (any more). */
export class NotWaitingError extends Error {}

type Callback = (err: Error | null, output?: unknown) => void;
interface Api {
  id: string;
  type: string;
  name?: string;
  executionId: string;
  content: { message?: { id?: string; name?: string; type?: string; code?: string }; signal?: { id?: string }; error?: { message?: string }; condition?: string };
  signal(message?: unknown): void;
  discard(): void;
}

interface Postponed {
  id: string;
  executionId: string;
  getPostponed?: () => Postponed[];
  sendApiMessage?: (action: string, content: object, options: object) => void;
}

/** The running element `id`, searched through running sub-processes. */
function findPostponed(postponed: Postponed[], id: string, depth = 0): Postponed | undefined {
  for (const element of postponed) {
    if (element.id === id) return element;
    const found = depth < 32 ? findPostponed(element.getPostponed?.() ?? [], id, depth + 1) : undefined;
    if (found) return found;
  }
  return undefined;
}

const USER_TASK_TYPES = new Set(['bpmn:UserTask', 'bpmn:ManualTask']);

/**
 * bpmn-engine logs through `debug` unless given a Logger; making those loggers checks the terminal
 * for every element of every run. Baton writes its own log, so the engine's stays silent.
 */
const silentLogger = (): { debug(): void; error(): void; warn(): void } => ({ debug() {}, error() {}, warn() {} });

const sourceless = new WeakMap<object, CompiledProcess['sourceContext']>();
/**
 * The parsed definition as the engine sees it, except that getState() does not serialize it
 * again (10 KB of JSON per save that the stored state leaves out): engines recover from the
 * definition parsed once per version.
 */
function withoutSource(sourceContext: CompiledProcess['sourceContext']): CompiledProcess['sourceContext'] {
  let quiet = sourceless.get(sourceContext);
  if (!quiet) {
    quiet = Object.create(sourceContext, { serialize: { value: () => undefined } }) as CompiledProcess['sourceContext'];
    sourceless.set(sourceContext, quiet);
  }
  return quiet;
}

/** Element starts one run may take: more is a loop that never waits, and fails the instance. */
const MAX_STEPS_PER_RUN = 20_000;
/** due timers fired in one round of a run: a round of a 1,100-branch instance holds the event loop about 0.2 s */
const TIMERS_PER_ROUND = 50;

/**
 * Runs one event of one instance on a fresh bpmn-engine: recover the state, resume, apply the
 * action, wait until every token waits, and report. No engine outlives the call (DESIGN.md,
 * decision 2). Service and send tasks never run here: they become jobs for workers.
 */
export async function runInstance(input: RunInput): Promise<RunResult> {
  const { process } = input;
  let { action, now } = input;
  // a run takes no time, except while it waits for slow scripts: then timers may fall due
  let scriptsRunning = false;
  const clock = (): Date => (scriptsRunning && input.clock ? input.clock() : now);
  const { model } = process;
  const variables: Variables = structuredClone(input.variables);
  let events: EngineEvent[] = [];
  let thrown: ThrownEvent[] = [];
  const seen = new Set<string>();
  const services = new Map<string, { elementId: string; name: string; topic: string; callback: Callback }>();
  /** what waits, by execution id; a catch event with several event definitions waits for each */
  const waiting = new Map<string, { elementId: string; name: string; type: string; messageIds?: string[]; since?: number }>();
  /** conditional events waiting for their condition, by the execution id of their activity */
  const conditions = new Map<string, Api>();
  /** signals thrown in this run, with the step they were thrown at */
  let ownSignals: { id: string; elementId: string; at: number; again?: boolean }[] = [];
  let step = 0;
  let replaying = input.state !== null;
  let outcome: { status: 'completed' | 'failed'; error: string | null } | null = null;
  /** the element whose expression failed, once one did */
  let failedAt: string | null = null;
  let stepFailure: RunResult['stepFailure'];
  let steps = 0;
  /** due timers a 'fireTimers' action left for the next round (settle fires them) */
  let timersLeft = false;

  const timers = createDurableTimers(input.timers, clock, () => !replaying);
  /** scripts still running, by execution id: their task completes when they resolve */
  const runningScripts = new Map<string, Promise<void>>();

  const forget = (executionId: string): void => {
    scopes.forget(executionId);
    runningScripts.delete(executionId);
    services.delete(executionId);
    waiting.delete(executionId);
    conditions.delete(executionId);
    timers.forget(executionId);
  };

  const record = (type: string, api: Api, data?: Variables): void => {
    // after a failure the engine is stopping: what it still does synchronously did not happen
    if (replaying || outcome?.status === 'failed') return;
    const element = model.elements.get(api.id);
    events.push({
      type,
      elementId: api.id,
      ...(element ? { elementName: element.name, elementType: element.type } : {}),
      ...(api.executionId ? { executionId: api.executionId } : {}),
      ...(data ? { data } : {}),
    });
  };

  const listener = {
    emit(name: string, api: Api | undefined): boolean {
      if (!api) return false;
      const isElement = model.elements.has(api.id) && !api.type.endsWith('EventDefinition');
      if (replaying && api.executionId) seen.add(api.executionId);
      step++;
      switch (name) {
        case 'activity.enter':
          if (isElement) scopes.entered(api);
          break;
        case 'activity.start':
          if (isElement) scopes.started(api, !replaying);
          if (!replaying && ++steps > MAX_STEPS_PER_RUN && !outcome) {
            outcome = { status: 'failed', error: `more than ${MAX_STEPS_PER_RUN} steps without waiting: a loop that never ends? (at <${api.id}>)` };
            void engine.stop();
          }
          if (isElement) {
            seen.add(api.executionId);
            record('element.started', api);
          }
          break;
        case 'activity.wait':
          if (USER_TASK_TYPES.has(api.type)) {
            waiting.set(api.executionId, { elementId: api.id, name: api.name ?? api.id, type: api.type });
            record('element.waiting', api);
          } else if (api.content.message?.id ?? api.content.signal?.id) {
            const messageId = (api.content.message?.id ?? api.content.signal?.id) as string;
            const messageIds = [...(waiting.get(api.executionId)?.messageIds ?? []).filter((id) => id !== messageId), messageId];
            waiting.set(api.executionId, { elementId: api.id, name: api.name ?? api.id, type: api.type, messageIds, since: step });
          } else if (api.content.condition) {
            conditions.set(api.executionId, api);
          }
          break;
        case 'activity.catch': {
          // an interrupting boundary event stops what runs inside its activity at once, before the
          // thrower inside goes on (bpmn-elements discards the activity only after the catch)
          if (!replaying) scopes.caught(api);
          break;
        }
        case 'activity.throw': {
          // an error no boundary event or event sub-process catches ends the instance with it
          const thrown = api.content.message as { type?: string; code?: string; name?: string } | undefined;
          if (replaying || thrown?.type !== 'bpmn:Error' || outcome) break;
          const catcher = findErrorCatcher(model, api.id, String(thrown.code ?? ''));
          if (!catcher) {
            outcome = { status: 'failed', error: `BpmnError ${thrown.code ?? thrown.name ?? ''} thrown by <${api.id}> was not caught`.replace('  ', ' ') };
            void engine.stop();
            break;
          }
          // an error thrown in a called process ends its call activity with the error (BPMN 2.0, 10.3.6)
          const call = callActivityBetween(model, api.id, catcher.id);
          const caller = call ? findPostponed(engine.execution.getPostponed() as unknown as Postponed[], call) : undefined;
          caller?.sendApiMessage?.('error', { message: thrown.name ?? thrown.code, code: thrown.code }, { type: 'error' });
          break;
        }
        case 'activity.message':
        case 'activity.signal': {
          const message = api.content.message;
          if (!replaying && message?.id) {
            thrown.push({ kind: name === 'activity.message' ? 'message' : 'signal', id: message.id, name: message.name ?? message.id, elementId: api.id });
            if (name === 'activity.signal') ownSignals.push({ id: message.id, elementId: api.id, at: step });
          }
          break;
        }
        case 'activity.timeout':
          record('timer.fired', api);
          break;
        case 'activity.end':
          if (!replaying) scopes.ended(api);
          forget(api.executionId);
          if (isElement) record('element.completed', api);
          break;
        case 'activity.error':
          if (!replaying) failedAt ??= api.id;
          forget(api.executionId);
          if (isElement) record('element.failed', api, { message: api.content.error?.message ?? 'error' });
          break;
        case 'activity.discard':
        case 'activity.execution.discard':
          forget(api.executionId);
          if (isElement && seen.delete(api.executionId)) record('element.cancelled', api);
          break;
        case 'activity.leave':
          forget(api.executionId);
          if (isElement) scopes.left(api, !replaying);
          break;
        case 'flow.take':
          record('flow.taken', api);
          break;
      }
      return true;
    },
  };

  const scopes = createScopeTracker(process, (id) => model.elements.get(id)?.type);

  /** remembers what was running when the instance was loaded, in sub-processes too */
  const remember = (postponed: Postponed[]): void => {
    for (const api of postponed) {
      if (seen.has(api.executionId)) continue;
      seen.add(api.executionId);
      if (api.getPostponed) remember(api.getPostponed());
    }
  };

  /** a job whose task was interrupted (boundary event, sub-process error) is withdrawn */
  const withdraw = (elementId: string, executionId: string): void => {
    if (!services.delete(executionId) || !seen.delete(executionId)) return;
    const element = model.elements.get(elementId);
    record('element.cancelled', { id: elementId, type: element?.type ?? '', executionId } as Api);
  };

  const extensions = {
    baton(activity: { id: string; name?: string; behaviour: Record<string, unknown> }) {
      const topic = model.topics.get(activity.id);
      if (!topic) return;
      activity.behaviour.Service = function JobService() {
        let executionId = '';
        return {
          execute(message: { content: { executionId: string } }, callback: Callback) {
            executionId = message.content.executionId;
            seen.add(executionId);
            services.set(executionId, { elementId: activity.id, name: activity.name ?? activity.id, topic, callback });
          },
          discard: () => withdraw(activity.id, executionId),
          stop: () => withdraw(activity.id, executionId),
        };
      };
    },
  };

  const scripts = createScriptRunner({
    languages: input.scripts ?? NO_SCRIPTS,
    instanceId: input.instanceId ?? '',
    variables,
    running: runningScripts,
  });

  const engine = new Engine({
    name: model.key,
    Logger: silentLogger,
    sourceContext: withoutSource(process.sourceContext),
    extensions,
    scripts,
    timers: timers.api,
    // a complex gateway adds activationCount to what its activationCondition sees (complex-gateway.ts)
    expressions: {
      resolveExpression: (expression: string, from?: { activation?: Variables }) => evaluate(expression, from?.activation ? { ...variables, ...from.activation } : variables),
    },
  } as unknown as ConstructorParameters<typeof Engine>[0]);
  engine.once('end', () => (outcome ??= { status: 'completed', error: null }));
  engine.once('error', (err: Error) => {
    if (!outcome && isExpressionFailure(err)) stepFailure = { elementId: failedAt, message: err.message };
    outcome ??= { status: 'failed', error: err.message };
  });

  if (input.state === null) {
    await engine.execute({ listener, variables } as unknown as Parameters<typeof engine.execute>[0]);
  } else {
    engine.recover(structuredClone(input.state) as Parameters<typeof engine.recover>[0]);
    await engine.resume({ listener } as unknown as Parameters<typeof engine.resume>[0]);
    await timers.settle();
    remember(engine.execution.getPostponed() as unknown as Postponed[]);
    scopes.recovered(engine.execution.getPostponed() as unknown as ScopeApi[]);
    replaying = false;
    apply();
  }

  /**
   * A signal reaches every catch event waiting for it (BPMN 2.0, 10.5.1), also on the parallel
   * branches of its own instance. bpmn-elements runs the branches one after the other, so a branch
   * that reaches its catch event after another branch threw missed the signal: once every token
   * waits, such catch events get it — only when none of the catch events that began waiting later
   * lies after the thrower, which would come after the throw in any order.
   */
  async function signalParallelBranches(): Promise<void> {
    for (let round = 0; round < 10 && !outcome; round++) {
      const late = ownSignals.filter((signal) => {
        if (signal.again) return false;
        const catchers = [...waiting.values()].filter((w) => w.messageIds?.includes(signal.id) && (w.since ?? 0) > signal.at);
        return catchers.length > 0 && !catchers.some((catcher) => leadsTo(signal.elementId, catcher.elementId));
      });
      if (!late.length) return;
      for (const signal of late) {
        signal.again = true;
        engine.execution.signal({ id: signal.id });
      }
      await settle();
    }
  }

  /** whether a token leaving `from` can reach `to`: through sequence flows and the scopes around it */
  function leadsTo(from: string, to: string): boolean {
    const context = process.sourceContext as unknown as { getOutboundSequenceFlows(id: string): { targetId: string }[] };
    const seenIds = new Set<string>();
    const queue = [from];
    while (queue.length) {
      const id = queue.shift() as string;
      if (seenIds.has(id)) continue;
      seenIds.add(id);
      for (const flow of context.getOutboundSequenceFlows(id)) {
        if (isWithin(model, to, flow.targetId)) return true;
        queue.push(flow.targetId);
      }
      const scope = model.parents.get(id);
      if (scope) queue.push(scope);
    }
    return false;
  }

  /** waits until every token waits: timer callbacks done, running scripts finished */
  async function settle(): Promise<void> {
    await timers.settle();
    // the due timers of a wide instance fire a round at a time, the event loop free in between
    while (timersLeft && !outcome) {
      timersLeft = timers.fireDue(TIMERS_PER_ROUND);
      await timers.settle();
    }
    while (runningScripts.size && !outcome) {
      scriptsRunning = true;
      const due = timers.nextDue();
      const wait = due === null ? null : Math.max(0, due - clock().getTime());
      let handle: NodeJS.Timeout | undefined;
      const timeout = wait === null ? [] : [new Promise<void>((resolve) => (handle = setTimeout(resolve, wait)))];
      await Promise.race([...runningScripts.values(), ...timeout]);
      clearTimeout(handle);
      timers.fireDue();
      await timers.settle();
    }
  }

  function apply(): void {
    switch (action.type) {
      case 'start':
        return;
      case 'completeJob':
      case 'jobError': {
        const service = services.get(action.executionId);
        if (!service) throw new NotWaitingError(`external task <${action.executionId}> does not wait`);
        services.delete(action.executionId);
        if (action.type === 'completeJob') {
          // with output parameters only what they map reaches the instance (Camunda's rule)
          const outputs = model.outputs.get(service.elementId);
          const values = outputs ? evaluateParameters(outputs, { ...variables, ...action.local, ...action.variables }) : action.variables;
          Object.assign(variables, values);
          service.callback(null, values);
        } else {
          service.callback(Object.assign(new Error(action.message), { code: action.code }));
        }
        return;
      }
      case 'completeTask': {
        const task = waiting.get(action.executionId);
        if (!task || !USER_TASK_TYPES.has(task.type)) throw new NotWaitingError(`task <${action.executionId}> does not wait`);
        Object.assign(variables, action.variables);
        // an inner instance of a multi-instance task ends without an end event of its own: it waits no more
        waiting.delete(action.executionId);
        engine.execution.signal({ id: task.elementId, executionId: action.executionId, ...action.variables });
        return;
      }
      case 'message': {
        Object.assign(variables, action.variables);
        engine.execution.signal({ id: action.messageId, ...action.variables });
        return;
      }
      case 'fireTimers':
        timersLeft = timers.fireDue(TIMERS_PER_ROUND);
        return;
    }
  }

  /**
   * A conditional event fires when its condition becomes true (BPMN 2.0.2, 10.5.5, "Conditional
   * Event Definition"): once every token waits, each waiting one evaluates its condition on the
   * variables the run left — on a kept engine and on a recovered one alike, which evaluates nothing
   * while it resumes (resumed-events.ts).
   */
  async function evaluateConditions(): Promise<void> {
    for (let round = 0; round < 10 && conditions.size && !outcome; round++) {
      // a round that started no element changed nothing a condition reads
      const started = steps;
      for (const api of [...conditions.values()]) api.signal();
      await settle();
      if (steps === started) return;
    }
  }

  /** lets the run go on until every token waits, and reports where the instance stands */
  async function finish(): Promise<RunResult> {
    await settle();
    await evaluateConditions();
    await signalParallelBranches();
    return report();
  }

  /** the engine's state as the store keeps it: without the definition, parsed once per version */
  async function currentState(): Promise<Json> {
    const state = (await engine.getState()) as unknown as { definitions: { source?: unknown }[] };
    for (const definition of state.definitions) delete definition.source;
    return state as unknown as Json;
  }

  /** where the instance stands now that every token waits */
  async function report(): Promise<RunResult> {
    const state = await currentState();
    const finished = outcome as { status: 'completed' | 'failed'; error: string | null } | null;
    const running = !finished;
    const pendingTimers = running ? timers.pending() : [];
    return {
      status: finished?.status ?? 'running',
      error: finished?.error ?? null,
      state,
      variables,
      userTasks: running
        ? [...waiting].filter(([, w]) => USER_TASK_TYPES.has(w.type)).map(([executionId, w]) => ({ executionId, elementId: w.elementId, name: w.name }))
        : [],
      jobs: running ? [...services].map(([executionId, s]) => ({ executionId, elementId: s.elementId, name: s.name, topic: s.topic })) : [],
      timers: pendingTimers,
      messages: running
        ? [...waiting].flatMap(([executionId, w]) =>
            (w.messageIds ?? []).map((messageId) => ({ name: model.messages.get(messageId) ?? messageId, elementId: w.elementId, executionId })),
          )
        : [],
      events,
      thrown,
      ...(running ? { live } : {}),
      ...(stepFailure ? { stepFailure } : {}),
    };
  }

  /** the same engine, still in memory, taking the instance's next event */
  const live: LiveEngine = {
    async snapshot() {
      return snapshotOf(await currentState(), variables, timers.pending());
    },
    async run(nextAction, nextNow) {
      action = nextAction;
      now = nextNow;
      events = [];
      thrown = [];
      ownSignals = [];
      steps = 0;
      apply();
      return finish();
    },
  };

  return finish();
}
