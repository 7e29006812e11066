/**
 * A local HTTP endpoint that speaks Twilio's Messages API as far as Baton uses it: it checks the
 * request a real Twilio would get (POST /2010-04-01/Accounts/<sid>/Messages.json, Basic auth
 * with the account SID and auth token, a form body with To, From and Body) and answers as Twilio
 * does: 201 with a message resource, or an error body {code, message, more_info, status}.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message the endpoint accepted. */
export interface SentSms {
  sid: string;
  to: string;
  from: string;
  body: string;
  /** the I-Twilio-Idempotency-Token header Baton sent */
  idempotencyToken: string | undefined;
}

export interface TwilioEndpoint {
  /** for TWILIO_API_URL */
  url: string;
  accountSid: string;
  authToken: string;
  /** accepted messages, in order */
  messages: SentSms[];
  /** every request, accepted or not */
  requests: number;
  /** answers the next `count` requests with this status (Twilio's 5xx body) */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;

function twilioError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Starts the endpoint on 127.0.0.1 for one account. */
export async function startTwilioEndpoint(
  account = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') },
): Promise<TwilioEndpoint> {
  const messages: SentSms[] = [];
  const state = { requests: 0, failing: 0, failStatus: 503 };
  const server = createServer((req, res) => {
    state.requests++;
    void (async () => {
      const path = `/2010-04-01/Accounts/${account.accountSid}/Messages.json`;
      if (req.method !== 'POST' || req.url !== path) return twilioError(res, 404, 20404, `The requested resource ${req.url} was not found`);
      const expected = `Basic ${Buffer.from(`${account.accountSid}:${account.authToken}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return twilioError(res, 401, 20003, 'Authenticate');
      if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return twilioError(res, 400, 20001, 'Unsupported content type');
      if (state.failing > 0) {
        state.failing--;
        return twilioError(res, state.failStatus, 20500, 'Internal Server Error');
      }
      const form = await readForm(req);
      const to = form.get('To');
      const from = form.get('From') ?? form.get('MessagingServiceSid');
      const body = form.get('Body');
      if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
      if (!from) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
      if (!body) return twilioError(res, 400, 21602, 'Message body is required.');
      if (!E164.test(to)) return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const token = req.headers['i-twilio-idempotency-token'];
      messages.push({ sid, to, from, body, idempotencyToken: typeof token === 'string' ? token : undefined });
      const now = new Date().toUTCString();
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          account_sid: account.accountSid,
          api_version: '2010-04-01',
          body,
          date_created: now,
          date_sent: null,
          date_updated: now,
          direction: 'outbound-api',
          error_code: null,
          error_message: null,
          from,
          messaging_service_sid: null,
          num_media: '0',
          num_segments: '1',
          price: null,
          price_unit: 'USD',
          sid,
          status: 'queued',
          subresource_uris: { media: `/2010-04-01/Accounts/${account.accountSid}/Messages/${sid}/Media.json` },
          to,
          uri: `/2010-04-01/Accounts/${account.accountSid}/Messages/${sid}.json`,
        }),
      );
    })().catch(() => twilioError(res, 500, 20500, 'Internal Server Error'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...account,
    messages,
    get requests() {
      return state.requests;
    },
    failNext(count, status = 503) {
      state.failing = count;
      state.failStatus = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
