import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { DeploymentService } from '../deployments/service.ts';
import { createAccountingSystem } from './accounting-system.ts';
import { createBonusSystem } from './bonus-system.ts';
import { startDemoWorkers } from './workers.ts';

const SALARY_BPMN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../processes/salary/salary.bpmn');

/** Deploys the salary process (a new version only when the file changed). */
export async function deploySalary(deployments: DeploymentService): Promise<void> {
  await deployments.deploy([{ name: 'salary.bpmn', xml: fs.readFileSync(SALARY_BPMN, 'utf8') }], 'salary demo', 'demo');
}

/** Starts the demo accounting and bonus systems and the workers that connect them to Baton with an API token. */
export async function startDemoSystems(
  batonUrl: string,
  log: Logger,
  credentials: { user: string; token: string },
): Promise<{ stop(): Promise<void> }> {
  const accounting = createAccountingSystem();
  const bonus = createBonusSystem();
  const accountingUrl = await accounting.listen();
  const bonusUrl = await bonus.listen();
  log.info({ accountingUrl, bonusUrl }, 'demo systems listening');
  const workers = startDemoWorkers({ batonUrl, ...credentials, accountingUrl, bonusUrl, log: log.child({ component: 'demo-workers' }) });
  return {
    async stop() {
      await workers.stop();
      await Promise.all([accounting.close(), bonus.close()]);
    },
  };
}
