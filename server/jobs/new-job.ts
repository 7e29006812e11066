import { randomUUID } from 'node:crypto';
import type { Job } from '../store/types.ts';

/** What tells one new job from another; the rest of a new job is always the same. */
export type JobFields = Pick<Job, 'elementId' | 'executionId' | 'elementName' | 'topic'> & Partial<Pick<Job, 'id' | 'input' | 'notification'>>;

/** A new job as every job starts: unlocked, available now, retries not yet counted, no incident. */
export function newJob(fields: JobFields, at: string): Job {
  const { id = randomUUID(), ...rest } = fields;
  return { id, ...rest, retries: null, availableAt: at, lockedBy: null, lockExpiresAt: null, incident: null, createdAt: at };
}
