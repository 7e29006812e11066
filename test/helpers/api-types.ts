/** The shapes of Baton's API answers that several tests read. */

/** One event of `GET /api/instances/:id/history`. */
export interface HistoryEvent {
  seq: number;
  type: string;
  elementId?: string;
  executionId?: string;
  user?: string;
  data?: Record<string, unknown>;
}

/** An external task as `POST /api/external-tasks/fetch-and-lock` returns it. */
export interface LockedTask {
  id: string;
  topicName: string;
  instanceId: string;
  elementId: string;
  workerId: string;
  variables: Record<string, unknown>;
  lockExpiresAt: string;
}
