import type { HistoryEvent, InstanceRecord } from '../store/types.ts';

/** How one element of an instance ran, enough to draw the diagram. */
export interface ElementRun {
  id: string;
  name: string;
  type: string;
  executionId: string;
  status: 'active' | 'waiting' | 'completed' | 'failed' | 'cancelled';
  startedAt: string;
  endedAt: string | null;
  message?: string;
}

const END_STATUS: Record<string, ElementRun['status']> = {
  'element.completed': 'completed',
  'element.failed': 'failed',
  'element.cancelled': 'cancelled',
  'timer.fired': 'completed',
};

/** Derives each element execution's status from the instance's history and open work. */
export function elementRuns(record: InstanceRecord, history: HistoryEvent[]): ElementRun[] {
  const runs = new Map<string, ElementRun>();
  for (const event of history) {
    if (!event.executionId || !event.elementId) continue;
    if (event.type === 'element.started') {
      runs.set(event.executionId, {
        id: event.elementId,
        name: event.elementName ?? event.elementId,
        type: event.elementType ?? '',
        executionId: event.executionId,
        status: 'active',
        startedAt: event.at,
        endedAt: null,
      });
      continue;
    }
    const run = runs.get(event.executionId);
    if (!run) continue;
    if (event.type === 'element.waiting' && run.status === 'active') run.status = 'waiting';
    const status = END_STATUS[event.type];
    if (status && run.endedAt === null) {
      run.status = status;
      run.endedAt = event.at;
      if (status === 'failed' && typeof event.data?.message === 'string') run.message = event.data.message;
    }
  }
  const openTasks = new Set(record.userTasks.map((task) => task.executionId));
  for (const run of runs.values()) {
    if (run.endedAt !== null) continue;
    if (record.status !== 'running') {
      run.status = 'cancelled';
      run.endedAt = record.endedAt;
    } else if (openTasks.has(run.executionId) || record.messages.some((m) => m.executionId === run.executionId)) {
      run.status = 'waiting';
    }
  }
  // a boundary event that never triggered is not something that ran
  return [...runs.values()].filter((run) => !(run.type === 'bpmn:BoundaryEvent' && run.status === 'cancelled'));
}
