// `npm run hash-secret`: reads a password or token from standard input and prints its scrypt hash
// for BATON_USERS_FILE. Reading stdin keeps the secret out of the shell history and process list.
import { hashSecret } from './secrets.ts';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
if (!secret) {
  process.stderr.write('usage: printf %s "the secret" | npm run -s hash-secret\n');
  process.exit(2);
}
process.stdout.write(`${await hashSecret(secret)}\n`);
