// The sandbox's stored accounts: every organization or location an emulator
// serves beyond its first (which is the environment's account, and stays the
// default) is connected when the gateway starts, through the gateway's own
// OAuth flow as a browser would (start link -> the emulator's consent,
// approved as that account -> callback), so a newcomer sees several accounts
// per provider and the code path is the one a user takes.
import type { Logger } from 'pino';
import type { AccountsService } from '../accounts/index.js';
import { providerAccountId } from '../accounts/scope.js';
import type { Account } from '../accounts/types.js';
import type { OAuthServer } from './oauth.js';
import type { EmulatedAccount } from './types.js';

/** An emulator whose OAuth app is the one the gateway connects accounts with. */
export interface OAuthApp {
  readonly provider: 'PODIUM' | 'LEADCONNECTOR';
  readonly accounts: readonly EmulatedAccount[];
  readonly oauth: OAuthServer;
}

export interface SeedOptions {
  /** Where this process reaches the gateway. */
  readonly gatewayUrl: string;
  /** GATEWAY_PUBLIC_URL, which the start link and the redirect URI are built on; followed at gatewayUrl instead. */
  readonly publicUrl: string;
  readonly accounts: AccountsService;
  readonly logger: Logger;
}

/** Every hop is to this machine; one that hangs must not hold the start-up. */
const HOP_TIMEOUT_MS = 5_000; // 5 seconds

/**
 * Connects the accounts one by one (the consent approves as whoever is signed
 * in, so they cannot overlap). Connecting an account again replaces its
 * tokens, so a restart on a persistent store connects the same accounts. A
 * failure is logged and skipped: the sandbox still starts.
 */
export async function seedAccounts(apps: readonly OAuthApp[], options: SeedOptions): Promise<readonly Account[]> {
  const seeded: Account[] = [];
  for (const app of apps) {
    for (const target of app.accounts.slice(1)) {
      try {
        seeded.push(await connectAs(app, target, options));
      } catch (err) {
        options.logger.warn({ err, provider: app.provider, providerAccountId: target.providerAccountId, name: target.name }, 'sandbox account not connected');
      }
    }
  }
  return seeded;
}

async function connectAs(app: OAuthApp, target: EmulatedAccount, options: SeedOptions): Promise<Account> {
  const { publicUrl, gatewayUrl } = options;
  const local = (url: string): string => (url.startsWith(`${publicUrl}/`) ? gatewayUrl + url.slice(publicUrl.length) : url);
  app.oauth.signInAs(target.providerAccountId);
  const start = await hop(local(options.accounts.connector.startUrl(app.provider)));
  const cookie = (start.setCookie ?? '').split(';')[0] ?? '';
  const consent = await hop(redirectOf(start));
  const callback = await hop(local(redirectOf(consent)), cookie);
  if (callback.status !== 200) throw new Error(`${callback.path} answered ${callback.status}: ${callback.text}`);
  const account = (await options.accounts.registry.list(app.provider)).find((a) => a.scope !== null && providerAccountId(a.scope) === target.providerAccountId);
  if (!account) throw new Error(`The callback connected an account, but none of ${app.provider} reaches ${target.providerAccountId}`);
  return account;
}

interface Hop {
  /** Only the path: the query carries a grant, a code or a state, which stay out of logs. */
  readonly path: string;
  readonly status: number;
  readonly location: string | null;
  readonly setCookie: string | null;
  /** The gateway page's title (the gateway logs the reason itself), or the start of any other body. */
  readonly text: string;
}

async function hop(url: string, cookie?: string): Promise<Hop> {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(HOP_TIMEOUT_MS) });
  const body = await res.text();
  return {
    path: new URL(url).pathname,
    status: res.status,
    location: res.headers.get('location'),
    setCookie: res.headers.get('set-cookie'),
    text: (/<title>([^<]*)<\/title>/.exec(body)?.[1] ?? body).slice(0, 300),
  };
}

function redirectOf(step: Hop): string {
  if (step.status !== 302 || !step.location) throw new Error(`Expected ${step.path} to redirect, got ${step.status}: ${step.text}`);
  return step.location;
}
