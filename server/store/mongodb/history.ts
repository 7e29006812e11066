/**
 * History without transactions. A save's events go into its instance's state document (states.ts)
 * with the events of the saves before it; once they are many, a save moves them into a batch
 * document first and its state lists the batch instead. So the history of an instance is its
 * state plus a few batches, and a writer that lost the compare-and-set, or crashed before it,
 * leaves a state and a batch that no instance names: never a visible event, and two writers of
 * the same seq cannot overwrite each other's events.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { HistoryEvent } from '../types.ts';
import { type HistoryBatchDoc, packText, unpackText } from './documents.ts';

export interface HistoryLog {
  /** Writes events as a batch and returns its id, for the instance's state to list. */
  append(instanceId: string, events: HistoryEvent[]): Promise<string>;
  /** Removes a batch whose instance write failed (best effort: an unlisted batch is invisible anyway). */
  discard(batchId: string): Promise<void>;
  /** The events of these batches, in order. */
  read(batchIds: string[]): Promise<HistoryEvent[]>;
}

/**
 * Batches in `batches`. With `byIdOnly`, batches are read one `_id` at a time (in parallel):
 * FerretDB 1.x uses no index for any other filter, `$in` included, and would read them all.
 */
export function createHistoryLog(batches: Collection<HistoryBatchDoc>, byIdOnly: boolean): HistoryLog {
  return {
    async append(instanceId, events) {
      const _id = randomUUID();
      await batches.insertOne({ _id, instanceId, data: await packText(JSON.stringify(events)) });
      return _id;
    },

    async discard(batchId) {
      await batches.deleteOne({ _id: batchId }).catch(() => undefined);
    },

    async read(batchIds) {
      if (!batchIds.length) return [];
      const found = byIdOnly
        ? await Promise.all(batchIds.map((_id) => batches.findOne({ _id })))
        : await batches.find({ _id: { $in: batchIds } }).toArray();
      const byId = new Map(found.flatMap((batch) => (batch ? [[batch._id, batch] as const] : [])));
      const texts = await Promise.all(batchIds.map((id) => byId.get(id)).map((batch) => (batch ? unpackText(batch.data) : '[]')));
      return texts.flatMap((text) => JSON.parse(text) as HistoryEvent[]);
    },
  };
}
