/**
 * What Camunda Modeler talks to: GET /version and /deployment (its connection check) and
 * POST /deployment/create (its "Deploy" button), all over Baton's deployment service.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError, type Problem } from '../errors.ts';
import { currentUser } from '../http/auth.ts';
import { checkXmlShape } from '../http/xml-limits.ts';
import type { ProcessVersion } from '../store/types.ts';
import { definitionDto, definitionId, deploymentDto } from './definitions.ts';
import { CamundaError, reworded } from './errors.ts';
import { param, send, serverUrl, slice, window } from './http.ts';
import { readDeploymentUpload, type Resource } from '../http/multipart.ts';
import type { Wiring } from './routes.ts';
import { may } from '../auth/permissions.ts';

/** The Camunda 7 REST API level Baton answers as, reported by GET /version. */
export const CAMUNDA_API_VERSION = '7.22.0';

/** Resources Camunda parses as BPMN; other resources (forms, DMN, scripts) Baton does not store. */
const BPMN_RESOURCE = /\.bpmn(20\.xml)?$/i;

/** Camunda's parse failure, which Camunda Modeler recognises by its ENGINE-09005 prefix. */
function parseException(problems: Problem[], resources: Resource[]): CamundaError {
  const lines = problems.map((p) => `* ${p.message}${p.path ? ` | element ${p.path}` : ''}`);
  const details: Record<string, { errors: { message: string; mainElementId: string | null; elementIds: string[] }[]; warnings: [] }> = {};
  for (const resource of resources) {
    const prefix = `${resource.name}: `;
    details[resource.name] = {
      errors: problems
        .filter((p) => p.message.startsWith(prefix))
        .map((p) => ({ message: p.message.slice(prefix.length), mainElementId: p.path ?? null, elementIds: p.path ? [p.path] : [] })),
      warnings: [],
    };
  }
  return new CamundaError(400, 'ParseException', `ENGINE-09005 Could not parse BPMN process. Errors: \n${lines.join('\n')}`, { details });
}

/** Every deployment that created process versions, oldest first (the list Camunda keeps). */
function deploymentsOf(versions: ProcessVersion[]): { id: string; deployedAt: string }[] {
  const seen = new Map<string, string>();
  for (const version of versions) if (!seen.has(version.deploymentId)) seen.set(version.deploymentId, version.deployedAt);
  return [...seen].map(([id, deployedAt]) => ({ id, deployedAt })).sort((a, b) => a.deployedAt.localeCompare(b.deployedAt) || a.id.localeCompare(b.id));
}

/** Registers /version, /engine, /deployment, /deployment/count, /deployment/:id and /deployment/create. */
export function deploymentEndpoints(router: Router, { deployments, store, bodyLimitBytes }: Wiring): void {
  router.get('/version', (ctx) => send(ctx, { version: CAMUNDA_API_VERSION }));
  router.get('/engine', (ctx) => send(ctx, [{ name: 'default' }]));

  const listDeployments = async (ctx: Context) => {
    const id = param(ctx, 'id');
    const after = param(ctx, 'after');
    const before = param(ctx, 'before');
    const all = deploymentsOf(await store.listVersions());
    return all.filter(
      (d) =>
        (!id || d.id === id) &&
        (!after || Date.parse(d.deployedAt) > Date.parse(after)) &&
        (!before || Date.parse(d.deployedAt) < Date.parse(before)),
    );
  };

  router.get('/deployment', async (ctx) => {
    const found = slice(await listDeployments(ctx), window(ctx));
    send(ctx, found.map((d) => deploymentDto(d.id, null, d.deployedAt, serverUrl(ctx))));
  });

  router.get('/deployment/count', async (ctx) => send(ctx, { count: (await listDeployments(ctx)).length }));

  router.post('/deployment/create', async (ctx) => {
    const user = currentUser(ctx);
    if (!may(user, 'deploy')) {
      throw new CamundaError(403, 'AuthorizationException', `The user with id '${user.name}' does not have 'CREATE' permission on resource 'Deployment'.`, {
        userId: user.name,
      });
    }
    if (!ctx.is('multipart/form-data')) throw new CamundaError(415, 'InvalidRequestException', 'deployment/create takes multipart/form-data');
    const { fields, resources } = await readDeploymentUpload(ctx, { bytes: bodyLimitBytes, files: 50, fields: 50, fieldSize: 64 * 1024, filesNoun: 'resources' });
    if (fields['tenant-id']) throw new ValidationError(`Baton has no tenants; deploy without tenant-id (got '${fields['tenant-id']}')`);
    const bpmn = resources.filter((resource) => BPMN_RESOURCE.test(resource.name));
    if (!bpmn.length) throw new ValidationError('No BPMN resource (.bpmn or .bpmn20.xml) in the deployment');
    const name = fields['deployment-name'] || null;
    checkXmlShape(bpmn.map((r) => ({ name: r.name, xml: r.content })));

    const result = await reworded(
      deployments.deploy(bpmn.map((r) => ({ name: r.name, xml: r.content })), name ?? bpmn.map((r) => r.name).join(', '), user.name),
      (error) => (error instanceof ValidationError && error.problems.length ? parseException(error.problems, bpmn) : undefined),
    );

    const created: ProcessVersion[] = [];
    let unchanged: ProcessVersion | null = null;
    for (const process of result.processes) {
      const version = await store.getVersion(process.key, process.version);
      if (version?.deploymentId === result.id) created.push(version);
      else unchanged ??= version;
    }
    // nothing changed: like Camunda's duplicate filtering, answer with the deployment that has it all
    const shown = created[0] ?? unchanged;
    const definitions = Object.fromEntries(
      created.map((version) => [definitionId(version), definitionDto(version, bpmn.find((r) => r.content === version.xml)?.name ?? null)]),
    );
    send(ctx, {
      ...deploymentDto(shown?.deploymentId ?? result.id, name, shown?.deployedAt ?? new Date().toISOString(), serverUrl(ctx)),
      source: fields['deployment-source'] ?? null,
      deployedProcessDefinitions: created.length ? definitions : null,
      deployedCaseDefinitions: null,
      deployedDecisionDefinitions: null,
      deployedDecisionRequirementsDefinitions: null,
    });
  });

  router.get('/deployment/:id', async (ctx) => {
    const found = deploymentsOf(await store.listVersions()).find((d) => d.id === ctx.params.id);
    if (!found) throw new CamundaError(404, 'InvalidRequestException', `Deployment with id '${ctx.params.id}' does not exist`);
    send(ctx, deploymentDto(found.id, null, found.deployedAt, serverUrl(ctx)));
  });
}
