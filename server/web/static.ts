import fs from 'node:fs';
import path from 'node:path';
import type { Context } from 'koa';
import { BatonError } from '../errors.ts';

/** Where `npm run build:web` writes the bundle (gitignored). */
export const DIST_DIR = path.join(import.meta.dirname, '../../modeler/dist');

/** The web app's own addresses: each answers index.html and the app draws the page. */
const CLIENT_ROUTES = /^\/(?:|login|modeler|processes|instances|tasks)(?:\/[^/]+)?\/?$/;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.map': 'application/json',
};

/** True for a GET of a page of the web app or of one of its bundled files. */
export function isWebAsset(ctx: Context): boolean {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
  return ctx.path.startsWith('/assets/') || CLIENT_ROUTES.test(ctx.path);
}

/** Answers a page (index.html) or a bundled file from the built web app. */
export function serveWebAsset(ctx: Context, distDir = DIST_DIR): void {
  const relative = ctx.path.startsWith('/assets/') ? ctx.path.slice(1) : 'index.html';
  const file = path.join(distDir, relative);
  if (!file.startsWith(distDir + path.sep) || relative.includes('\0')) throw new BatonError(404, 'Not found', `no resource at ${ctx.path}`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    if (relative === 'index.html') throw new BatonError(503, 'Service unavailable', 'the web app is not built: run npm run build:web');
    throw new BatonError(404, 'Not found', `no resource at ${ctx.path}`);
  }
  if (!stat.isFile()) throw new BatonError(404, 'Not found', `no resource at ${ctx.path}`);
  ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  ctx.length = stat.size;
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = fs.createReadStream(file);
}
