import Router from '@koa/router';
import { UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { allow, currentUser, requireRole } from '../http/auth.ts';
import { readDeploymentUpload } from '../http/multipart.ts';
import { checkXmlShape } from '../http/xml-limits.ts';
import type { BpmnFile, DeploymentService } from './service.ts';

/** What one upload to /api/deployments may hold (besides the body limit). */
const UPLOAD = { files: 20, fields: 20, fieldSize: 4096, filesNoun: 'files' };

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
      const { fields, resources } = await readDeploymentUpload(ctx, { ...UPLOAD, bytes: bodyLimit });
      files = resources.map((resource) => ({ name: resource.name, xml: resource.content }));
      name = fields['deployment-name'] ?? fields.name;
      viewOnly = fields['view-only'] ?? viewOnly;
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
