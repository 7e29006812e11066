/**
 * A real SMTP server on loopback (smtp-server) that keeps what it receives, parsed by mailparser:
 * the e-mail connector's tests read what a mail client would get.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message as it arrived. */
export interface ReceivedMail {
  /** the SMTP envelope: who the server was asked to deliver to */
  envelopeTo: string[];
  from: string;
  to: string[];
  subject: string;
  text: string;
  messageId: string;
  headers: Map<string, unknown>;
}

export interface SmtpSink {
  /** smtp://user:password@127.0.0.1:port, ready for SMTP_URL */
  url: string;
  port: number;
  mails: ReceivedMail[];
  /** how many sign-ins were refused */
  refusedLogins: number;
  close(): Promise<void>;
}

const addresses = (value: unknown): string[] => {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((entry: { value?: { address?: string }[] }) => (entry.value ?? []).map((item) => item.address ?? ''));
};

/** Starts an SMTP server on 127.0.0.1 that asks for the given credentials (AUTH PLAIN/LOGIN, no TLS). */
export async function startSmtpServer(credentials = { user: 'baton', password: 'smtp-secret' }, port = 0): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const sink = { refusedLogins: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.password) return callback(null, { user: auth.username });
      sink.refusedLogins++;
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          mails.push({
            envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            from: addresses(parsed.from)[0] ?? '',
            to: addresses(parsed.to),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            messageId: parsed.messageId ?? '',
            headers: parsed.headers,
          });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${bound}`,
    port: bound,
    mails,
    get refusedLogins() {
      return sink.refusedLogins;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
