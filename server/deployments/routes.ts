import Router from '@koa/router';
import busboy from 'busboy';
import type { Context } from 'koa';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { allow, currentUser, requireRole } from '../http/auth.ts';
import { checkXmlShape } from '../http/xml-limits.ts';
import type { BpmnFile, DeploymentService } from './service.ts';

const MAX_FILES = 20;

/** Reads a multipart upload as modelers send it: the .bpmn files, a deployment name, view-only. */
function readMultipart(ctx: Context, limit: number): Promise<{ files: BpmnFile[]; name?: string; viewOnly?: string }> {
  return new Promise((resolve, reject) => {
    const files: BpmnFile[] = [];
    const fields: Record<string, string> = {};
    let total = 0;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      ctx.req.unpipe(parser);
      ctx.req.resume();
      reject(err);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { fileSize: limit, files: MAX_FILES, fields: 20, fieldSize: 4096 } });
    } catch (err) {
      reject(new ValidationError(`malformed multipart request: ${(err as Error).message}`));
      return;
    }
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > limit) return fail(new PayloadTooLargeError(limit));
        chunks.push(chunk);
      });
      stream.on('limit', () => fail(new PayloadTooLargeError(limit)));
      stream.on('error', (err: Error) => fail(new ValidationError(`malformed multipart body: ${err.message}`)));
      stream.on('end', () => files.push({ name: info.filename || field, xml: Buffer.concat(chunks).toString('utf8') }));
    });
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('filesLimit', () => fail(new ValidationError(`at most ${MAX_FILES} files per deployment`)));
    parser.on('error', (err: Error) => fail(new ValidationError(`malformed multipart body: ${err.message}`)));
    parser.on('close', () => failed || resolve({ files, name: fields['deployment-name'] ?? fields.name, viewOnly: fields['view-only'] }));
    ctx.req.on('aborted', () => fail(new ValidationError('the upload was aborted')));
    ctx.req.pipe(parser);
  });
}

/** POST /api/deployments and the process read endpoints. */
export function deploymentRoutes(service: DeploymentService, bodyLimit: number): Router {
  const router = new Router();

  router.post('/api/deployments', async (ctx) => {
    const user = currentUser(ctx);
    requireRole(user, 'admin');
    let files: BpmnFile[];
    let name: string | undefined;
    let viewOnly = ctx.query.viewOnly;
    if (ctx.is('multipart/form-data')) {
      const upload = await readMultipart(ctx, bodyLimit);
      ({ files, name } = upload);
      viewOnly = upload.viewOnly ?? viewOnly;
    }
    else if (ctx.is('xml', 'application/xml', 'text/xml', 'application/bpmn+xml')) {
      const xml = (ctx.request as unknown as { body?: unknown }).body;
      files = typeof xml === 'string' && xml.trim() ? [{ name: String(ctx.query.name ?? 'process.bpmn'), xml }] : [];
      name = typeof ctx.query.name === 'string' ? ctx.query.name : undefined;
    } else throw new UnsupportedMediaTypeError('send multipart/form-data with .bpmn files, or the BPMN XML as application/xml');
    if (viewOnly !== undefined && viewOnly !== 'true' && viewOnly !== 'false') {
      throw new ValidationError('view-only must be true or false', [{ path: 'viewOnly', message: 'must be true or false' }]);
    }
    checkXmlShape(files);
    const result = await service.deploy(files, name ?? files.map((file) => file.name).join(', '), user.name, { viewOnly: viewOnly === 'true' });
    ctx.status = 201;
    ctx.body = result;
  });

  router.use('/api/processes', allow('admin', 'operator', 'user'));

  router.get('/api/processes', async (ctx) => {
    ctx.body = await service.listProcesses();
  });

  router.get('/api/processes/:key', async (ctx) => {
    ctx.body = { key: ctx.params.key, versions: await service.versions(ctx.params.key as string) };
  });

  router.get('/api/processes/:key/xml', async (ctx) => {
    const raw = ctx.query.version;
    let version: number | undefined;
    if (raw !== undefined) {
      version = Number(raw);
      if (typeof raw !== 'string' || !Number.isInteger(version) || version < 1) throw new ValidationError('version must be a positive integer');
    }
    ctx.type = 'application/xml';
    ctx.body = await service.xml(ctx.params.key as string, version);
  });

  return router;
}
