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
  /** Registers `<gatewayUrl>/webhooks/<provider>` as each emulator's webhook target. */
  connect(gatewayUrl: string): Promise<void>;
  /** Emits events round-robin over providers and kinds; returns the stop function. @default 1_000 (ms) */
  startDemo(logger: Logger, intervalMs?: number): () => void;
  close(): Promise<void>;
}

const PATHS: Readonly<Record<ProviderName, string>> = { PODIUM: 'podium', LEADCONNECTOR: 'leadconnector', SMOOCH: 'smooch' };
const KINDS: readonly MessageEventKind[] = ['RECEIVED', 'SENT', 'RECEIVED', 'SENT', 'FAILED'];

export async function startSandbox(config: GatewayConfig): Promise<Sandbox> {
  const emulators = new Map<ProviderName, ProviderEmulator<unknown>>();
  let podium = config.podium;
  let leadconnector = config.leadconnector;
  let smooch = config.smooch;
  if (!podium) {
    const emu = await startPodiumEmulator();
    emulators.set('PODIUM', emu);
    podium = emu.providerConfig();
  }
  if (!leadconnector) {
    const emu = await startLeadConnectorEmulator();
    emulators.set('LEADCONNECTOR', emu);
    leadconnector = emu.providerConfig();
  }
  if (!smooch) {
    const emu = await startSmoochEmulator();
    emulators.set('SMOOCH', emu);
    smooch = emu.providerConfig();
  }
  const timers = new Set<NodeJS.Timeout>();
  return {
    config: Object.freeze({ ...config, podium, leadconnector, smooch }),
    emulators,
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
