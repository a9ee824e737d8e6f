// The explorer and console routes over plain HTTP: what is served, with which
// headers, what is refused (JSON errors), and how GATEWAY_EXPLORER and
// GATEWAY_CONSOLE switch them, in development and in production.
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, useTestGateway } from './helpers/gateway.js';

const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('the explorer and console routes', () => {
  it('serves both pages and their files from this server, with a CSP that allows this origin only', async () => {
    const t = await useTestGateway();
    for (const path of ['/explorer', '/console']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      const page = await res.text();
      // Every script and stylesheet is a /pages/ file.
      const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith('/explorer') && !r.startsWith('/console'));
      expect(refs.length).toBeGreaterThan(1);
      for (const ref of refs) {
        expect(ref).toMatch(/^\/pages\//);
        const asset = await fetch(`${t.url}${ref}`);
        expect(asset.status, ref).toBe(200);
        expect(asset.headers.get('content-type')).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      }
    }
  });

  it('answers unknown page files with a JSON 404 and never reads other paths', async () => {
    const t = await useTestGateway();
    for (const path of ['/pages/nope.js', '/pages/..%2F..%2Fpackage.json', '/pages/%2e%2e%2fconfig.ts']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    }
  });

  it('sends a browser opening /graphql to the explorer, and leaves GraphQL GET requests to Apollo', async () => {
    const t = await useTestGateway();
    const browser = await fetch(`${t.url}/graphql`, { headers: html, redirect: 'manual' });
    expect(browser.status).toBe(302);
    expect(browser.headers.get('location')).toBe('/explorer');
    const get = `${t.url}/graphql?query=${encodeURIComponent('{ __typename }')}`;
    const query = await fetch(get, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true', authorization: `Bearer ${ADMIN_KEY}` } });
    expect(await query.json()).toEqual({ data: { __typename: 'Query' } });
    // Never Apollo's landing page (it loads from a CDN), even for a browser URL with a query.
    expect((await fetch(get, { headers: html, redirect: 'manual' })).headers.get('location')).toBe('/explorer');
  });

  it('turns the explorer off with GATEWAY_EXPLORER=off and the console with GATEWAY_CONSOLE=off', async () => {
    const t = await useTestGateway({ env: { GATEWAY_EXPLORER: 'off', GATEWAY_CONSOLE: 'off' } });
    for (const path of ['/explorer', '/console', '/pages/explorer.js']) expect((await fetch(`${t.url}${path}`)).status, path).toBe(404);
    const browser = await fetch(`${t.url}/graphql`, { headers: html, redirect: 'manual' });
    expect(browser.status).toBe(404);
    expect(await browser.json()).toMatchObject({ error: 'explorer_disabled', message: expect.stringContaining('GATEWAY_EXPLORER=on') });
  });

  it('in production serves the explorer only when enabled, and lets its own pages call /graphql whatever GATEWAY_CORS_ORIGINS allows', async () => {
    const off = await useTestGateway({ mongo: true, env: { NODE_ENV: 'production' } });
    expect((await fetch(`${off.url}/explorer`)).status).toBe(404);
    expect((await fetch(`${off.url}/console`)).status).toBe(200);

    const t = await useTestGateway({ mongo: true, env: { NODE_ENV: 'production', GATEWAY_EXPLORER: 'on' } });
    expect((await fetch(`${t.url}/explorer`)).status).toBe(200);
    const post = (origin: string) =>
      fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, authorization: `Bearer ${ADMIN_KEY}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
    // Production allows no other origin by default; the gateway's own is always allowed.
    const own = await post(t.url);
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({ data: { __typename: 'Query' } });
    const other = await post('https://evil.example.com');
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: 'origin_not_allowed' });
  });
});
