// Development sandbox: starts an emulator for every provider that has no
// credentials, points the real adapters at them, makes them deliver webhooks
// to this gateway, connects the emulators' other organizations and locations
// as stored accounts, and (demo) emits a signed message event about once a second
// and now and then replies through the gateway's own sendMessage (demo-replies.ts).
import type { Logger } from 'pino';
import type { AccountsService } from '../accounts/index.js';
import { providerAccountId } from '../accounts/scope.js';
import type { Account } from '../accounts/types.js';
import type { GatewayConfig } from '../config.js';
import type { MessageEventKind, ProviderName } from '../model.js';
import { descriptorOf } from '../providers/index.js';
import { createDemoReplies } from './demo-replies.js';
import { startLeadConnectorEmulator } from './leadconnector/index.js';
import { startPodiumEmulator } from './podium/index.js';
import { seedAccounts, type OAuthApp } from './seed-accounts.js';
import { startSmoochEmulator } from './smooch/index.js';
import type { ProviderEmulator } from './types.js';

export interface Sandbox {
  /** The gateway config with the emulated providers filled in. */
  readonly config: GatewayConfig;
  readonly emulators: ReadonlyMap<ProviderName, ProviderEmulator<unknown>>;
  /** Which parts of each provider's config are the user's and which the emulators'. */
  readonly sources: ReadonlyMap<ProviderName, ConfigSource>;
  /** Registers `<gatewayUrl>/webhooks/<provider>` as each emulator's webhook target, and delivers the Smooch history to it. */
  connect(gatewayUrl: string): Promise<void>;
  /**
   * Connects every Podium organization and HighLevel location of the emulators
   * but the first (the environment's account) as a stored account, through
   * the gateway's OAuth flow (see seed-accounts.ts), when the OAuth app is the
   * emulator's. Resolves with the accounts connected; failures are logged, never thrown.
   */
  seedAccounts(gatewayUrl: string, accounts: AccountsService, logger: Logger): Promise<readonly Account[]>;
  /**
   * Emits events round-robin over the accounts whose events the gateway can
   * attribute (each emulator's first, and the seeded ones) and kinds, and
   * (after connect) answers every other received message of an environment
   * account through the gateway's sendMessage; returns the stop function.
   * @default 1_000 (ms)
   */
  startDemo(logger: Logger, intervalMs?: number): () => void;
  close(): Promise<void>;
}

const KINDS: readonly MessageEventKind[] = ['RECEIVED', 'SENT', 'RECEIVED', 'SENT', 'FAILED'];

/** Where each part of a provider's config came from, for the start-up log. */
export interface ConfigSource {
  readonly api: 'configured' | 'emulated';
  readonly webhooks: 'configured' | 'emulated';
}

/**
 * What the user configured always wins: an emulator is started only for a
 * provider without API credentials, and it signs its webhooks with the
 * configured secret when there is one (HighLevel's configured public keys
 * cannot be signed for, so its emulated deliveries then fail verification).
 */
export async function startSandbox(config: GatewayConfig): Promise<Sandbox> {
  const emulators = new Map<ProviderName, ProviderEmulator<unknown>>();
  const sources = new Map<ProviderName, ConfigSource>();
  const oauthApps: OAuthApp[] = [];
  const source = (api: unknown, webhooks: unknown): ConfigSource => ({ api: api ? 'configured' : 'emulated', webhooks: webhooks ? 'configured' : 'emulated' });
  let { podium, leadconnector, smooch } = config;
  if (!podium?.api) {
    const secret = podium?.webhookSecret ?? undefined;
    const emu = await startPodiumEmulator({ webhookSecret: secret });
    emulators.set('PODIUM', emu);
    sources.set('PODIUM', source(false, secret));
    // A configured OAuth app wins; otherwise accounts connect to the emulator's (two organizations).
    if (!podium?.oauth) oauthApps.push({ provider: 'PODIUM', accounts: emu.accounts, oauth: emu.oauth });
    podium = { ...emu.providerConfig(), oauth: podium?.oauth ?? emu.oauthConfig(), webhookToleranceMs: podium?.webhookToleranceMs ?? emu.providerConfig().webhookToleranceMs };
  } else sources.set('PODIUM', source(true, podium.webhookSecret));
  if (!leadconnector?.api) {
    const emu = await startLeadConnectorEmulator();
    emulators.set('LEADCONNECTOR', emu);
    sources.set('LEADCONNECTOR', source(false, leadconnector));
    if (!leadconnector?.oauth) oauthApps.push({ provider: 'LEADCONNECTOR', accounts: emu.accounts, oauth: emu.oauth });
    leadconnector = leadconnector ? { ...leadconnector, api: emu.providerConfig().api, oauth: leadconnector.oauth ?? emu.oauthConfig() } : emu.providerConfig();
  } else sources.set('LEADCONNECTOR', source(true, true));
  if (!smooch?.api) {
    const secret = smooch?.webhookSecret ?? undefined;
    const emu = await startSmoochEmulator({ webhookSecret: secret });
    emulators.set('SMOOCH', emu);
    sources.set('SMOOCH', source(false, secret));
    smooch = emu.providerConfig();
  } else sources.set('SMOOCH', source(true, smooch.webhookSecret));
  const timers = new Set<NodeJS.Timeout>();
  const sandboxConfig = Object.freeze({ ...config, podium, leadconnector, smooch });
  /** `<provider>:<providerAccountId>` of the seeded accounts: the gateway routes their events to them. */
  const seeded = new Set<string>();
  /** Set by connect: where the demo's replies go. */
  let gatewayUrl: string | null = null;
  const demoTargets = (): Array<{ emu: ProviderEmulator<unknown>; providerAccountId: string }> =>
    [...emulators.values()].flatMap((emu) =>
      emu.accounts.filter((a, i) => i === 0 || seeded.has(`${emu.provider}:${a.providerAccountId}`)).map((a) => ({ emu, providerAccountId: a.providerAccountId })),
    );
  return {
    config: sandboxConfig,
    emulators,
    sources,
    async connect(url) {
      gatewayUrl = url;
      for (const [name, emu] of emulators) {
        const target = `${url}${descriptorOf(name).webhook.path}`;
        await emu.addWebhookTarget(target);
        // What the API cannot list reaches the gateway the way a real account's traffic would.
        await emu.deliverHistory?.(target);
      }
    },
    async seedAccounts(gatewayUrl, accounts, logger) {
      const connected = await seedAccounts(oauthApps, { gatewayUrl, publicUrl: sandboxConfig.publicUrl, accounts, logger });
      for (const account of connected) if (account.scope) seeded.add(`${account.provider}:${providerAccountId(account.scope)}`);
      return connected;
    },
    startDemo(logger, intervalMs = 1_000) {
      let tick = 0;
      let received = 0;
      const replies = gatewayUrl ? createDemoReplies({ gatewayUrl, apiKeys: sandboxConfig.apiKeys, logger }) : null;
      const timer = setInterval(() => {
        const targets = demoTargets();
        const target = targets[tick % targets.length];
        const kind = KINDS[Math.floor(tick / Math.max(1, targets.length)) % KINDS.length] ?? 'RECEIVED';
        tick++;
        if (!target) return;
        const { emu, providerAccountId: account } = target;
        emu.emitMessageEvent(kind, { providerAccountId: account }).then(
          (e) => {
            logger.info({ provider: emu.provider, providerAccountId: account, kind, deliveries: e.deliveries }, 'demo webhook delivered');
            // An agent answers every other message a contact sends to an environment account (their ids need no account).
            if (kind === 'RECEIVED' && account === emu.accounts[0]?.providerAccountId && received++ % 2 === 0) replies?.replyTo(emu.provider, e.conversationId);
          },
          (err: unknown) => logger.warn({ err, provider: emu.provider, providerAccountId: account }, 'demo webhook failed'),
        );
      }, intervalMs);
      timers.add(timer);
      return () => {
        clearInterval(timer);
        timers.delete(timer);
        replies?.stop();
      };
    },
    async close() {
      for (const t of timers) clearInterval(t);
      await Promise.all([...emulators.values()].map((e) => e.close()));
    },
  };
}
