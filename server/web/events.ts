import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { NotFoundError } from '../errors.ts';
import type { Store } from '../store/types.ts';
import type { InstanceChanges } from './changes.ts';

const POLL_MS = 2_000;
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events for one instance: `change` with `{revision}` after every saved transition,
 * so the page reloads the instance. Changes made in this process arrive at once; those of other
 * nodes within POLL_MS, by polling the stored revision. The caller has checked that the user may
 * see the instance.
 */
export async function streamInstanceChanges(ctx: Context, instanceId: string, store: Store, changes: InstanceChanges): Promise<void> {
  const record = await store.getInstance(instanceId);
  if (!record) throw new NotFoundError('instance', instanceId);
  let revision = record.revision;
  const stream = new PassThrough();
  const send = (next: number): void => {
    if (next <= revision) return;
    revision = next;
    stream.write(`event: change\ndata: ${JSON.stringify({ revision })}\n\n`);
  };
  const unsubscribe = changes.subscribe(instanceId, send);
  let lastWrite = Date.now();
  const poll = setInterval(() => {
    store.getInstance(instanceId).then(
      (current) => current && send(current.revision),
      () => undefined,
    );
    if (Date.now() - lastWrite > KEEPALIVE_MS) {
      lastWrite = Date.now();
      stream.write(': keep-alive\n\n');
    }
  }, POLL_MS);
  poll.unref();
  const stop = (): void => {
    clearInterval(poll);
    unsubscribe();
    stream.end();
  };
  ctx.req.on('close', stop);
  ctx.req.socket.setTimeout(0);
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.body = stream;
  stream.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ revision })}\n\n`);
}
