/**
 * Camunda's process definition ids for Baton's process versions. Camunda names a definition
 * `key:version:uniqueId`; Baton uses the id of the deployment that created the version as the
 * unique part, so an id is stable, readable back, and points at one version.
 */
import type { InstanceRecord, ProcessVersion, Store } from '../store/types.ts';
import { camundaDate } from './variables.ts';

/** The Camunda definition id of a process version. */
export function definitionId(version: { key: string; version: number; deploymentId: string }): string {
  return `${version.key}:${version.version}:${version.deploymentId}`;
}

/** Key, version and deployment of a definition id; null when it is not one of Baton's. */
export function parseDefinitionId(id: string): { key: string; version: number; deploymentId: string } | null {
  const match = /^([^:]+):(\d+):(.+)$/.exec(id);
  if (!match) return null;
  return { key: match[1] as string, version: Number(match[2]), deploymentId: match[3] as string };
}

/** Camunda's ProcessDefinitionDto for a version. */
export function definitionDto(version: ProcessVersion, resource: string | null = null) {
  return {
    id: definitionId(version),
    key: version.key,
    category: /targetNamespace="([^"]*)"/.exec(version.xml)?.[1] ?? null,
    description: null,
    name: version.name || null,
    version: version.version,
    resource,
    deploymentId: version.deploymentId,
    diagram: null,
    suspended: false,
    tenantId: null,
    versionTag: null,
    historyTimeToLive: null,
    startableInTasklist: true,
  };
}

/** Camunda's DeploymentDto, derived from the versions a deployment created. */
export function deploymentDto(id: string, name: string | null, deployedAt: string, origin: string) {
  return {
    links: [{ method: 'GET', href: `${origin}/engine-rest/deployment/${id}`, rel: 'self' }],
    id,
    name,
    source: null,
    deploymentTime: camundaDate(deployedAt),
    tenantId: null,
  };
}

/** Finds versions by definition id and names the definition of instances; versions never change, so ids are cached. */
export interface DefinitionLookup {
  /** the version a definition id names; 404-style null when there is none */
  version(id: string): Promise<ProcessVersion | null>;
  /** the definition id of a process version */
  idOf(key: string, version: number): Promise<string | null>;
  /** the definition id an instance runs */
  ofInstance(record: Pick<InstanceRecord, 'processKey' | 'processVersion'>): Promise<string | null>;
  /** the definition id of the instance with this id (null when it is gone) */
  ofInstanceId(instanceId: string): Promise<string | null>;
}

/** Creates the lookup over the store. */
export function createDefinitionLookup(store: Store): DefinitionLookup {
  const ids = new Map<string, string>();
  const instanceVersions = new Map<string, { processKey: string; processVersion: number }>();

  const idOf = async (key: string, version: number): Promise<string | null> => {
    const cacheKey = `${key}:${version}`;
    const cached = ids.get(cacheKey);
    if (cached) return cached;
    const found = await store.getVersion(key, version);
    if (!found) return null;
    const id = definitionId(found);
    if (ids.size > 10_000) ids.clear();
    ids.set(cacheKey, id);
    return id;
  };

  return {
    async version(id) {
      const parsed = parseDefinitionId(id);
      if (!parsed) return null;
      const found = await store.getVersion(parsed.key, parsed.version);
      return found && found.deploymentId === parsed.deploymentId ? found : null;
    },
    idOf,
    ofInstance: (record) => idOf(record.processKey, record.processVersion),
    async ofInstanceId(instanceId) {
      let known = instanceVersions.get(instanceId);
      if (!known) {
        const record = await store.getInstance(instanceId);
        if (!record) return null;
        known = { processKey: record.processKey, processVersion: record.processVersion };
        if (instanceVersions.size > 10_000) instanceVersions.clear();
        instanceVersions.set(instanceId, known);
      }
      return idOf(known.processKey, known.processVersion);
    },
  };
}
