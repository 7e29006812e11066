/**
 * Reads Camunda's `deployment/create` multipart body: text fields (deployment-name,
 * deployment-source, deploy-changed-only, enable-duplicate-filtering, tenant-id, ...) and every
 * part with a filename as a resource, whatever its field name (Camunda Modeler names the part
 * after the file).
 */
import busboy from 'busboy';
import type { Context } from 'koa';
import { PayloadTooLargeError, ValidationError } from '../errors.ts';

/** One uploaded resource: its file name and content. */
export interface Resource {
  name: string;
  content: string;
}

/** What a deployment/create request carried. */
export interface DeploymentUpload {
  fields: Record<string, string>;
  resources: Resource[];
}

const MAX_PARTS = 50;

/** Parses the request body; 400 for a malformed body, 413 beyond `limit` bytes in total. */
export function readDeploymentUpload(ctx: Context, limit: number): Promise<DeploymentUpload> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const resources: Resource[] = [];
    let received = 0;
    let settled = false;
    let parser: busboy.Busboy;

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      ctx.req.unpipe(parser);
      ctx.req.resume();
      reject(error);
    };

    try {
      parser = busboy({ headers: ctx.req.headers, limits: { fileSize: limit, files: MAX_PARTS, fields: MAX_PARTS, fieldSize: 64 * 1024 } });
    } catch (err) {
      reject(new ValidationError(`malformed multipart request: ${(err as Error).message}`));
      return;
    }

    parser.on('field', (name, value) => {
      received += value.length;
      if (received > limit) return fail(new PayloadTooLargeError(limit));
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limit) return fail(new PayloadTooLargeError(limit));
        chunks.push(chunk);
      });
      stream.on('limit', () => fail(new PayloadTooLargeError(limit)));
      stream.on('error', (err: Error) => fail(new ValidationError(`malformed multipart body: ${err.message}`)));
      stream.on('end', () => resources.push({ name: info.filename || field, content: Buffer.concat(chunks).toString('utf8') }));
    });
    parser.on('filesLimit', () => fail(new ValidationError(`at most ${MAX_PARTS} resources per deployment`)));
    parser.on('fieldsLimit', () => fail(new ValidationError(`at most ${MAX_PARTS} fields per deployment`)));
    parser.on('error', (err: Error) => fail(new ValidationError(`malformed multipart body: ${err.message}`)));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve({ fields, resources });
    });
    ctx.req.on('aborted', () => fail(new ValidationError('the upload was aborted')));
    ctx.req.pipe(parser);
  });
}
