/**
 * What the connector features share: a Baton environment that sends to the loopback SMTP server
 * and Twilio endpoint, an operator's reads, and a port where nothing listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO, type TestBaton } from './baton.ts';
import type { SmtpSink } from './smtp.ts';
import type { TwilioEndpoint } from './twilio-endpoint.ts';
import type { HistoryEvent } from './api-types.ts';

export const ADMIN_PHONE = '+41790000001';
export const SENDER = '+15005550006';

/** The environment of a Baton whose connectors send to the loopback SMTP server and Twilio endpoint. */
export function connectorEnv(smtp: SmtpSink | { url: string }, twilio: TwilioEndpoint): Record<string, string> {
  return {
    BATON_CONNECTORS: 'sms,email,http',
    BATON_PUBLIC_URL: 'https://baton.example.com',
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Baton <baton@example.com>',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: SENDER,
    TWILIO_API_URL: twilio.url,
    ADMIN_PHONE,
    ADMIN_EMAIL: 'ops@example.com',
  };
}

/** Reads an instance, its history and the open incidents as an operator (demo, an admin). */
export function operatorView(t: () => TestBaton) {
  return {
    instance: async (id: string) => (await t().as(DEMO).get(`/api/instances/${id}`).expect(200)).body,
    history: async (id: string): Promise<HistoryEvent[]> => (await t().as(DEMO).get(`/api/instances/${id}/history`).expect(200)).body,
    incidents: async (query: string) => (await t().as(DEMO).get(`/api/incidents?${query}`).expect(200)).body,
  };
}

/** A port of 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

