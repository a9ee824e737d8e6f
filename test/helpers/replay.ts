// A Podium provider whose webhook normalizer is "broken" until the test fixes
// it: every event parses as unprocessable, then, after fix(), as the real
// adapter parses it. This is the situation replayEvent exists for: deliveries
// stored as unprocessable before a fix was deployed.
import type { ProviderName } from '../../src/model.js';
import { createProviders } from '../../src/providers/index.js';
import type { Provider } from '../../src/providers/provider.js';
import type { PodiumEmulator } from '../../src/sandbox/podium/index.js';

export const BROKEN_REASON = 'normalizer bug (test): message.received not understood yet';

export interface FixableProviders {
  readonly providers: ReadonlyMap<ProviderName, Provider>;
  /** From now on the real Podium normalizer runs. */
  fix(): void;
}

export function fixablePodium(podium: PodiumEmulator): FixableProviders {
  const real = createProviders(
    { podium: podium.providerConfig(), leadconnector: null, smooch: null },
    { upstream: { timeoutMs: 2_000, maxRetries: 0 }, publicUrl: 'http://localhost', allowUnsignedWebhooks: false },
  ).get('PODIUM') as Provider;
  let fixed = false;
  const provider: Provider = {
    ...real,
    receiver: {
      ...real.receiver,
      parse: (body, req) =>
        fixed ? real.receiver.parse(body, req) : real.receiver.parse(body, req).map((p) => ({ ...p, result: { ok: false as const, reason: BROKEN_REASON } })),
    },
  };
  return { providers: new Map([['PODIUM', provider]]), fix: () => (fixed = true) };
}
