import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Directory } from '../notifications/directory.ts';
import { createEmailConnector } from './email.ts';
import { createHttpConnector } from './http.ts';
import { createSmsConnector } from './twilio.ts';
import type { Connector } from './types.ts';

/** The built-in connectors BATON_CONNECTORS turns on, made from the configuration. */
export function createConnectors(config: Config, deps: { directory: Directory; log: Logger }): Connector[] {
  const { connectors: settings } = config;
  const { directory } = deps;
  const log = deps.log.child({ component: 'connectors' });
  const connectors: Connector[] = [];
  if (settings.enabled.includes('sms')) {
    connectors.push(createSmsConnector({ config: settings.twilio, adminPhone: settings.adminPhone, directory, log }));
  }
  if (settings.enabled.includes('email')) {
    connectors.push(
      createEmailConnector({ smtpUrl: settings.smtpUrl, from: settings.mailFrom, adminEmail: settings.adminEmail, publicUrl: config.publicUrl, directory, log }),
    );
  }
  if (settings.enabled.includes('http')) connectors.push(createHttpConnector({ timeoutMs: settings.httpTimeoutMs, log }));
  return connectors;
}
