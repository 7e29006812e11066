/**
 * The aggregations over the keys of embedded user tasks and jobs, in the subset FerretDB 1.x runs
 * correctly: $match, $project (inclusion only: it takes `'$field'` expressions as literal
 * strings), $unwind (which keeps only `_id` and the unwound field there), $sort, $skip, $limit,
 * $count; no $facet and no $elemMatch (which missed matches in a test).
 */
import type { Collection, Document } from 'mongodb';
import type { JobCandidate, TaskQuery } from '../types.ts';
import type { InstanceDoc } from './documents.ts';

/** A user task found by a query: which instance holds it. */
export interface TaskHit {
  instanceId: string;
  taskId: string;
}

/**
 * The open user tasks of running instances matching the query, oldest first: the page asked for
 * and the total. With `oneScan` (FerretDB, which reads the whole collection for each aggregation)
 * all matches are read once and paged here instead of counted and paged by two aggregations.
 */
export async function findTaskHits(
  instances: Collection<InstanceDoc>,
  query: TaskQuery,
  oneScan: boolean,
): Promise<{ hits: TaskHit[]; total: number }> {
  const who: Document[] = [];
  if (query.assignee) who.push({ 'userTasks.assignee': query.assignee });
  if (query.candidateGroups?.length) who.push({ 'userTasks.candidateGroups': { $in: query.candidateGroups } });
  if (query.candidateUser) who.push({ 'userTasks.candidateUsers': query.candidateUser });
  const taskFilter = who.length > 1 ? { $or: who } : (who[0] ?? {});
  // the instances first (that is what the indexes serve), then their tasks one by one
  const tasks: Document[] = [
    { $match: { status: 'running', ...(query.instanceId ? { _id: query.instanceId } : {}), ...taskFilter } },
    { $project: { userTasks: 1 } },
    { $unwind: '$userTasks' },
    ...(who.length ? [{ $match: taskFilter }] : []),
  ];
  const sorted: Document[] = [...tasks, { $sort: { 'userTasks.createdAt': 1, 'userTasks.id': 1 } }];
  const toHit = (doc: { _id: string; userTasks: { id: string } }): TaskHit => ({ instanceId: doc._id, taskId: doc.userTasks.id });

  if (oneScan) {
    const all = await instances.aggregate<{ _id: string; userTasks: { id: string } }>(sorted).toArray();
    const hits = query.limit > 0 ? all.slice(query.offset, query.offset + query.limit).map(toHit) : [];
    return { hits, total: all.length };
  }
  const [counted] = await instances.aggregate<{ total: number }>([...tasks, { $count: 'total' }]).toArray();
  const total = counted?.total ?? 0;
  if (query.limit <= 0 || query.offset >= total) return { hits: [], total };
  const page = await instances
    .aggregate<{ _id: string; userTasks: { id: string } }>([
      ...sorted,
      ...(query.offset > 0 ? [{ $skip: query.offset }] : []),
      { $limit: query.limit },
    ])
    .toArray();
  return { hits: page.map(toHit), total };
}

/** Jobs of the topics that running instances offer at `now`: unlocked or lock expired, back-off over, no incident. */
export async function findLockableJobs(
  instances: Collection<InstanceDoc>,
  topics: string[],
  now: string,
  limit: number,
): Promise<JobCandidate[]> {
  if (!topics.length || limit <= 0) return [];
  const docs = await instances
    .aggregate<{ _id: string; jobs: { id: string } }>([
      { $match: { status: 'running', 'jobs.topic': { $in: topics } } },
      { $project: { jobs: 1 } },
      { $unwind: '$jobs' },
      { $match: { 'jobs.topic': { $in: topics }, 'jobs.offeredAt': { $lte: now } } },
      { $sort: { 'jobs.createdAt': 1, 'jobs.id': 1 } },
      { $limit: limit },
      { $project: { 'jobs.id': 1 } },
    ])
    .toArray();
  return docs.map((doc) => ({ instanceId: doc._id, jobId: doc.jobs.id }));
}
