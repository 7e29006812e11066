import type { Logger } from 'pino';
import type { ThrownEvent } from '../engine/runner.ts';
import type { InstanceRecord, Store } from '../store/types.ts';
import type { DefinitionCache } from './definitions.ts';
import type { Executor } from './executor.ts';

/**
 * Messages and signals one instance throws reach the others (BPMN 2.0, 10.5): a signal every
 * instance waiting for it, a message the instances waiting for it; when none waits, a deployed
 * process whose start event catches it starts. Delivered after the thrower's transition is
 * saved, each as a transition of its own, so a crash never half-delivers one step.
 */
export interface ThrownEventDelivery {
  /** queues the delivery of what an instance threw */
  deliver(from: InstanceRecord, thrown: ThrownEvent[]): void;
  /** resolves when every queued delivery is done */
  idle(): Promise<void>;
}

interface StartDefinition {
  type: string;
  parent?: { id?: string };
  behaviour?: { eventDefinitions?: { type: string; behaviour?: { messageRef?: { id?: string; name?: string }; signalRef?: { id?: string; name?: string } } }[] };
}

const SYSTEM_USER = 'baton';

export function createThrownEventDelivery(deps: { store: Store; definitions: DefinitionCache; executor: Executor; log: Logger }): ThrownEventDelivery {
  const { store, definitions, executor, log } = deps;
  const pending = new Set<Promise<void>>();

  /** the id a waiting instance knows the event by, if it waits for it */
  const waitsFor = (record: InstanceRecord, event: ThrownEvent): string | null => {
    const subscription = record.messages.find((m) => m.name === event.name || m.name === event.id);
    return subscription ? event.id : null;
  };

  const signalInstance = (instanceId: string, event: ThrownEvent): Promise<boolean> =>
    executor.transition(instanceId, (fresh) => {
      const messageId = fresh.status === 'running' ? waitsFor(fresh, event) : null;
      if (!messageId) return { result: () => false };
      return {
        events: [{ type: `${event.kind}.received`, data: { name: event.name } }],
        action: { type: 'message', messageId, variables: {} },
        result: () => true,
      };
    });

  /** latest versions of deployed processes whose start event catches the event */
  const startersOf = async (event: ThrownEvent): Promise<{ key: string; version: number }[]> => {
    const latest = new Map<string, number>();
    for (const version of await store.listVersions()) latest.set(version.key, Math.max(latest.get(version.key) ?? 0, version.version));
    const starters: { key: string; version: number }[] = [];
    for (const [key, version] of latest) {
      const compiled = await definitions.compiled(key, version).catch(() => null);
      if (!compiled?.model.executable) continue;
      const context = compiled.sourceContext as unknown as { getActivities(scopeId?: string): StartDefinition[] };
      const catches = context.getActivities(key).some(
        (activity) =>
          activity.type === 'bpmn:StartEvent' &&
          (activity.behaviour?.eventDefinitions ?? []).some((definition) => {
            const ref = event.kind === 'message' ? definition.behaviour?.messageRef : definition.behaviour?.signalRef;
            const type = event.kind === 'message' ? 'bpmn:MessageEventDefinition' : 'bpmn:SignalEventDefinition';
            return definition.type === type && (ref?.id === event.id || (ref?.name !== undefined && ref.name === event.name));
          }),
      );
      if (catches) starters.push({ key, version });
    }
    return starters;
  };

  const deliverOne = async (from: InstanceRecord, event: ThrownEvent): Promise<void> => {
    const waiting = (await store.findMessageSubscribers(event.name)).concat(event.id !== event.name ? await store.findMessageSubscribers(event.id) : []);
    let delivered = 0;
    for (const target of waiting) {
      if (target.id === from.id) continue;
      if (await signalInstance(target.id, event)) delivered++;
      if (delivered && event.kind === 'message') return;
    }
    if (delivered && event.kind === 'message') return;
    for (const { key, version } of await startersOf(event)) {
      if (key === from.processKey) continue;
      const started = await executor.start({ key, version, variables: {}, businessKey: null, user: SYSTEM_USER });
      await signalInstance(started.id, event);
      if (event.kind === 'message') return;
    }
  };

  return {
    deliver(from, thrown) {
      for (const event of thrown) {
        const work = deliverOne(from, event).catch((err: unknown) => log.error({ err, instanceId: from.id, event }, `${event.kind} could not be delivered`));
        pending.add(work);
        void work.finally(() => pending.delete(work));
      }
    },
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
