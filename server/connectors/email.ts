import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { CONNECTOR_TOPICS } from '../engine/extensions.ts';
import type { Directory } from '../notifications/directory.ts';
import { ConnectorError, reason, text, textList, type Connector, type ConnectorOutcome } from './types.ts';

/** The only importer of `nodemailer`: the e-mail connector on topic `notify.email`, over SMTP. */

/** SMTP_URL as nodemailer's options, with short timeouts; the password stays in here. */
function transportOptions(smtpUrl: string) {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}

const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPROTOCOL']);

/** Why the SMTP server did not take a message, and whether trying again may help. */
function explain(error: unknown, server: string): ConnectorError {
  const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
  if (code === 'EAUTH') return new ConnectorError(`the SMTP server ${server} refused the credentials of SMTP_URL: ${reason(error)}`, false);
  if (typeof responseCode === 'number') {
    return new ConnectorError(`the SMTP server ${server} refused the message (${responseCode}): ${reason(error)}`, responseCode < 500);
  }
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
    return new ConnectorError(`the SMTP server ${server} is not reachable: ${reason(error)}`, true);
  }
  return new ConnectorError(`the e-mail could not be sent through ${server}: ${reason(error)}`, true);
}

/** The domain of a From address, for Message-IDs. */
function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'baton.invalid';
}

/**
 * Creates the e-mail connector. Parameters (input parameters of the task): `to` (addresses,
 * default ADMIN_EMAIL), `toUsers`/`toGroups` (users' addresses), `subject`, `text`. Each message
 * has the Message-ID `<job id.attempt@domain>`. Without SMTP_URL the message is logged, recorded
 * in the history and the job completes.
 */
export function createEmailConnector(deps: {
  smtpUrl: string | null;
  from: string;
  adminEmail: string | null;
  publicUrl: string;
  directory: Directory;
  log: Logger;
}): Connector {
  const { smtpUrl, from, adminEmail, publicUrl, directory, log } = deps;
  const options = smtpUrl ? transportOptions(smtpUrl) : null;
  const transport = options ? nodemailer.createTransport(options) : null;
  const server = options ? `${options.host}:${options.port}` : '';
  const domain = domainOf(from);

  return {
    topic: CONNECTOR_TOPICS.email,
    mode: transport ? 'smtp' : 'log',
    async execute({ task, idempotencyKey }): Promise<ConnectorOutcome> {
      const { input } = task;
      const named = directory.emails({ users: textList(input.toUsers), groups: textList(input.toGroups) });
      const given = [...new Set([...textList(input.to), ...named])];
      const to = given.length ? given : adminEmail ? [adminEmail] : [];
      const subject = text(input.subject) ?? `${task.elementName} — ${task.processKey}${task.businessKey ? ` ${task.businessKey}` : ''}`;
      const body = `${text(input.text) ?? subject}\n\n-- \nBaton, ${task.processKey} instance ${task.instanceId}: ${publicUrl}/instances/${task.instanceId}\n`;
      const messageId = `<${idempotencyKey}@${domain}>`;
      const where = { connector: 'email', jobId: task.id, instanceId: task.instanceId, elementId: task.elementId, idempotencyKey };
      if (!transport) {
        log.info({ ...where, mode: 'log', to, subject, text: body }, 'E-mail not sent (SMTP_URL is not set): logged');
        return { kind: 'complete', variables: {}, details: { channel: 'email', via: 'log', to, subject, text: body } };
      }
      if (!to.length) throw new ConnectorError('the e-mail has no recipient: give the task a "to" input parameter or set ADMIN_EMAIL', false);
      try {
        const info = await transport.sendMail({ from, to, subject, text: body, messageId, headers: { 'X-Baton-Idempotency-Key': idempotencyKey } });
        log.info({ ...where, mode: 'smtp', to, messageId, response: info.response }, 'E-mail sent');
      } catch (error) {
        throw explain(error, server);
      }
      return { kind: 'complete', variables: {}, details: { channel: 'email', via: 'smtp', to, subject, messageId } };
    },
    async close() {
      transport?.close();
    },
  };
}
