// The explorer and the event console in a real browser (headless Chromium from
// Debian's packages): they load with no network but localhost, the explorer runs
// the inbox query and a live subscription with the key typed into it, and the
// console shows a delivery made during the test and replays an unprocessable one.
// Waits are on conditions (page content, server-side subscription counts), never sleeps.
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPodiumEmulator } from '../src/sandbox/podium/index.js';
import { launchBrowser, openWatchedPage } from './helpers/browser.js';
import { podiumDelivery, useEventsGateway } from './helpers/events.js';
import { ADMIN_KEY, until, useTestGateway, VIEWER_KEY } from './helpers/gateway.js';
import { BROKEN_REASON, fixablePodium } from './helpers/replay.js';

const INBOX = `query Inbox { conversations(provider: PODIUM, first: 50) { edges { node { id contact { name } assignedUser { name }
  messages(first: 10) { edges { node { id body sender { __typename ... on User { name } ... on Contact { name } } } } } } } } }`;

// The callbacks below run in the page; this file is compiled without the DOM library, so what they touch is declared here.
interface PageElement {
  readonly textContent: string | null;
  readonly hidden?: boolean;
  readonly CodeMirror?: { getValue(): string };
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

/** The text of GraphiQL's result pane (CodeMirror keeps only visible lines in the DOM; its instance has all). */
const resultText = (page: Page): Promise<string> =>
  page.evaluate(() => {
    return document.querySelector('.result-window .CodeMirror')?.CodeMirror?.getValue() ?? '';
  });

const clickByText = (page: Page, selector: string, text: string): Promise<void> =>
  page.evaluate(
    (s, t) => {
      const target = Array.from(document.querySelectorAll(s)).find((e) => e.textContent?.trim() === t);
      if (!target) throw new Error(`no ${s} with text ${t}`);
      target.click();
    },
    selector,
    text,
  );

describe('the explorer', () => {
  it('loads from this server only, runs the inbox query with the key typed into it, and receives a live event', async () => {
    const t = await useTestGateway();
    const { page, offsite, requested, errors } = await openWatchedPage(browser);

    // A browser opening /graphql lands on the explorer.
    await page.goto(`${t.url}/graphql`, { waitUntil: 'load' });
    expect(new URL(page.url()).pathname).toBe('/explorer');
    await page.type('#api-key', VIEWER_KEY);
    await page.click('#use-key');
    await page.waitForSelector('.graphiql-execute-button');

    // The first saved operation is the inbox query.
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() => document.querySelector('.result-window')?.textContent?.includes('conversations'), { timeout: 15_000 });
    const shown = JSON.parse(await resultText(page)) as { data: { conversations: { edges: Array<{ node: { id: string; contact: { name: string } } }> } } };
    const direct = await t.gql<typeof shown.data>(INBOX, {}, VIEWER_KEY);
    expect(shown.data.conversations.edges.length).toBe(50);
    expect(shown.data.conversations.edges[0]?.node).toMatchObject(direct.data!.conversations.edges[0]!.node);

    // The second one subscribes to messageReceived over graphql-ws.
    await clickByText(page, '.graphiql-tab-button', 'Received');
    await page.waitForFunction(() => document.querySelector('.graphiql-query-editor')?.textContent?.includes('messageReceived'));
    await page.click('.graphiql-execute-button');
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the explorer subscription');
    const uid = randomUUID();
    const raw = podiumDelivery(uid, t.podium.fixtures.conversationIds[0]!);
    expect((await t.webhook('podium', raw, t.podium.signWebhook(raw))).status).toBe(200);
    await page.waitForFunction((text) => document.querySelector('.result-window')?.textContent?.includes(text), { timeout: 15_000 }, `hello ${uid}`);
    expect(await resultText(page)).toContain('"providerEventType": "message.received"');

    expect(offsite).toEqual([]);
    expect(requested.some((u) => u.startsWith('ws://127.0.0.1'))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('the event console', () => {
  it('shows a delivery made during the test and replays an unprocessable one once it normalizes', async () => {
    const podium = await startPodiumEmulator();
    const fixable = fixablePodium(podium);
    const t = await useEventsGateway({ podium, providers: fixable.providers });
    const { page, offsite, errors } = await openWatchedPage(browser);
    await page.goto(`${t.url}/console`, { waitUntil: 'load' });
    await page.type('#api-key', ADMIN_KEY);
    await page.click('#connect');
    await until(() => t.gateway.pubsub.listenerCount() === 3, 'the console subscriptions');

    // Stored as unprocessable by the "broken" normalizer: listed with its reason and raw body.
    const broken = randomUUID();
    expect((await t.deliver(broken)).body).toMatchObject({ unprocessable: 1 });
    await page.select('#filter', 'UNPROCESSABLE');
    await page.waitForFunction((reason) => document.querySelector('#deliveries tr')?.textContent?.includes(reason), { timeout: 15_000 }, BROKEN_REASON);
    await clickByText(page, '#deliveries tr button', 'Raw body');
    expect(await page.$eval('#deliveries tr pre.raw', (e) => ({ hidden: (e as unknown as PageElement).hidden, text: e.textContent }))).toMatchObject({
      hidden: false,
      text: expect.stringContaining(broken),
    });

    // After the fix, Replay makes it processed, and the live stream shows it once.
    fixable.fix();
    await clickByText(page, '#deliveries tr button', 'Replay');
    await page.waitForFunction(() => document.querySelector('#replay-status')?.textContent?.endsWith(': PROCESSED'), { timeout: 15_000 });
    await page.waitForFunction((text) => document.querySelector('#live')?.textContent?.includes(text), { timeout: 15_000 }, `hello ${broken}`);

    // A delivery made now appears live too.
    const fresh = randomUUID();
    expect((await t.deliver(fresh)).body).toMatchObject({ unprocessable: 0 });
    await page.waitForFunction((text) => document.querySelector('#live')?.textContent?.includes(text), { timeout: 15_000 }, `hello ${fresh}`);
    const live = await page.$$eval('#live tr', (rows) => rows.map((r) => [r.children[2]?.textContent, r.children[5]?.textContent]));
    // The environment's account carries the provider's own name of it: the organization's.
    const organization = podium.organizations[0]!.name;
    expect(live).toEqual([
      [organization, `hello ${fresh}`],
      [organization, `hello ${broken}`],
    ]);

    expect(offsite).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
