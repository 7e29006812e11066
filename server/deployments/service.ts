import { randomUUID } from 'node:crypto';
import { hashXml, isRunnable, readModel } from '../engine/definitions.ts';
import { fileReport, type FileReport } from '../engine/import/report.ts';
import { readForDeployment, viewOnlyReasons } from '../engine/import/view-only.ts';
import { NO_SCRIPTS, type ScriptLanguages } from '../engine/scripts.ts';
import { ConflictError, NotFoundError, ValidationError, type Problem } from '../errors.ts';
import type { Deployment, FormField, ProcessVersion, Store } from '../store/types.ts';

/** One uploaded file. */
export interface BpmnFile {
  name: string;
  xml: string;
}

export interface DeploymentResult {
  id: string;
  processes: { key: string; version: number; name: string }[];
  warnings: Problem[];
  /** per file: its processes, which of them Baton executes, and why not the others */
  files: FileReport[];
}

/** A process version as the API shows it, without the XML. */
export interface ProcessSummary {
  key: string;
  version: number;
  name: string;
  deploymentId: string;
  deployedAt: string;
  startForm: FormField[];
  /** Baton starts it; otherwise it is deployed for viewing and `notExecuted` says why */
  executable: boolean;
  notExecuted: Problem[];
}

export interface DeploymentService {
  /**
   * Deploys files: a new version for each changed process, nothing stored if any file is invalid.
   * With viewOnly every process is stored for viewing and only unreadable files are refused.
   */
  deploy(files: BpmnFile[], name: string, user: string, options?: { viewOnly?: boolean }): Promise<DeploymentResult>;
  /** Every process with its newest version. */
  listProcesses(): Promise<(ProcessSummary & { versions: number })[]>;
  /** Every version of one process, newest first. */
  versions(key: string): Promise<ProcessSummary[]>;
  /** The BPMN XML of a version (the newest when version is undefined). */
  xml(key: string, version?: number): Promise<string>;
}

export function createDeploymentService(store: Store, clock: () => Date, scripts: ScriptLanguages = NO_SCRIPTS): DeploymentService {
  // a version's summary never changes: kept small and bounded, so listing many versions parses each once
  const summaries = new Map<string, Promise<ProcessSummary>>();
  const summary = (version: ProcessVersion): Promise<ProcessSummary> => {
    const id = `${version.key}@${version.version}`;
    let found = summaries.get(id);
    if (!found) {
      found = summarize(version);
      found.catch(() => summaries.delete(id));
      if (summaries.size >= 10_000) summaries.delete(summaries.keys().next().value as string);
      summaries.set(id, found);
    }
    return found;
  };
  const summarize = async (version: ProcessVersion): Promise<ProcessSummary> => {
    const model = await readModel(version.xml, version.key);
    const notExecuted = version.viewOnly ? await viewOnlyReasons(version.xml, version.key, scripts) : model.notExecuted;
    return {
      key: version.key,
      version: version.version,
      name: version.name,
      deploymentId: version.deploymentId,
      deployedAt: version.deployedAt,
      startForm: model.startForm,
      executable: !version.viewOnly && isRunnable(model),
      notExecuted,
    };
  };

  /** Numbers the changed processes after the newest stored versions and saves them. */
  const save = async (found: { key: string; name: string; xml: string; viewOnly: boolean }[], name: string, user: string, warnings: Problem[], files: FileReport[]): Promise<DeploymentResult> => {
    const now = clock().toISOString();
    const deployment: Deployment = { id: randomUUID(), name, deployedAt: now, deployedBy: user, processes: [] };
    const created: ProcessVersion[] = [];
    for (const process of found) {
      const hash = hashXml(process.xml);
      const latest = await store.latestVersion(process.key);
      if (latest && latest.hash === hash && Boolean(latest.viewOnly) === process.viewOnly) {
        deployment.processes.push({ key: process.key, version: latest.version, name: latest.name });
        continue;
      }
      const version: ProcessVersion = {
        key: process.key,
        version: (latest?.version ?? 0) + 1,
        name: process.name,
        hash,
        deploymentId: deployment.id,
        deployedAt: now,
        xml: process.xml,
        ...(process.viewOnly ? { viewOnly: true } : {}),
      };
      created.push(version);
      deployment.processes.push({ key: version.key, version: version.version, name: version.name });
    }
    await store.saveDeployment(deployment, created);
    return { id: deployment.id, processes: deployment.processes, warnings, files };
  };

  return {
    async deploy(files, name, user, { viewOnly = false } = {}) {
      if (!files.length) throw new ValidationError('no BPMN file was sent', [{ path: 'files', message: 'send at least one .bpmn file' }]);
      const problems: Problem[] = [];
      const warnings: Problem[] = [];
      const found: { key: string; name: string; xml: string; viewOnly: boolean }[] = [];
      const reports: FileReport[] = [];
      for (const file of files) {
        const parsed = await readForDeployment(file.xml, scripts, viewOnly);
        const prefix = (problem: Problem): Problem => ({ ...problem, message: `${file.name}: ${problem.message}` });
        problems.push(...parsed.problems.map(prefix));
        warnings.push(...parsed.warnings.map(prefix));
        reports.push(fileReport(file.name, parsed));
        // every process is stored: the ones Baton does not execute for viewing
        for (const process of parsed.processes) {
          if (found.some((other) => other.key === process.key)) {
            problems.push({ path: process.key, message: `${file.name}: process <${process.key}> is in more than one file` });
          }
          found.push({ key: process.key, name: process.name, xml: file.xml, viewOnly });
        }
      }
      if (problems.length) throw new ValidationError(`the deployment has ${problems.length} problem(s); nothing was deployed`, problems);

      for (let attempt = 1; ; attempt++) {
        try {
          return await save(found, name, user, warnings, reports);
        } catch (err) {
          // another deployment took the next version number meanwhile: number again
          if (!(err instanceof ConflictError) || attempt >= 5) throw err;
        }
      }
    },

    async listProcesses() {
      const all = await store.listVersions();
      const result: (ProcessSummary & { versions: number })[] = [];
      for (const version of all) {
        const known = result.find((entry) => entry.key === version.key);
        if (known) known.versions++;
        else result.push({ ...(await summary(version)), versions: 1 });
      }
      return result;
    },

    async versions(key) {
      const all = await store.listVersions(key);
      if (!all.length) throw new NotFoundError('process', key);
      // one at a time: parsing hundreds of versions at once held them all in memory together
      const result: ProcessSummary[] = [];
      for (const version of all) result.push(await summary(version));
      return result;
    },

    async xml(key, version) {
      const found = version === undefined ? await store.latestVersion(key) : await store.getVersion(key, version);
      if (!found) throw new NotFoundError('process', version === undefined ? key : `${key}@${version}`);
      return found.xml;
    },
  };
}
