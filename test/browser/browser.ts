/**
 * A real Chromium (Debian's /usr/bin/chromium, driven by playwright-core) for the web app's
 * tests, the web app built if it is missing or stale, and screenshots in test-output/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildWebApp, isStale } from '../../modeler/build.ts';

const ROOT = path.join(import.meta.dirname, '../..');
export const SCREENSHOTS = path.join(ROOT, 'test-output/screenshots');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds modeler/dist when a fresh clone has none or a source changed. */
export async function ensureWebAppBuilt(): Promise<void> {
  if (isStale()) await buildWebApp();
}

/** One browser profile (fresh user-data-dir) at a window size; close() removes the profile. */
export interface Browser {
  context: BrowserContext;
  page: Page;
  /** messages the browser logged as errors, CSP violations among them */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in on /login as a person does: the fields labelled User and Password. */
export async function signIn(page: Page, baseUrl: string, user: string, password: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The locator of a diagram element's graphics by BPMN id (bpmn-js puts marker classes on it). */
export function diagramElement(page: Page, id: string) {
  return page.locator(`.diagram g.djs-element[data-element-id="${id}"]`);
}
