/**
 * The salary workload as Baton's users would drive it: a client starts instances (at most
 * `concurrency` unfinished at a time), workers fetch-and-lock the three service topics and
 * complete them at once, a manager lists the approval tasks and approves them. The same shape
 * runs in process (W2) and over HTTP (W1, where the workers are separate processes).
 */
import { Latencies } from './stats.ts';

export const SALARY_TOPICS = ['accounting.salary-base', 'bonus.calculate', 'accounting.payroll'] as const;
export const FINAL_TOPIC = 'accounting.payroll';

/** What each topic's worker answers. */
export const ANSWERS: Record<string, Record<string, unknown>> = {
  'accounting.salary-base': { salaryBase: 5000 },
  'bonus.calculate': { bonus: 500 },
  'accounting.payroll': { payrollId: 'P-1' },
};

/** A locked external task as the pipeline needs it. */
export interface Locked {
  id: string;
  topicName: string;
  instanceId: string;
}

/** The calls a pipeline makes; in process or over HTTP. */
export interface Driver {
  start(employeeId: string): Promise<string>;
  listTasks(limit: number): Promise<{ id: string; instanceId: string }[]>;
  completeTask(taskId: string): Promise<void>;
}

/** Counts instances in flight and lets starters wait for a free slot. */
export class Slots {
  private free: number;
  private waiting: (() => void)[] = [];
  completed = 0;
  constructor(size: number) {
    this.free = size;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  /** an instance finished: its slot is free */
  release(): void {
    this.completed++;
    this.giveBack();
  }
  /** a slot taken but not used */
  giveBack(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `total` instances through the driver with at most `slots` unfinished, and approves each
 * approval task as soon as the manager's list shows it. Workers run elsewhere; `finished` is
 * called by whoever completes an instance's last job. Resolves when every start returned and
 * the approver saw `total` tasks.
 */
export async function drive(input: {
  driver: Driver;
  total: number;
  slots: Slots;
  starters: number;
  latencies: Latencies;
  prefix: string;
}): Promise<void> {
  const { driver, total, slots, starters, latencies, prefix } = input;
  let started = 0;
  let approved = 0;
  const startLoop = async (): Promise<void> => {
    while (started < total) {
      await slots.take();
      if (started >= total) return slots.giveBack();
      const n = started++;
      await latencies.time('start instance', () => driver.start(`${prefix}-${n}`));
    }
  };
  const seen = new Set<string>();
  const approveLoop = async (): Promise<void> => {
    while (approved < total) {
      const page = await latencies.time('task list (50)', () => driver.listTasks(50));
      const fresh = page.filter((task) => !seen.has(task.id));
      if (!fresh.length) {
        await pause(5);
        continue;
      }
      for (const task of fresh) seen.add(task.id);
      await Promise.all(
        fresh.map(async (task) => {
          await latencies.time('task complete', () => driver.completeTask(task.id));
          approved++;
        }),
      );
    }
  };
  await Promise.all([...Array.from({ length: starters }, startLoop), approveLoop()]);
}
