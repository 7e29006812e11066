import type { User } from '../auth/users.ts';
import type { InstanceService, InstanceSummary } from '../instances/service.ts';
import type { InstanceQuery, Page, Store } from '../store/types.ts';

/** What ran and runs on each element of one process version (the Processes page's diagram). */
export interface VersionStats {
  key: string;
  version: number;
  /** per element id: instances waiting or working there now, and open incidents */
  active: Record<string, number>;
  incidents: Record<string, number>;
  /** per element id: how often it ended (completed or failed); per sequence flow id: how often taken */
  heat: Record<string, number>;
  /** running instances of the version, and how many recent instances the heat counts cover */
  running: number;
  sampled: number;
}

const RUNNING_LIMIT = 5_000;
const HEAT_SAMPLE = 200;
const SCAN_PAGE = 500;
const SCAN_LIMIT = 10_000;

const bump = (counts: Record<string, number>, id: string): void => {
  counts[id] = (counts[id] ?? 0) + 1;
};

/**
 * Counts for one version: active instances and incidents per element from the running
 * instances' records, heat from the histories of the newest HEAT_SAMPLE instances.
 */
export async function versionStats(store: Store, key: string, version: number): Promise<VersionStats> {
  const stats: VersionStats = { key, version, active: {}, incidents: {}, heat: {}, running: 0, sampled: 0 };
  const running = await store.findInstances({ processKey: key, status: 'running', offset: 0, limit: RUNNING_LIMIT });
  for (const record of running.items.filter((item) => item.processVersion === version)) {
    stats.running++;
    const here = new Set<string>();
    for (const task of record.userTasks) here.add(task.elementId);
    for (const timer of record.timers) here.add(timer.elementId);
    for (const message of record.messages) here.add(message.elementId);
    for (const job of record.jobs) {
      if (job.notification) continue;
      here.add(job.elementId);
      if (job.incident) bump(stats.incidents, job.elementId);
    }
    for (const id of here) bump(stats.active, id);
  }
  const recent = await store.findInstances({ processKey: key, offset: 0, limit: HEAT_SAMPLE });
  for (const record of recent.items.filter((item) => item.processVersion === version)) {
    stats.sampled++;
    for (const event of await store.history(record.id)) {
      if (!event.elementId) continue;
      if (event.type === 'element.completed' || event.type === 'element.failed' || event.type === 'flow.taken') bump(stats.heat, event.elementId);
    }
  }
  return stats;
}

/** Filters of the Instances page: the API's, and started between two times. */
export interface InstanceFilter extends InstanceQuery {
  startedFrom?: string;
  startedTo?: string;
}

/**
 * The Instances page's list: the instance service's (so each user sees what the API shows them),
 * with a started-between filter applied over at most SCAN_LIMIT newest matches.
 */
export async function listInstances(instances: InstanceService, filter: InstanceFilter, user: User): Promise<Page<InstanceSummary>> {
  const { startedFrom, startedTo, offset, limit, ...query } = filter;
  if (!startedFrom && !startedTo) return instances.list({ ...query, offset, limit }, user);
  const matches: InstanceSummary[] = [];
  for (let at = 0; at < SCAN_LIMIT; at += SCAN_PAGE) {
    const page = await instances.list({ ...query, offset: at, limit: SCAN_PAGE }, user);
    for (const item of page.items) {
      if (startedFrom && item.startedAt < startedFrom) continue;
      if (startedTo && item.startedAt > startedTo) continue;
      matches.push(item);
    }
    if (at + SCAN_PAGE >= page.total) break;
  }
  return { items: matches.slice(offset, offset + limit), total: matches.length };
}
