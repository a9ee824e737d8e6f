// The browser pages: the GraphiQL explorer at /explorer and the event console
// at /console. Everything they load comes from this process: static/pages/ and
// the built files the npm packages ship (graphiql, react, react-dom,
// graphql-ws), read once at start-up. No CDN, no web fonts (GraphiQL's fonts
// are inlined in its CSS), and a Content-Security-Policy that lets the browser
// connect to this origin only. The pages hold no data: they call /graphql
// (HTTP and graphql-ws) with the key typed into them, like any client.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { GRAPHQL_PATH } from './graphql.js';
import { sendError } from './reply.js';
import { WEBHOOK_PATHS } from './webhooks.js';

export interface PagesRouteOptions {
  /** Serve /explorer (config GATEWAY_EXPLORER). */
  readonly explorer: boolean;
  /** Serve /console (config GATEWAY_CONSOLE). */
  readonly console: boolean;
}

export const EXPLORER_PATH = '/explorer';
export const CONSOLE_PATH = '/console';
const ASSETS_PREFIX = '/pages/';

const PAGES_DIR = fileURLToPath(new URL('../../static/pages/', import.meta.url));
const require = createRequire(import.meta.url);
const packageFile = (pkg: string, file: string): string => join(dirname(require.resolve(`${pkg}/package.json`)), file);

/** Every file a page may load, by its name under /pages/: nothing else is served, so no path reaches the disk. */
const ASSETS: Readonly<Record<string, { readonly path: string; readonly type: string }>> = {
  'graphiql.min.js': { path: packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.min.css': { path: packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' },
  'react.production.min.js': { path: packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.production.min.js': { path: packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphql-ws.min.js': { path: packageFile('graphql-ws', 'umd/graphql-ws.min.js'), type: 'text/javascript' },
  'pages.css': { path: join(PAGES_DIR, 'pages.css'), type: 'text/css' },
  'explorer.js': { path: join(PAGES_DIR, 'explorer.js'), type: 'text/javascript' },
  'console.js': { path: join(PAGES_DIR, 'console.js'), type: 'text/javascript' },
};

// 'self' covers ws: and wss: to this host (CSP 3). Inline styles: GraphiQL sets style attributes.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

interface LoadedFile {
  readonly body: Buffer;
  readonly type: string;
}

function load(path: string, type: string): LoadedFile {
  try {
    return { body: readFileSync(path), type };
  } catch (err) {
    throw new Error(`expected the page file ${path} to exist (run npm install; static/pages ships with the gateway): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function send(reply: FastifyReply, file: LoadedFile, headers: Record<string, string>): FastifyReply {
  return reply
    .type(`${file.type}; charset=utf-8`)
    .headers({ 'x-content-type-options': 'nosniff', ...headers })
    .send(file.body);
}

/** What `GET /` answers when there is no explorer to send a browser to (production): where things are. */
function routeIndex(options: PagesRouteOptions): Record<string, unknown> {
  return {
    name: 'messaging-gateway',
    graphql: GRAPHQL_PATH,
    ...(options.explorer ? { explorer: EXPLORER_PATH } : {}),
    ...(options.console ? { console: CONSOLE_PATH } : {}),
    webhooks: Object.keys(WEBHOOK_PATHS),
    health: '/healthz',
    readiness: '/readyz',
    metrics: '/metrics',
  };
}

export const pageRoutes: FastifyPluginAsync<PagesRouteOptions> = async (app, options) => {
  // A browser opening the gateway's address lands in the explorer (development: it is on by default).
  app.get('/', (_request, reply) => (options.explorer ? reply.redirect(EXPLORER_PATH, 302) : reply.header('cache-control', 'no-cache').send(routeIndex(options))));
  if (!options.explorer && !options.console) return;
  const assets = new Map(Object.entries(ASSETS).map(([name, { path, type }]) => [name, load(path, type)]));
  const html = (name: string): LoadedFile => load(join(PAGES_DIR, name), 'text/html');
  const page = (file: LoadedFile) => (_request: unknown, reply: FastifyReply) =>
    send(reply, file, { 'cache-control': 'no-cache', 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' });

  if (options.explorer) app.get(EXPLORER_PATH, page(html('explorer.html')));
  if (options.console) app.get(CONSOLE_PATH, page(html('console.html')));

  app.get<{ Params: { file: string } }>(`${ASSETS_PREFIX}:file`, (request, reply) => {
    const file = assets.get(request.params.file);
    if (!file) return sendError(reply, 404, 'not_found', `no page asset "${request.params.file.slice(0, 80)}"; the pages load only ${[...assets.keys()].join(', ')}`);
    // Short-lived: after an upgrade a browser must not mix old and new files.
    return send(reply, file, { 'cache-control': 'public, max-age=300' });
  });
};
