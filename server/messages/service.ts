import type { User } from '../auth/users.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { validateForm } from '../forms/validate.ts';
import { hasRole } from '../http/auth.ts';
import type { DefinitionCache } from '../instances/definitions.ts';
import type { Executor } from '../instances/executor.ts';
import type { InstanceRecord, Store } from '../store/types.ts';

export interface MessageService {
  /**
   * Delivers a message to the instances waiting for it: the one with `instanceId`, or those whose
   * business key equals `correlationKey`, or every waiting instance when neither is given.
   * 404 when nobody waits. Returns the ids of the instances that received it.
   */
  correlate(input: { name: string; instanceId?: string; correlationKey?: string; variables?: unknown }, user: User): Promise<string[]>;
}

export function createMessageService(store: Store, definitions: DefinitionCache, executor: Executor): MessageService {
  return {
    async correlate({ name, instanceId, correlationKey, variables }, user) {
      if (!hasRole(user, 'admin', 'operator', 'worker')) throw new ForbiddenError('only admins, operators and workers send messages');
      if (instanceId && correlationKey) throw new ValidationError('give instanceId or correlationKey, not both');
      const values = validateForm([], variables, executor.limits);
      let targets: InstanceRecord[];
      if (instanceId) {
        const record = await store.getInstance(instanceId);
        targets = record && record.messages.some((m) => m.name === name) ? [record] : [];
      } else targets = await store.findMessageSubscribers(name, correlationKey);
      const delivered: string[] = [];
      /** an instance that waited when looked up moved on before the message reached it */
      let lost = false;
      for (const target of targets) {
        const { model } = await definitions.compiled(target.processKey, target.processVersion);
        const messageId = [...model.messages].find(([, messageName]) => messageName === name)?.[0];
        if (!messageId) continue;
        const ok = await executor
          .transition(target.id, (fresh) => {
            if (fresh.status !== 'running' || !fresh.messages.some((m) => m.name === name)) {
              lost = true;
              return { result: () => false };
            }
            return {
              events: [{ type: 'message.received', user: user.name, data: { name, variables: values } }],
              action: { type: 'message', messageId, variables: values },
              result: () => true,
            };
          })
          .catch((error: unknown) => {
            if (!(error instanceof ConflictError)) throw error;
            lost = true;
            return false;
          });
        if (ok) delivered.push(target.id);
      }
      if (!delivered.length && lost) throw new ConflictError(`the instance moved on before message ${name} reached it`);
      if (!delivered.length) throw new NotFoundError('instance waiting for message', name);
      return delivered;
    },
  };
}
