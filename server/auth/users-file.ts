import fs from 'node:fs';
import type { Logger } from 'pino';
import { loadUsersFile, type StoredUser } from './users.ts';

/** How often the users file's modification time is looked at. */
const POLL_MS = 2000;

/** The users Baton runs with: those of the users file (if any), then the demo users it does not name. */
export function mergeUsers(fileUsers: readonly StoredUser[], demo: readonly StoredUser[]): StoredUser[] {
  return [...fileUsers, ...demo.filter((user) => !fileUsers.some((named) => named.name === user.name))];
}

/**
 * Reads the users file again on SIGHUP and whenever it changes (its modification time, polled,
 * so an editor's write-and-rename counts too), and hands the users to `apply`. A file that
 * cannot be read or is wrong is logged and changes nothing: the users stay as they were.
 */
export function watchUsersFile(
  file: string,
  { demo, apply, log }: { demo: readonly StoredUser[]; apply: (users: StoredUser[]) => Promise<string[]>; log: Logger },
): { stop(): void } {
  let reading = Promise.resolve();
  const reload = (why: string): void => {
    reading = reading.then(async () => {
      try {
        const users = mergeUsers(loadUsersFile(file), demo);
        const ended = await apply(users);
        log.info({ why, users: users.length, sessionsEnded: ended }, 'users file read again');
      } catch (err) {
        log.error({ why, err: (err as Error).message }, 'users file not read again; the users stay as they were');
      }
    });
  };
  const onHangup = (): void => reload('SIGHUP');
  const onChange = (current: fs.Stats, previous: fs.Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) reload('changed');
  };
  process.on('SIGHUP', onHangup);
  fs.watchFile(file, { interval: POLL_MS, persistent: false }, onChange);
  return {
    stop() {
      process.off('SIGHUP', onHangup);
      fs.unwatchFile(file, onChange);
    },
  };
}
