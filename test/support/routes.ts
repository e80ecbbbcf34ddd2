/** The routes an app serves, read through Fastify's public `printRoutes` (no test hooks in the app). */
import type { FastifyInstance } from 'fastify';

export interface Route {
  method: string;
  url: string;
}

/** Every top-level route (the docs UI's own files are nested under /docs and left out), without HEAD. */
export async function servedRoutes(app: FastifyInstance): Promise<Route[]> {
  await app.ready();
  const routes: Route[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^[├└]── (\/\S*) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const [, url, methods] = match as unknown as [string, string, string];
    for (const method of methods.split(', ')) if (method !== 'HEAD') routes.push({ method, url });
  }
  return routes;
}
