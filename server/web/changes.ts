import { EventEmitter } from 'node:events';

/**
 * Tells listeners in this process that an instance was saved (the executor calls `committed`
 * after each transition). Other nodes' changes are found by polling the revision (events.ts).
 */
export interface InstanceChanges {
  committed(instanceId: string, revision: number): void;
  /** calls `listener` with each new revision of the instance; returns the unsubscribe function */
  subscribe(instanceId: string, listener: (revision: number) => void): () => void;
}

export function createInstanceChanges(): InstanceChanges {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    committed(instanceId, revision) {
      emitter.emit(instanceId, revision);
    },
    subscribe(instanceId, listener) {
      emitter.on(instanceId, listener);
      return () => emitter.off(instanceId, listener);
    },
  };
}
