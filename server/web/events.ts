import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { User } from '../auth/users.ts';
import { NotFoundError, TooManyRequestsError } from '../errors.ts';
import { canSee } from '../instances/service.ts';
import type { InstanceRecord, Store } from '../store/types.ts';
import type { InstanceChanges } from './changes.ts';

const POLL_MS = 2_000;
const KEEPALIVE_MS = 15_000;
/** ids per revision query: one read for the streams of many instances */
const POLL_CHUNK = 500;

/**
 * Server-sent events for the instance pages: `change` with `{revision}` after every saved
 * transition, so a page reloads its instance. One watcher per instance serves all of its streams:
 * changes made in this process arrive at once through {@link InstanceChanges}; those of other
 * nodes within POLL_MS, from one query of the stored revisions of every watched instance (never
 * their records). Streams are capped per user and per node: beyond, 429.
 */
export interface EventStreams {
  /** Answers the request with the instance's stream, once the user may see it; 404 if not, 429 beyond the caps. */
  open(ctx: Context, instanceId: string, user: User): Promise<void>;
  /** streams open now, and instances watched for them */
  counts(): { streams: number; instances: number };
  /** ends every stream and stops polling (the server closes) */
  close(): void;
}

export interface EventStreamDeps {
  store: Store;
  changes: InstanceChanges;
  /** streams one user may hold open on this node */
  perUser: number;
  /** streams this node holds open */
  total: number;
}

interface Subscriber {
  user: string;
  revision: number;
  stream: PassThrough;
}

/** What decides who may see an instance, as of one revision */
type Visibility = Pick<InstanceRecord, 'revision' | 'startedBy' | 'userTasks'>;

interface Watch {
  revision: number;
  subscribers: Set<Subscriber>;
  unsubscribe: () => void;
  /** read when the watch began or a stream opened at a newer revision: streams opened meanwhile need no read */
  visibility: Visibility;
}

const write = (subscriber: Subscriber, revision: number): void => {
  if (revision <= subscriber.revision) return;
  subscriber.revision = revision;
  subscriber.stream.write(`event: change\ndata: ${JSON.stringify({ revision })}\n\n`);
};


/** Creates the node's event streams: the shared watchers, the caps and the one poll loop. */
export function createEventStreams({ store, changes, perUser, total }: EventStreamDeps): EventStreams {
  const watches = new Map<string, Watch>();
  const byUser = new Map<string, number>();
  let open = 0;
  let timer: NodeJS.Timeout | null = null;
  let polling = false;
  let lastPing = Date.now();

  const deliver = (instanceId: string, revision: number): void => {
    const watch = watches.get(instanceId);
    if (!watch || revision <= watch.revision) return;
    watch.revision = revision;
    for (const subscriber of watch.subscribers) write(subscriber, revision);
  };

  /** one tick: the revisions of every watched instance, read in a few queries; a keep-alive now and then */
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const ids = [...watches.keys()];
      for (let at = 0; at < ids.length; at += POLL_CHUNK) {
        const revisions = await store.instanceRevisions(ids.slice(at, at + POLL_CHUNK));
        for (const [id, revision] of revisions) deliver(id, revision);
      }
    } catch {
      // the store is unreachable for a moment: the next tick asks again
    } finally {
      polling = false;
    }
    if (Date.now() - lastPing >= KEEPALIVE_MS) {
      lastPing = Date.now();
      for (const watch of watches.values()) for (const subscriber of watch.subscribers) subscriber.stream.write(': keep-alive\n\n');
    }
  };

  /** who may see the instance: from its watch when that knows the current revision, else read once */
  const visibilityOf = async (instanceId: string): Promise<Visibility | null> => {
    const watch = watches.get(instanceId);
    if (watch && watch.visibility.revision >= watch.revision) return watch.visibility;
    const record = await store.getInstance(instanceId);
    if (!record) return null;
    const visibility = { revision: record.revision, startedBy: record.startedBy, userTasks: record.userTasks };
    const current = watches.get(instanceId);
    if (current && visibility.revision >= current.visibility.revision) current.visibility = visibility;
    return visibility;
  };

  const subscribe = (instanceId: string, subscriber: Subscriber, visibility: Visibility): (() => void) => {
    let watch = watches.get(instanceId);
    if (!watch) {
      watch = {
        revision: subscriber.revision,
        subscribers: new Set(),
        unsubscribe: changes.subscribe(instanceId, (revision) => deliver(instanceId, revision)),
        visibility,
      };
      watches.set(instanceId, watch);
    }
    watch.subscribers.add(subscriber);
    write(subscriber, watch.revision);
    if (!timer) {
      timer = setInterval(() => void poll(), POLL_MS);
      timer.unref();
    }
    const joined = watch;
    return () => {
      joined.subscribers.delete(subscriber);
      if (joined.subscribers.size) return;
      joined.unsubscribe();
      watches.delete(instanceId);
      if (!watches.size && timer) {
        clearInterval(timer);
        timer = null;
      }
    };
  };

  /** takes a slot for the user's stream, or refuses with 429 */
  const reserve = (user: string): (() => void) => {
    const mine = byUser.get(user) ?? 0;
    if (mine >= perUser) throw new TooManyRequestsError(`${user} has ${mine} live-update streams open, the most one user may (BATON_EVENT_STREAMS_PER_USER)`, 5);
    if (open >= total) throw new TooManyRequestsError(`this server has ${open} live-update streams open, the most it holds (BATON_EVENT_STREAMS_MAX)`, 5);
    byUser.set(user, mine + 1);
    open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open--;
      const left = (byUser.get(user) ?? 1) - 1;
      if (left > 0) byUser.set(user, left);
      else byUser.delete(user);
    };
  };

  return {
    async open(ctx, instanceId, user) {
      const release = reserve(user.name);
      let visibility: Visibility | null;
      try {
        visibility = await visibilityOf(instanceId);
      } catch (err) {
        release();
        throw err;
      }
      // 404 as GET /api/instances/<id> answers an instance the user may not see
      if (!visibility || !canSee(user, visibility)) {
        release();
        throw new NotFoundError('instance', instanceId);
      }
      const revision = visibility.revision;
      const subscriber: Subscriber = { user: user.name, revision, stream: new PassThrough() };
      subscriber.stream.write(`retry: ${POLL_MS}\nevent: ready\ndata: ${JSON.stringify({ revision })}\n\n`);
      const unsubscribe = subscribe(instanceId, subscriber, visibility);
      let stopped = false;
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        unsubscribe();
        release();
        subscriber.stream.end();
      };
      ctx.req.on('close', stop);
      subscriber.stream.on('close', stop);
      ctx.req.socket.setTimeout(0);
      ctx.status = 200;
      ctx.type = 'text/event-stream';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('X-Accel-Buffering', 'no');
      ctx.body = subscriber.stream;
    },

    counts: () => ({ streams: open, instances: watches.size }),

    close() {
      for (const watch of [...watches.values()]) for (const subscriber of [...watch.subscribers]) subscriber.stream.end();
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
