import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import twilio from 'twilio';
import type { TwilioConfig } from '../config.ts';
import { CONNECTOR_TOPICS } from '../engine/extensions.ts';
import type { Directory } from '../notifications/directory.ts';
import { ConnectorError, reason, text, textList, type Connector, type ConnectorOutcome } from './types.ts';

/** The only importer of the `twilio` SDK: the SMS connector on topic `notify.sms`. */

const TWILIO_API = 'https://api.twilio.com';
type RequestOptions<TData> = Parameters<twilio.RequestClient['request']>[0] & { data?: TData };
const TIMEOUT_MS = 30_000;

/** Twilio's real SDK, sending to TWILIO_API_URL and carrying the call's idempotency token. */
function createClient(config: TwilioConfig, keys: AsyncLocalStorage<string>): twilio.Twilio {
  const base = config.apiUrl.replace(/\/+$/, '');
  class BatonRequestClient extends twilio.RequestClient {
    override request<TData>(opts: RequestOptions<TData>) {
      const key = keys.getStore();
      const uri = base === TWILIO_API ? opts.uri : opts.uri.replace(TWILIO_API, base);
      const headers = { ...opts.headers, ...(key ? { 'I-Twilio-Idempotency-Token': key } : {}) };
      return super.request<TData>({ ...opts, uri, headers });
    }
  }
  return twilio(config.accountSid, config.authToken, { httpClient: new BatonRequestClient({ timeout: TIMEOUT_MS, keepAlive: true }) });
}

/** Why Twilio did not take a message, and whether trying again may help. */
function explain(error: unknown, to: string, apiUrl: string): ConnectorError {
  const rest = error as { status?: unknown; code?: unknown; moreInfo?: unknown; message?: unknown };
  if (typeof rest.status === 'number') {
    const code = typeof rest.code === 'number' ? ` (Twilio error ${rest.code}${typeof rest.moreInfo === 'string' ? `, ${rest.moreInfo}` : ''})` : '';
    const retry = rest.status === 429 || rest.status >= 500;
    return new ConnectorError(`Twilio answered ${rest.status} to the SMS for ${to}: ${String(rest.message)}${code}`, retry);
  }
  return new ConnectorError(`Twilio is not reachable at ${apiUrl}: ${reason(error)}`, true);
}

/**
 * Creates the SMS connector. Parameters (input parameters of the task): `to` (numbers, default
 * ADMIN_PHONE), `toUsers`/`toGroups` (users' phones), `from` (default TWILIO_FROM), `body`.
 * Without Twilio credentials the message is logged, recorded in the history and the job completes.
 */
export function createSmsConnector(deps: { config: TwilioConfig | null; adminPhone: string | null; directory: Directory; log: Logger }): Connector {
  const { config, adminPhone, directory, log } = deps;
  const keys = new AsyncLocalStorage<string>();
  const client = config ? createClient(config, keys) : null;

  return {
    topic: CONNECTOR_TOPICS.sms,
    mode: client ? 'twilio' : 'log',
    async execute({ task, idempotencyKey }): Promise<ConnectorOutcome> {
      const { input } = task;
      const named = directory.phones({ users: textList(input.toUsers), groups: textList(input.toGroups) });
      const given = [...textList(input.to), ...named];
      const to = given.length ? [...new Set(given)] : adminPhone ? [adminPhone] : [];
      const body = text(input.body) ?? `${task.elementName} in ${task.processKey}${task.businessKey ? ` ${task.businessKey}` : ''} (instance ${task.instanceId})`;
      const where = { connector: 'sms', jobId: task.id, instanceId: task.instanceId, elementId: task.elementId, idempotencyKey };
      if (!client || !config) {
        log.info({ ...where, mode: 'log', to, body }, 'SMS not sent (Twilio is not configured): logged');
        return { kind: 'complete', variables: {}, details: { channel: 'sms', via: 'log', to, body } };
      }
      if (!to.length) throw new ConnectorError('the SMS has no recipient: give the task a "to" input parameter or set ADMIN_PHONE', false);
      const from = text(input.from) ?? config.from;
      const sender = /^MG/.test(from) ? { messagingServiceSid: from } : { from };
      const sids: string[] = [];
      for (const [index, number] of to.entries()) {
        const key = to.length > 1 ? `${idempotencyKey}.${index + 1}` : idempotencyKey;
        try {
          const message = await keys.run(key, () => client.messages.create({ to: number, body, ...sender }));
          sids.push(message.sid);
        } catch (error) {
          throw explain(error, number, config.apiUrl);
        }
      }
      log.info({ ...where, mode: 'twilio', to, sids }, 'SMS sent');
      return { kind: 'complete', variables: {}, details: { channel: 'sms', via: 'twilio', to, sids, body } };
    },
  };
}
