/**
 * Reads a multipart deployment upload — `POST /api/deployments` and Camunda's
 * `deployment/create`: text fields (deployment-name, view-only, deployment-source, ...) and every
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

/** What an upload carried. */
export interface DeploymentUpload {
  fields: Record<string, string>;
  resources: Resource[];
}

/** How much an upload may hold: bytes in all, files, fields, bytes per field; `files` names the files in messages. */
export interface UploadLimits {
  bytes: number;
  files: number;
  fields: number;
  fieldSize: number;
  filesNoun: string;
}

/** Parses the request body; 400 for a malformed body or too many parts, 413 beyond `limits.bytes` in total. */
export function readDeploymentUpload(ctx: Context, limits: UploadLimits): Promise<DeploymentUpload> {
  const limit = limits.bytes;
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
      parser = busboy({ headers: ctx.req.headers, limits: { fileSize: limit, files: limits.files, fields: limits.fields, fieldSize: limits.fieldSize } });
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
    parser.on('filesLimit', () => fail(new ValidationError(`at most ${limits.files} ${limits.filesNoun} per deployment`)));
    parser.on('fieldsLimit', () => fail(new ValidationError(`at most ${limits.fields} fields per deployment`)));
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
