/**
 * Builds the web app into modeler/dist (gitignored) with esbuild: one script and one stylesheet
 * (bpmn-js, properties panel and app CSS bundled), fonts beside them, and index.html.
 *
 *   tsx modeler/build.ts             build
 *   tsx modeler/build.ts --if-stale  build only when a source is newer than the bundle
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = import.meta.dirname;
const OUT = path.join(ROOT, 'dist');
const STAMP = path.join(OUT, 'assets', 'app.js');

/** Newest modification time of the sources (modeler/src, index.html, this script, the lock file). */
function newestSource(): number {
  const times: number[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else times.push(fs.statSync(full).mtimeMs);
    }
  };
  walk(path.join(ROOT, 'src'));
  for (const file of [path.join(ROOT, 'index.html'), path.join(ROOT, 'build.ts'), path.join(ROOT, '../package-lock.json')]) {
    if (fs.existsSync(file)) times.push(fs.statSync(file).mtimeMs);
  }
  return Math.max(...times);
}

/** True when the bundle is missing or older than a source. */
export function isStale(): boolean {
  return !fs.existsSync(STAMP) || fs.statSync(STAMP).mtimeMs < newestSource();
}

/** Builds the bundle; returns how long it took in ms. */
export async function buildWebApp(): Promise<number> {
  const started = Date.now();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(path.join(OUT, 'assets'), { recursive: true });
  await build({
    entryPoints: { app: path.join(ROOT, 'src/main.ts') },
    bundle: true,
    outdir: path.join(OUT, 'assets'),
    format: 'esm',
    target: ['chrome120', 'firefox121'],
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
    assetNames: '[name]-[hash]',
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(ROOT, 'index.html'), path.join(OUT, 'index.html'));
  return Date.now() - started;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);
  const ms = await buildWebApp();
  console.log(`web app built into ${path.relative(process.cwd(), OUT) || OUT} in ${ms} ms`);
}
