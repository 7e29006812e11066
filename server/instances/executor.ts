import { randomUUID } from 'node:crypto';
import { evaluate } from '../engine/expressions.ts';
import type { CompiledProcess } from '../engine/definitions.ts';
import { evaluateParameters } from '../engine/extensions.ts';
import type { ScriptLanguages } from '../engine/scripts.ts';
import { newJob } from '../jobs/new-job.ts';
import type { Notifier } from '../notifications/notifier.ts';
import { NotWaitingError, runInstance, type Action, type LiveEngine, type RunResult, type ThrownEvent } from '../engine/runner.ts';
import { ConflictError, RevisionConflictError } from '../errors.ts';
import type { Logger } from 'pino';
import type { HistoryEvent, InstanceRecord, Job, Store, UserTask, Variables } from '../store/types.ts';
import type { DefinitionCache } from './definitions.ts';
import { createdEvent, raiseIncident } from './incidents.ts';
import { heldWork, isStepFailure, nextTimerOf, raiseStepIncident } from './step-incidents.ts';
import { ExpressionError } from '../engine/expression-limits.ts';
import { createLiveEngines } from './live-engines.ts';
import { assertWithinLimits, DEFAULT_VARIABLE_LIMITS, findOverflow, type VariableLimits } from '../forms/variable-limits.ts';

/** A history event before it is numbered. */
export type NewEvent = Omit<HistoryEvent, 'instanceId' | 'seq' | 'at'>;

/** What one transition of an instance does; decided from the freshly loaded record. */
export interface Step<T> {
  /** an event for the engine */
  action?: Action;
  /** a change to the record that needs no engine (a lock, a claim, a cancel) */
  change?: (record: InstanceRecord, now: Date) => void;
  /** history events of Baton's own (who did what) */
  events?: NewEvent[];
  /** what the caller gets once the transition is saved */
  result: (record: InstanceRecord) => T;
}

export interface Executor {
  /** Starts an instance of a process version and runs it until every token waits. */
  start(input: { key: string; version: number; variables: Variables; businessKey: string | null; user: string }): Promise<InstanceRecord>;
  /**
   * Loads an instance, lets `decide` choose a step, runs the engine if the step says so and
   * saves with compare-and-set. A lost race reloads and decides again, so `decide` sees the
   * winner's record (and may then refuse with a 409).
   */
  transition<T>(instanceId: string, decide: (record: InstanceRecord) => Step<T>): Promise<T>;
  /** drops the engines kept in memory (the server closes) */
  close(): void;
  /** the bounds on an instance's variables: what comes in is checked against them, and what the engine makes */
  readonly limits: VariableLimits;
}

export interface ExecutorDeps {
  store: Store;
  definitions: DefinitionCache;
  clock: () => Date;
  /** told the topics of the jobs an instance saved available, so workers waiting for them wake up */
  onJobs?: (topics: string[]) => void;
  log: Logger;
  /** makes the notification jobs of new user tasks and incidents */
  notifier?: Notifier;
  /** the script languages the operator enabled */
  scripts?: ScriptLanguages;
  /** told the messages and signals an instance threw, once its transition is saved */
  onThrown?: (record: InstanceRecord, thrown: ThrownEvent[]) => void;
  /** told after each saved transition (live updates of the web app) */
  onCommit?: (instanceId: string, revision: number) => void;
  /** engines of waiting instances kept in memory for their next event (see live-engines.ts); 0 keeps none */
  liveEngines?: number;
  /** bounds on an instance's variables (BATON_VARIABLE_MAX_BYTES and friends) */
  variableLimits?: VariableLimits;
}

const MAX_ATTEMPTS = 20;

/** Topics of the jobs of a record that a worker could lock (now or after their back-off). */
const availableTopics = (record: InstanceRecord): string[] => [
  ...new Set(record.jobs.filter((job) => job.lockedBy === null && !job.incident).map((job) => job.topic)),
];

/** Creates the one place where instances change: load → run → save with CAS (DESIGN.md 1 and 2). */
export function createExecutor(deps: ExecutorDeps): Executor {
  const { store, definitions, clock, onJobs, log, notifier, onCommit, scripts, onThrown, liveEngines = 64, variableLimits: limits = DEFAULT_VARIABLE_LIMITS } = deps;
  const engines = createLiveEngines(liveEngines, clock);
  const announce = (record: InstanceRecord, thrown: ThrownEvent[]): void => {
    if (thrown.length) onThrown?.(record, thrown);
  };
  const queues = new Map<string, Promise<unknown>>();

  /** runs transitions of one instance one after another inside this process */
  const serial = <T>(id: string, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    queues.set(id, tail);
    void tail.then(() => queues.get(id) === tail && queues.delete(id));
    return next;
  };

  const numbered = (record: InstanceRecord, events: NewEvent[], now: Date): HistoryEvent[] =>
    events.map((event) => ({ instanceId: record.id, seq: ++record.historySeq, at: now.toISOString(), ...event }));

  /** one log line for each saved event that changes the instance's life: start, end, incidents */
  const logLifecycle = (record: InstanceRecord, events: HistoryEvent[]): void => {
    for (const event of events) {
      if (!event.type.startsWith('instance.') && event.type !== 'incident.created') continue;
      const level = event.type === 'instance.failed' || event.type === 'incident.created' ? 'warn' : 'info';
      log[level](
        { instanceId: record.id, processKey: record.processKey, event: event.type, elementId: event.elementId, message: event.data?.message },
        event.type,
      );
    }
  };

  const merge = (record: InstanceRecord, run: RunResult, process: CompiledProcess, now: Date): NewEvent[] => {
    const at = now.toISOString();
    const events: NewEvent[] = run.events.map((event) => ({ ...event }));
    const oldTasks = new Map(record.userTasks.map((task) => [task.executionId, task]));
    const oldJobs = new Map(record.jobs.map((job) => [job.executionId, job]));
    const newTasks: UserTask[] = [];
    // work that an open step incident holds stays out of the task list, the jobs and the subscriptions
    const held = heldWork(record, process.model);
    record.state = run.state;
    record.variables = run.variables;
    record.userTasks = run.userTasks.filter((waiting) => !held.executions.has(waiting.executionId)).map((waiting): UserTask => {
      const old = oldTasks.get(waiting.executionId);
      if (old) return old;
      const spec = process.model.userTasks.get(waiting.elementId);
      const resolve = (text: string): string[] =>
        String(evaluate(text, record.variables) ?? '').split(',').map((part) => part.trim()).filter(Boolean);
      const task: UserTask = {
        id: randomUUID(),
        elementId: waiting.elementId,
        executionId: waiting.executionId,
        name: waiting.name,
        assignee: spec?.assignee ? (resolve(spec.assignee)[0] ?? null) : null,
        candidateUsers: (spec?.candidateUsers ?? []).flatMap(resolve),
        candidateGroups: (spec?.candidateGroups ?? []).flatMap(resolve),
        formFields: spec?.form ?? [],
        createdAt: at,
      };
      events.push({ type: 'task.created', elementId: task.elementId, elementName: task.name, executionId: task.executionId, data: { taskId: task.id } });
      newTasks.push(task);
      return task;
    });
    const newJobs: Job[] = [];
    const engineJobs = run.jobs.filter((waiting) => !held.executions.has(waiting.executionId)).map((waiting): Job => {
      const old = oldJobs.get(waiting.executionId);
      if (old) return old;
      const job = newJob({ elementId: waiting.elementId, executionId: waiting.executionId, elementName: waiting.name, topic: waiting.topic }, at);
      newJobs.push(job);
      return job;
    });
    // Baton's notifications live beside the engine's jobs: kept while what they announce is open
    const openTasks = new Set(record.userTasks.map((task) => task.id));
    const notifications = run.status === 'running' ? record.jobs.filter((job) => job.notification) : [];
    for (const job of notifications.filter((j) => j.notification?.reason === 'task' && !openTasks.has(j.notification.taskId ?? ''))) {
      events.push({ type: 'job.cancelled', elementId: job.elementId, executionId: job.executionId, data: { jobId: job.id, reason: 'the task closed before it was announced' } });
    }
    record.jobs = [
      ...engineJobs,
      ...notifications.filter((job) => job.notification?.reason !== 'task' || openTasks.has(job.notification.taskId ?? '')),
      // an open step incident stays until it is retried (step-incidents.ts)
      ...(run.status === 'running' ? record.jobs.filter((job) => job.step && job.incident) : []),
    ];
    for (const job of newJobs) {
      events.push(createdEvent(job));
      const inputs = process.model.inputs.get(job.elementId);
      if (!inputs) continue;
      try {
        job.input = evaluateParameters(inputs, record.variables);
      } catch (err) {
        events.push(...raiseIncident({ record, job, message: `input parameters of <${job.elementId}> failed: ${(err as Error).message}`, now, model: process.model, notifier }));
      }
    }
    if (run.status === 'running') {
      for (const task of newTasks) {
        const notice = notifier?.userTask(record, task, now);
        if (!notice) continue;
        record.jobs.push(notice);
        events.push(createdEvent(notice));
      }
    }
    record.timers = run.timers;
    record.nextTimerAt = nextTimerOf(record);
    record.messages = run.messages.filter((subscription) => !held.messages.has(subscription.name));
    if (run.status !== 'running') {
      record.status = run.status;
      record.endedAt = at;
      record.error = run.error;
      events.push({ type: `instance.${run.status}`, ...(run.error ? { data: { message: run.error } } : {}) });
    }
    return events;
  };

  /**
   * A run whose variables break a bound (a script, an expression or an output mapping made them)
   * is a step that cannot be taken: it becomes a step incident with the reason, and the instance
   * stays as it was saved (step-incidents.ts), so no instance grows past the bounds by itself.
   */
  const bounded = (run: RunResult): RunResult => {
    const overflow = run.stepFailure ? null : findOverflow(run.variables, limits);
    if (!overflow) return run;
    const message = `${overflow.message} (bounded by BATON_VARIABLE_MAX_BYTES, BATON_VARIABLES_MAX_COUNT and BATON_VARIABLES_MAX_BYTES)`;
    return { ...run, stepFailure: { elementId: null, message } };
  };

  /** runs the engine on the record (its live engine when current); the engine is kept once the record is saved */
  const execute = async (record: InstanceRecord, action: Action, now: Date, thrown: ThrownEvent[]): Promise<{ events: NewEvent[]; engine?: LiveEngine }> => {
    const process = await definitions.compiled(record.processKey, record.processVersion);
    let run: RunResult;
    try {
      const engine = record.state === null ? undefined : await engines.take(record);
      run = engine
        ? await engine.run(action, now)
        : await runInstance({ process, state: record.state, variables: record.variables, timers: record.timers, action, now, clock, instanceId: record.id, scripts });
    } catch (err) {
      if (err instanceof NotWaitingError) throw new ConflictError(err.message);
      throw err;
    }
    run = bounded(run);
    // an expression failed: the step is not taken (the caller saves an incident instead)
    if (run.stepFailure) throw Object.assign(new ExpressionError(run.stepFailure.message), { elementId: run.stepFailure.elementId });
    thrown.push(...run.thrown);
    return { events: merge(record, run, process, now), engine: run.live };
  };

  /** the history of a step that failed: its incident, on the record as it was before the step */
  const failedStep = async (record: InstanceRecord, action: Action, err: unknown, now: Date): Promise<NewEvent[]> => {
    const { model } = await definitions.compiled(record.processKey, record.processVersion);
    const elementId = (err as { elementId?: string | null }).elementId ?? null;
    log.warn({ instanceId: record.id, elementId, action: action.type, err: (err as Error).message }, 'a step failed: incident raised');
    return raiseStepIncident({ record, action, elementId, message: (err as Error).message, now, model });
  };

  return {
    close: () => engines.close(),
    limits,

    async start({ key, version, variables, businessKey, user }) {
      assertWithinLimits(variables, limits);
      const process = await definitions.compiled(key, version);
      const now = clock();
      const record: InstanceRecord = {
        id: randomUUID(),
        processKey: key,
        processVersion: version,
        processName: process.model.name,
        businessKey,
        status: 'running',
        revision: 1,
        variables: { ...variables },
        state: null,
        userTasks: [],
        jobs: [],
        timers: [],
        messages: [],
        nextTimerAt: null,
        startedAt: now.toISOString(),
        startedBy: user,
        endedAt: null,
        error: null,
        historySeq: 0,
      };
      const events: NewEvent[] = [{ type: 'instance.started', user, data: { variables } }];
      const thrown: ThrownEvent[] = [];
      let run: { events: NewEvent[]; engine?: LiveEngine };
      try {
        run = await execute(record, { type: 'start' }, now, thrown);
      } catch (err) {
        if (!isStepFailure(err)) throw err;
        // the instance exists, not yet started, with the incident that says why (execute changes
        // the record only once its run succeeded, so it is as it was built)
        run = { events: await failedStep(record, { type: 'start' }, err, now) };
      }
      events.push(...run.events);
      const saved = numbered(record, events, now);
      await store.createInstance(record, saved);
      engines.keep(record, run.engine);
      logLifecycle(record, saved);
      announce(record, thrown);
      onCommit?.(record.id, record.revision);
      const topics = availableTopics(record);
      if (topics.length) onJobs?.(topics);
      return record;
    },

    transition(instanceId, decide) {
      return serial(instanceId, async () => {
        for (let attempt = 1; ; attempt++) {
          const record = await store.getInstance(instanceId);
          if (!record) throw new ConflictError(`instance <${instanceId}> no longer exists`);
          const expected = record.revision;
          const now = clock();
          const step = decide(record);
          if (!step.action && !step.change && !step.events?.length) return step.result(record);
          const events = [...(step.events ?? [])];
          step.change?.(record, now);
          // what a step brings in must fit beside what the instance holds: else 413/400, nothing written
          const incoming = step.action && 'variables' in step.action ? step.action.variables : {};
          if (Object.keys(incoming).length) assertWithinLimits({ ...record.variables, ...incoming }, limits);
          const thrown: ThrownEvent[] = [];
          let run: { events: NewEvent[]; engine?: LiveEngine } | undefined;
          if (step.action) {
            try {
              run = await execute(record, step.action, now, thrown);
            } catch (err) {
              if (!isStepFailure(err)) throw err;
              // the step is not taken: execute changes the record only once its run succeeded, so it is
              // as loaded, with Baton's own part of the step (who did what); the incident is added to it
              events.push(...(await failedStep(record, step.action, err, now)));
            }
          }
          if (run) events.push(...run.events);
          const saved = numbered(record, events, now);
          try {
            await store.updateInstance(record, expected, saved);
          } catch (err) {
            if (err instanceof RevisionConflictError && attempt < MAX_ATTEMPTS) continue;
            throw err;
          }
          if (run) engines.keep(record, run.engine);
          else if (record.status !== 'running') engines.drop(record.id);
          logLifecycle(record, saved);
          record.revision = expected + 1;
          announce(record, thrown);
          onCommit?.(record.id, record.revision);
          const topics = availableTopics(record);
          if (topics.length) onJobs?.(topics);
          return step.result(record);
        }
      });
    },
  };
}
