// The event console lists outbound messages in a real browser (headless
// Chromium): a send made during the test appears with its status, and its row
// is updated in place when Podium's webhook reports it failed, with the reason.
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openWatchedPage } from './helpers/browser.js';
import { ADMIN_KEY, until, useTestGateway } from './helpers/gateway.js';
import { conversationOn, KEYS_ENV, send } from './helpers/outbound.js';

// Runs in the page; this file is compiled without the DOM library.
declare const document: { querySelectorAll(selector: string): ArrayLike<{ readonly textContent: string | null }> };

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('the event console', () => {
  it('lists outbound messages with their status, updated in place with the failure reason', async () => {
    const t = await useTestGateway({ env: KEYS_ENV });
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const conversation = await conversationOn(t, 'PODIUM', 'SMS');
    const { page, offsite, errors } = await openWatchedPage(browser);
    await page.goto(`${t.url}/console`, { waitUntil: 'load' });
    await page.type('#api-key', ADMIN_KEY);
    await page.click('#connect');
    await until(() => t.gateway.outbound.bus.listenerCount() === 1, 'the console outbound subscription');
    t.podium.failNextDeliveries(1, 'Carrier rejected the message');
    await send(t, { to: { conversationId: conversation.id }, body: 'Shown in the console', idempotencyKey: 'console-1' });
    const rows = (): Promise<string[][]> =>
      page.evaluate(() => Array.from(document.querySelectorAll('#outbound tr'), (r) => Array.from((r as unknown as { children: ArrayLike<{ textContent: string | null }> }).children, (c) => c.textContent ?? '')));
    await page.waitForFunction(() => document.querySelectorAll('#outbound tr')[0]?.textContent?.includes('Carrier rejected the message'), { timeout: 15_000 });
    const shown = await rows();
    expect(shown).toHaveLength(1);
    expect(shown[0]!.slice(1, 7)).toEqual(['PODIUM', 'Wasatch Auto Care', 'SMS', 'Shown in the console', 'FAILED', 'Carrier rejected the message']);
    expect(offsite).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
