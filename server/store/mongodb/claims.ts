/**
 * Revision claims: the compare-and-set for FerretDB 1.x, whose conditional update is not atomic.
 *
 * FerretDB 1.x runs `updateOne({ _id, revision })` as a read and a later write, so several
 * writers from the same revision all match (measured: 3 to 7 of 8 concurrent writers "won").
 * An insert of a taken `_id` does fail atomically there. So before writing revision r+1 a writer
 * inserts the claim `<instanceId>:<r+1>`: exactly one writer per revision gets it, and only that
 * one writes. Its writer drops the claim once it wrote the revision or found the instance elsewhere:
 * a later writer from the same revision then claims it again, but finds the instance moved on.
 * So the collection holds only the claims of saves under way (each lookup in it is a scan on
 * FerretDB).
 *
 * A writer that dies between claiming and writing leaves a claim that would block the instance
 * forever; a claim older than the timeout on an instance that never reached its revision is
 * therefore given up. On MongoDB the conditional update itself is atomic and claims are off.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { isDuplicateKey } from './errors.ts';

export interface ClaimDoc {
  _id: string;
  token: string;
  /** Date.now() of the claim */
  claimedAt: number;
}

export interface RevisionClaims {
  /** A token when this writer may write `revision` of the instance, null when another writer claimed it. */
  take(instanceId: string, revision: number): Promise<string | null>;
  /** True while the claim taken with `token` stands (it was not given up as abandoned). */
  holds(instanceId: string, revision: number, token: string): Promise<boolean>;
  /** Drops the claim of `revision` once its writer wrote it or found the instance elsewhere (best effort). */
  release(instanceId: string, revision: number): Promise<void>;
}

const claimId = (instanceId: string, revision: number): string => `${instanceId}:${revision}`;

/**
 * Claims in `claims`; `storedRevision` reads an instance's revision (null if there is none) to
 * tell an abandoned claim from one whose writer is still at work.
 */
export function createRevisionClaims(
  claims: Collection<ClaimDoc>,
  storedRevision: (instanceId: string) => Promise<number | null>,
  timeoutMs: number,
): RevisionClaims {
  return {
    async take(instanceId, revision) {
      const _id = claimId(instanceId, revision);
      const token = randomUUID();
      try {
        await claims.insertOne({ _id, token, claimedAt: Date.now() });
        return token;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const held = await claims.findOne({ _id });
      if (held && Date.now() - held.claimedAt > timeoutMs && (await storedRevision(instanceId)) === revision - 1) {
        // its writer died before writing: give the revision up; the caller's retry can claim it
        await claims.deleteOne({ _id, token: held.token });
      }
      return null;
    },

    async holds(instanceId, revision, token) {
      return (await claims.findOne({ _id: claimId(instanceId, revision) }))?.token === token;
    },

    async release(instanceId, revision) {
      await claims.deleteOne({ _id: claimId(instanceId, revision) }).catch(() => undefined);
    },
  };
}
