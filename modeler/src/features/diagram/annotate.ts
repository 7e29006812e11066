import type { Diagram } from './Diagram.ts';

/** One element run of GET /api/instances/:id (`elements`). */
export interface ElementRun {
  id: string;
  name: string;
  type: string;
  status: 'active' | 'waiting' | 'completed' | 'failed' | 'cancelled';
  startedAt: string;
  endedAt: string | null;
  message?: string;
}

/** What the instance view draws: element runs, open incidents and the history's taken flows. */
export interface InstanceState {
  elements?: ElementRun[];
  incidents: { id: string; elementId: string; message: string }[];
}

export interface HistoryEvent {
  seq: number;
  at: string;
  type: string;
  elementId?: string;
  elementName?: string;
  user?: string;
  data?: Record<string, unknown>;
}

/**
 * Marks an instance on its diagram: `baton-completed` on elements that ran and `baton-taken` on
 * flows taken, `baton-active` where tokens wait or work, `baton-failed` on failed elements and
 * incidents (with the message below), and a count where an element ran more than once.
 */
export function annotateInstance(diagram: Diagram, instance: InstanceState, history: HistoryEvent[]): void {
  diagram.clear();
  const runs = new Map<string, ElementRun[]>();
  for (const run of instance.elements ?? []) runs.set(run.id, [...(runs.get(run.id) ?? []), run]);
  const incidents = new Map(instance.incidents.map((incident) => [incident.elementId, incident.message]));
  for (const [id, list] of runs) {
    const failed = list.find((run) => run.status === 'failed');
    if (failed || incidents.has(id)) diagram.mark(id, 'baton-failed');
    else if (list.some((run) => run.status === 'active' || run.status === 'waiting')) diagram.mark(id, 'baton-active');
    else if (list.some((run) => run.status === 'completed')) diagram.mark(id, 'baton-completed');
    const ran = list.filter((run) => run.status !== 'cancelled').length;
    if (ran > 1) diagram.badge(id, `×${ran}`, 'count', 'top-right', `ran ${ran} times`);
    if (failed?.message && !incidents.has(id)) diagram.badge(id, failed.message, 'failed', 'below');
  }
  for (const [id, message] of incidents) {
    diagram.mark(id, 'baton-failed');
    diagram.badge(id, message, 'failed', 'below');
  }
  const taken = new Map<string, number>();
  for (const event of history) if (event.type === 'flow.taken' && event.elementId) taken.set(event.elementId, (taken.get(event.elementId) ?? 0) + 1);
  for (const id of taken.keys()) diagram.mark(id, 'baton-taken');
}

/** Per-element figures of a process version (GET /api/web/processes/:key/stats). */
export interface VersionStats {
  active: Record<string, number>;
  incidents: Record<string, number>;
  heat: Record<string, number>;
  running: number;
  sampled: number;
}

/** Badges for active instances (blue) and incidents (red), and heat classes baton-heat-1…5 by how often each element ran (sub-processes by their content). */
export function annotateStats(diagram: Diagram, stats: VersionStats): void {
  diagram.clear();
  const most = Math.max(0, ...Object.values(stats.heat));
  for (const [id, count] of Object.entries(stats.heat)) {
    // a sub-process is coloured by what ran inside it
    if (!count || !most || diagram.isContainer(id)) continue;
    diagram.mark(id, `baton-heat-${Math.max(1, Math.ceil((count / most) * 5))}`);
  }
  for (const [id, count] of Object.entries(stats.active)) diagram.badge(id, String(count), 'active', 'bottom-left', `${count} active instance(s)`);
  for (const [id, count] of Object.entries(stats.incidents)) diagram.badge(id, String(count), 'incident', 'bottom-right', `${count} open incident(s)`);
}
