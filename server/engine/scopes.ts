import type { CompiledProcess } from './definitions.ts';

/** What Baton reads of the parsed definition to run scopes as the specification says. */

export interface ActivityDefinition {
  id: string;
  type: string;
  parent?: { id?: string };
  behaviour?: { triggeredByEvent?: boolean; isInterrupting?: boolean; eventDefinitions?: unknown[] };
}

export interface EventSubProcess {
  id: string;
  /** the process or sub-process it watches */
  scopeId: string;
  interrupting: boolean;
  /** its start event waits for a timer or a condition: it is armed when its scope starts */
  armed: boolean;
  startEventIds: string[];
  /** how often a timer cycle (`R4/PT5S`) starts it: a count, -1 without end, 0 for any other start */
  cycles: number;
}

/** The repetitions of a timer cycle written `Rn/...` (-1 for `R/...`), or 0 for anything else. */
function timerCycles(definitions: { type?: string; behaviour?: { timeCycle?: unknown } }[]): number {
  for (const definition of definitions) {
    const cycle = definition.type === 'bpmn:TimerEventDefinition' ? definition.behaviour?.timeCycle : undefined;
    const match = typeof cycle === 'string' ? /^\s*R(\d*)\//.exec(cycle) : null;
    if (match) return match[1] ? Number(match[1]) : -1;
  }
  return 0;
}

/** The event sub-processes of a process, by id. */
export function eventSubProcesses(compiled: CompiledProcess): Map<string, EventSubProcess> {
  const context = compiled.sourceContext as unknown as { getActivities(scopeId?: string): ActivityDefinition[] };
  const result = new Map<string, EventSubProcess>();
  for (const activity of context.getActivities()) {
    if (activity.type !== 'bpmn:SubProcess' || !activity.behaviour?.triggeredByEvent) continue;
    const starts = context.getActivities(activity.id).filter((child) => child.type === 'bpmn:StartEvent');
    const definitions = starts.flatMap((start) => (start.behaviour?.eventDefinitions ?? []) as { type?: string; behaviour?: { timeCycle?: unknown } }[]);
    const kinds = definitions.map((definition) => definition.type);
    result.set(activity.id, {
      id: activity.id,
      scopeId: activity.parent?.id ?? '',
      interrupting: starts.some((start) => start.behaviour?.isInterrupting !== false),
      armed: kinds.some((kind) => kind === 'bpmn:TimerEventDefinition' || kind === 'bpmn:ConditionalEventDefinition'),
      startEventIds: starts.map((start) => start.id),
      cycles: timerCycles(definitions),
    });
  }
  return result;
}

/** Interrupting boundary events (cancelActivity defaults to true) → the activity they sit on. */
export function boundariesThatInterrupt(compiled: CompiledProcess): Map<string, string> {
  const context = compiled.sourceContext as unknown as { getActivities(): (ActivityDefinition & { behaviour?: { attachedTo?: { id?: string }; cancelActivity?: boolean } })[] };
  const result = new Map<string, string>();
  for (const activity of context.getActivities()) {
    const attachedTo = activity.behaviour?.attachedTo?.id;
    if (activity.type === 'bpmn:BoundaryEvent' && attachedTo && activity.behaviour?.cancelActivity !== false) result.set(activity.id, attachedTo);
  }
  return result;
}

/** An element as bpmn-elements' listener API shows it, as far as scopes need it. */
export interface ScopeApi {
  id: string;
  executionId: string;
  content: unknown;
  discard(): void;
  getPostponed?: () => ScopeApi[];
}

/**
 * Follows which elements run in which scope during one run, to give scopes the specification's
 * semantics that bpmn-elements lacks: interrupting event sub-processes and boundary events cancel
 * what runs inside, and event sub-processes started by timers or conditions wait from the moment
 * their scope starts (BPMN 2.0, 10.3.5) until the rest of the scope is done.
 */
export function createScopeTracker(process: CompiledProcess, typeOf: (id: string) => string | undefined) {
  type Api = ScopeApi;
  const eventSubs = eventSubProcesses(process);
  const interruptingBoundaries = boundariesThatInterrupt(process);
  const active = new Map<string, Api>();
  /** elements entered and not yet left, by execution id */
  const alive = new Map<string, Api>();
  /** armed event sub-processes not yet triggered: execution id → scope id */
  const armedSubs = new Map<string, string>();
  /** non-interrupting event sub-processes started by a timer cycle, running now: execution ids */
  const cycling = new Set<string>();
  const parentOf = (api: Api): { id?: string; executionId?: string } => (api.content as { parent?: { id?: string; executionId?: string } }).parent ?? {};

  /**
   * Event sub-processes started by a timer or a condition wait from the moment their scope starts
   * (BPMN 2.0, 10.3.5); bpmn-elements starts event sub-processes only for thrown events. Baton
   * runs them when the scope's start event starts, and discards them when the rest of the scope is done.
   */
  const armScope = (api: Api): void => {
    const scope = parentOf(api);
    if (!scope.id || eventSubs.has(scope.id) || typeOf(api.id) !== 'bpmn:StartEvent') return;
    for (const sub of eventSubs.values()) if (sub.scopeId === scope.id && sub.armed) arm(api, sub);
  };

  /** runs an event sub-process so that its start event waits, through the scope that `api` runs in */
  const arm = (api: Api, sub: EventSubProcess): void => {
    const owner = (api as unknown as { owner?: { getActivityById?(id: string): { run(): void; isRunning?: boolean } | undefined } }).owner;
    const activity = owner?.getActivityById?.(sub.id);
    if (!activity || activity.isRunning) return;
    activity.run();
    for (const [executionId, child] of active) if (child.id === sub.id) armedSubs.set(executionId, sub.scopeId);
  };

  /**
   * A non-interrupting event sub-process started by a timer cycle that completed waits for the
   * cycle's next time while its scope runs, until the cycle's repetitions (`R4/...`) are used up.
   * bpmn-elements' start events fire once; the count is the
   * sub-process's completed runs in this scope, which its saved state keeps.
   */
  const rearm = (api: Api): void => {
    if (!cycling.delete(api.executionId)) return;
    const sub = eventSubs.get(api.id);
    if (!sub || sub.interrupting || !sub.cycles) return;
    const taken = (api as unknown as { owner?: { getActivityById?(id: string): { counters?: { taken?: number } } | undefined } }).owner?.getActivityById?.(sub.id)?.counters?.taken ?? 0;
    if (sub.cycles > 0 && taken >= sub.cycles) return;
    const busy = (): boolean => [...alive].some(([executionId, child]) => parentOf(child).id === sub.scopeId && !armedSubs.has(executionId));
    // bpmn-elements runs an activity again only once it has finished leaving
    queueMicrotask(() => {
      if (busy()) arm(api, sub);
    });
  };

  /** an event sub-process's start event completed: it runs now, and an interrupting one cancels its scope */
  const triggered = (api: Api): void => {
    const scope = parentOf(api);
    const sub = scope.id ? eventSubs.get(scope.id) : undefined;
    if (!sub || !sub.startEventIds.includes(api.id) || !scope.executionId) return;
    armedSubs.delete(scope.executionId);
    if (sub.cycles) cycling.add(scope.executionId);
    if (sub.interrupting) interruptScope({ id: sub.id, content: { parent: { id: sub.scopeId } } });
  };

  /** when nothing but armed event sub-processes is left in a scope, they are discarded and the scope completes */
  const disarmIfDone = (api: Api): void => {
    const scopeId = parentOf(api).id;
    const armedHere = [...armedSubs].filter(([, id]) => id === scopeId).map(([executionId]) => executionId);
    if (!armedHere.length) return;
    const busy = [...alive].some(([executionId, child]) => parentOf(child).id === scopeId && !armedHere.includes(executionId));
    if (busy) return;
    for (const executionId of armedHere) {
      armedSubs.delete(executionId);
      (alive.get(executionId) ?? active.get(executionId))?.discard();
    }
  };
  /** an interrupting event sub-process or boundary event cancels what else runs in the scope */
  const interruptScope = (api: Pick<Api, 'id' | 'content'>): void => {
    const scopeId = (api.content as { parent?: { id?: string } }).parent?.id;
    for (const [executionId, child] of active) {
      if (child.id === api.id || (child.content as { parent?: { id?: string } }).parent?.id !== scopeId) continue;
      active.delete(executionId);
      child.discard();
    }
  };

  /** after recovery: what runs, in sub-processes too, and which event sub-processes are still armed */
  const track = (postponed: Api[]): void => {
    for (const api of postponed) {
      if (typeOf(api.id) === undefined || active.has(api.executionId)) continue;
      active.set(api.executionId, api);
      alive.set(api.executionId, api);
      // a sub-process lists its children; any other activity lists itself
      const children = (api.getPostponed?.())?.filter((child) => child.executionId !== api.executionId);
      const sub = eventSubs.get(api.id);
      if (sub?.armed && children?.every((child) => sub.startEventIds.includes(child.id))) armedSubs.set(api.executionId, sub.scopeId);
      else if (sub?.cycles) cycling.add(api.executionId);
      if (children) track(children);
    }
  };

  return {
    entered(api: Api): void {
      alive.set(api.executionId, api);
    },
    started(api: Api, live: boolean): void {
      active.set(api.executionId, api);
      if (live) armScope(api);
    },
    /** a boundary event caught: an interrupting one stops what runs inside its activity at once */
    caught(api: Api): void {
      const attachedTo = interruptingBoundaries.get(api.id);
      if (attachedTo) interruptScope({ id: `${api.id}#boundary`, content: { parent: { id: attachedTo } } });
    },
    ended(api: Api): void {
      triggered(api);
    },
    forget(executionId: string): void {
      active.delete(executionId);
    },
    left(api: Api, live: boolean): void {
      alive.delete(api.executionId);
      if (!live) return;
      rearm(api);
      disarmIfDone(api);
    },
    /** after recovery: what runs, and which event sub-processes are still armed */
    recovered(postponed: Api[]): void {
      track(postponed);
    },
  };
}
