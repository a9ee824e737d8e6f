// The event console as a newcomer meets it (headless Chromium): on a gateway
// without keys it is live with no click; it reconnects after a reload with or
// without a key; an opened raw body stays open (and pretty-printed) while live
// events redraw the deliveries; notices have a line of their own; timestamps
// are one readable line and each row is coloured by its event type.
import { randomUUID } from 'node:crypto';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { createGateway, type Gateway } from '../src/server.js';
import { launchBrowser, openWatchedPage } from './helpers/browser.js';
import { podiumDelivery, useEventsGateway } from './helpers/events.js';
import { ADMIN_KEY, until } from './helpers/gateway.js';

// The callbacks below run in the page; this file is compiled without the DOM library.
interface PageElement {
  readonly textContent: string | null;
  readonly hidden?: boolean;
  readonly className?: string;
  readonly title?: string;
  readonly children: ArrayLike<PageElement>;
  click(): void;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> };

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

interface OpenGateway {
  readonly gateway: Gateway;
  readonly url: string;
  deliver(text?: string): Promise<number>;
}

/** A gateway with no API keys, as in development: every caller is admin. */
async function useOpenGateway(): Promise<OpenGateway> {
  const podium: PodiumEmulator = await startPodiumEmulator();
  onTestFinished(() => podium.close());
  const gateway = createGateway({ ...loadConfig({ NODE_ENV: 'test', GATEWAY_SANDBOX: 'false' }), podium: podium.providerConfig() });
  onTestFinished(() => gateway.close());
  const url = await gateway.listen(0, '127.0.0.1');
  return {
    gateway,
    url,
    async deliver(text = randomUUID()) {
      const raw = podiumDelivery(text, podium.fixtures.conversationIds[0]!);
      const res = await fetch(`${url}/webhooks/podium`, { method: 'POST', headers: { 'content-type': 'application/json', ...podium.signWebhook(raw) }, body: raw });
      return res.status;
    },
  };
}

describe('the event console, live from the start', () => {
  it('connects by itself on a gateway without keys and shows events with one-line times and a colour per type', async () => {
    const t = await useOpenGateway();
    const { page, errors } = await openWatchedPage(browser);
    // Registered after the gateway's close, so it runs first: the page's sockets are gone before the gateway drains.
    onTestFinished(() => page.close());
    await page.goto(`${t.url}/console`, { waitUntil: 'load' });
    // No click: its three subscriptions reach the gateway.
    await until(() => t.gateway.pubsub.listenerCount() === 3, 'the console subscriptions', 15_000);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Connected'), { timeout: 15_000 });
    const text = `live ${randomUUID()}`;
    expect(await t.deliver(text)).toBe(200);
    await page.waitForFunction((x) => document.querySelector('#live')?.textContent?.includes(x), { timeout: 15_000 }, `hello ${text}`);
    const row = await page.$eval('#live tr', (r) => {
      const e = r as unknown as PageElement;
      return { className: e.className, when: e.children[0]?.textContent, title: e.children[0]?.title, type: e.children[3]?.className };
    });
    expect(row.className).toBe('kind-RECEIVED');
    expect(row.type).toBe('kind-RECEIVED');
    expect(row.when).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(row.title).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // Reloaded, it is live again with no click.
    await page.reload({ waitUntil: 'load' });
    await until(() => t.gateway.pubsub.listenerCount() === 3, 'the subscriptions after the reload', 15_000);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Connected'), { timeout: 15_000 });
    expect(errors).toEqual([]);
  });

  it('with a key, reconnects after a reload without a click', async () => {
    const t = await useEventsGateway();
    const { page } = await openWatchedPage(browser);
    onTestFinished(() => page.close());
    await page.goto(`${t.url}/console`, { waitUntil: 'load' });
    await page.type('#api-key', ADMIN_KEY);
    await page.click('#connect');
    await until(() => t.gateway.pubsub.listenerCount() === 3, 'the console subscriptions', 15_000);
    await page.reload({ waitUntil: 'load' });
    await until(() => t.gateway.pubsub.listenerCount() === 3, 'the subscriptions after the reload', 15_000);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Connected: live', { timeout: 15_000 });
  });

  it('keeps an opened raw body open and pretty-printed while live events redraw the deliveries, and gives notices their own line', async () => {
    const t = await useOpenGateway();
    const { page, errors } = await openWatchedPage(browser);
    // Registered after the gateway's close, so it runs first: the page's sockets are gone before the gateway drains.
    onTestFinished(() => page.close());
    await page.goto(`${t.url}/console`, { waitUntil: 'load' });
    await until(() => t.gateway.pubsub.listenerCount() === 3, 'the console subscriptions', 15_000);
    const first = `first ${randomUUID()}`;
    expect(await t.deliver(first)).toBe(200);
    await page.waitForFunction((x) => document.querySelector('#deliveries tr')?.textContent?.includes(x), { timeout: 15_000 }, `hello ${first}`);
    await page.evaluate(() => {
      const button = Array.from(document.querySelectorAll('#deliveries tr button')).find((b) => b.textContent === 'Raw body');
      button?.click();
    });
    for (let i = 0; i < 3; i++) {
      const next = `next ${i} ${randomUUID()}`;
      expect(await t.deliver(next)).toBe(200);
      await page.waitForFunction((x) => document.querySelector('#deliveries tr')?.textContent?.includes(x), { timeout: 15_000 }, `hello ${next}`);
    }
    const raw = await page.evaluate((x) => {
      const row = Array.from(document.querySelectorAll('#deliveries tr')).find((r) => r.textContent?.includes(x));
      const pre = row ? Array.from(row.children).flatMap((c) => Array.from(c.children)).find((c) => c.className === 'raw') : undefined;
      return { hidden: pre?.hidden, text: pre?.textContent };
    }, `hello ${first}`);
    expect(raw.hidden).toBe(false);
    expect(raw.text).toContain('\n  "data": {\n');
    expect(await page.$eval('#list-status', (e) => e.textContent)).toMatch(/^\d+ shown, newest first$/);

    // A replay's answer is a notice of its own, not part of the count.
    await page.evaluate(() => {
      const button = Array.from(document.querySelectorAll('#deliveries tr button')).find((b) => b.textContent === 'Replay');
      button?.click();
    });
    await page.waitForFunction(() => document.querySelector('#replay-status')?.textContent?.startsWith('Replayed '), { timeout: 15_000 });
    expect(await page.$eval('#list-status', (e) => e.textContent)).toMatch(/^\d+ shown, newest first$/);
    expect(await page.$eval('#replay-status', (e) => (e as unknown as PageElement).hidden)).toBe(false);
    expect(errors).toEqual([]);
  });
});
