import type Koa from 'koa';

/** Every `METHOD /path` the routers of a Baton app answer (not a catch-all such as /engine-rest's 501). */
export function endpoints(app: Koa): string[] {
  const found: string[] = [];
  for (const middleware of app.middleware as { router?: { stack: { methods: string[]; path: string }[] } }[]) {
    for (const layer of middleware.router?.stack ?? []) {
      if (!layer.methods.length || layer.methods.length > 3 || layer.path.includes('{*')) continue;
      for (const method of layer.methods) if (method !== 'HEAD') found.push(`${method} ${layer.path}`);
    }
  }
  return found;
}
