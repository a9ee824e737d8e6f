// Headless Chromium (Debian's package, driven by puppeteer-core: nothing is
// downloaded) for the tests of the explorer and the console. Every request a
// page makes is recorded; anything not on this machine's loopback is aborted
// and listed in `offsite`, WebSockets included, so a test can assert that the
// pages work with no network but localhost.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}, which is missing. Install it with \`bash scripts/install-chromium.sh\` ` +
        '(Debian: `apt-get install -y chromium`), or set CHROMIUM_BIN to a Chromium or Chrome binary.',
    );
  }
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI cannot use Chromium's sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
}

export interface WatchedPage {
  readonly page: Page;
  /** URLs the page tried to reach off this machine (aborted). */
  readonly offsite: string[];
  /** Every http(s) and ws(s) URL the page requested. */
  readonly requested: string[];
  /** Uncaught errors in the page. */
  readonly errors: string[];
}

const local = (raw: string): boolean => {
  const url = new URL(raw);
  if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
};

export async function openWatchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const offsite: string[] = [];
  const requested: string[] = [];
  const errors: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('data:')) requested.push(url);
    if (local(url)) void request.continue();
    else {
      offsite.push(url);
      void request.abort('blockedbyclient');
    }
  });
  // Request interception does not see WebSockets; the DevTools protocol does.
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', ({ url }) => {
    requested.push(url);
    if (!local(url)) offsite.push(url);
  });
  page.on('pageerror', (err) => errors.push(err instanceof Error ? err.message : String(err)));
  return { page, offsite, requested, errors };
}
