// Development sandbox: starts an emulator for every provider that has no
// credentials, points the real adapters at them, makes them deliver webhooks
// to this gateway, and (demo) emits a signed message event about once a second.
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';
import type { MessageEventKind, ProviderName } from '../model.js';
import { startLeadConnectorEmulator } from './leadconnector/index.js';
import { startPodiumEmulator } from './podium/index.js';
import { startSmoochEmulator } from './smooch/index.js';
import type { ProviderEmulator } from './types.js';

export interface Sandbox {
  /** The gateway config with the emulated providers filled in. */
  readonly config: GatewayConfig;
  readonly emulators: ReadonlyMap<ProviderName, ProviderEmulator<unknown>>;
  /** Which parts of each provider's config are the user's and which the emulators'. */
  readonly sources: ReadonlyMap<ProviderName, ConfigSource>;
  /** Registers `<gatewayUrl>/webhooks/<provider>` as each emulator's webhook target. */
  connect(gatewayUrl: string): Promise<void>;
  /** Emits events round-robin over providers and kinds; returns the stop function. @default 1_000 (ms) */
  startDemo(logger: Logger, intervalMs?: number): () => void;
  close(): Promise<void>;
}

const PATHS: Readonly<Record<ProviderName, string>> = { PODIUM: 'podium', LEADCONNECTOR: 'leadconnector', SMOOCH: 'smooch' };
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
  const source = (api: unknown, webhooks: unknown): ConfigSource => ({ api: api ? 'configured' : 'emulated', webhooks: webhooks ? 'configured' : 'emulated' });
  let { podium, leadconnector, smooch } = config;
  if (!podium?.api) {
    const secret = podium?.webhookSecret ?? undefined;
    const emu = await startPodiumEmulator({ webhookSecret: secret });
    emulators.set('PODIUM', emu);
    sources.set('PODIUM', source(false, secret));
    // A configured OAuth app wins; otherwise accounts connect to the emulator's (two organizations).
    podium = { ...emu.providerConfig(), oauth: podium?.oauth ?? emu.oauthConfig(), webhookToleranceMs: podium?.webhookToleranceMs ?? emu.providerConfig().webhookToleranceMs };
  } else sources.set('PODIUM', source(true, podium.webhookSecret));
  if (!leadconnector?.api) {
    const emu = await startLeadConnectorEmulator();
    emulators.set('LEADCONNECTOR', emu);
    sources.set('LEADCONNECTOR', source(false, leadconnector));
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
  return {
    config: Object.freeze({ ...config, podium, leadconnector, smooch }),
    emulators,
    sources,
    async connect(gatewayUrl) {
      for (const [name, emu] of emulators) await emu.addWebhookTarget(`${gatewayUrl}/webhooks/${PATHS[name]}`);
    },
    startDemo(logger, intervalMs = 1_000) {
      const list = [...emulators.values()];
      let tick = 0;
      const timer = setInterval(() => {
        const emu = list[tick % list.length];
        const kind = KINDS[Math.floor(tick / Math.max(1, list.length)) % KINDS.length] ?? 'RECEIVED';
        tick++;
        if (!emu) return;
        emu.emitMessageEvent(kind).then(
          (e) => logger.info({ provider: emu.provider, kind, deliveries: e.deliveries }, 'demo webhook delivered'),
          (err: unknown) => logger.warn({ err, provider: emu.provider }, 'demo webhook failed'),
        );
      }, intervalMs);
      timers.add(timer);
      return () => {
        clearInterval(timer);
        timers.delete(timer);
      };
    },
    async close() {
      for (const t of timers) clearInterval(t);
      await Promise.all([...emulators.values()].map((e) => e.close()));
    },
  };
}
