// GET /oauth/<provider>/start and /oauth/<provider>/callback: the browser side
// of connecting a Podium organization or a HighLevel location
// (accounts/connect.ts decides; this file speaks HTTP). Both answer small HTML
// pages: a 302 to the consent page, the connected account, or the reason it was
// not connected with a 4xx (5xx when the provider or the store failed), never a stack.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { OAuthConnector, OAuthFailure } from '../accounts/connect.js';
import { PROVIDER_LABELS } from '../providers/labels.js';

export interface OAuthRouteOptions {
  readonly connector: OAuthConnector;
  /** Mark the nonce cookie Secure (the public URL is https). */
  readonly secureCookies: boolean;
}

export const OAUTH_ROUTES = ['/oauth/:provider/start', '/oauth/:provider/callback'] as const;
const COOKIE = 'gateway_oauth_nonce';

export const oauthRoutes: FastifyPluginAsync<OAuthRouteOptions> = async (app, { connector, secureCookies }) => {
  app.get<{ Params: { provider: string }; Querystring: Record<string, unknown> }>('/oauth/:provider/start', async (request, reply) => {
    const outcome = connector.start(request.params.provider, request.query);
    if (!outcome.ok) return page(reply, outcome);
    const cookie = [
      `${COOKIE}=${outcome.nonce}`,
      `Path=/oauth/${request.params.provider}/callback`,
      `Max-Age=${outcome.maxAgeSeconds}`,
      'HttpOnly',
      // Lax: sent on the provider's top-level redirect back to the callback.
      'SameSite=Lax',
      ...(secureCookies ? ['Secure'] : []),
    ].join('; ');
    return reply.code(302).header('set-cookie', cookie).header('cache-control', 'no-store').header('location', outcome.location).send();
  });

  app.get<{ Params: { provider: string }; Querystring: Record<string, unknown> }>('/oauth/:provider/callback', async (request, reply) => {
    const outcome = await connector.callback(request.params.provider, request.query, cookieValue(request.headers.cookie, COOKIE));
    void reply.header('set-cookie', `${COOKIE}=; Path=/oauth/${request.params.provider}/callback; Max-Age=0; HttpOnly; SameSite=Lax`);
    if (!outcome.ok) return page(reply, outcome);
    const { account, detail } = outcome;
    return html(reply, 200, 'Account connected', [
      `<p>Connected the ${escapeHtml(PROVIDER_LABELS[account.provider])} account <strong>${escapeHtml(account.name)}</strong>${detail ? ` (${escapeHtml(detail)})` : ''}.</p>`,
      `<p>Gateway account id: <code>${escapeHtml(account.id)}</code>. You can close this page.</p>`,
    ]);
  });
};

function page(reply: FastifyReply, failure: OAuthFailure): FastifyReply {
  return html(reply, failure.status, failure.title, [`<p>${escapeHtml(failure.reason)}</p>`, '<p>Nothing was connected.</p>']);
}

function html(reply: FastifyReply, status: number, title: string, body: readonly string[]): FastifyReply {
  const document = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body.join('')}</body></html>`;
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'")
    .type('text/html; charset=utf-8')
    .send(document);
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=') || null;
  }
  return null;
}
