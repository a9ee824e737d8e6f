// What every emulator's send endpoint shares after it accepted a message: the
// provider's webhooks about it, in order (sent, then delivered or failed), each
// after a short, switchable delay; a switch that makes the next deliveries
// fail; and the test handles every provider emulator offers for its sends.
import type { Emulator, RequestFilter } from './kit.js';

export interface SendDelays {
  /** From the accepted send to its "sent" webhooks. */
  readonly sentMs: number;
  /** From the "sent" webhooks to the "delivered" or "failed" ones. */
  readonly outcomeMs: number;
}

export type DeliveryOutcome = { readonly delivered: true } | { readonly delivered: false; readonly reason: string };

/** The webhooks of one accepted send; each step stores its status change, then delivers. */
export interface SendSteps {
  sent(): Promise<unknown>;
  settled(outcome: DeliveryOutcome): Promise<unknown>;
}

/** The handles tests use on an emulator's sends (part of every ProviderEmulator). */
export interface SendControls {
  /** The provider's send requests, for requestCount, injectFault and setLatency (e.g. `{ ...emu.sendRequests, status: 429, retryAfterSeconds: 2 }`). */
  readonly sendRequests: RequestFilter;
  /** Send requests received since start or resetRequests(), refused and faulted ones included: the upstream send count. */
  sendCount(): number;
  /** @default { sentMs: 25, outcomeMs: 50 } */
  setSendDelays(delays: Partial<SendDelays>): void;
  /** The next `times` accepted sends end failed instead of delivered (`reason` in the provider's words, or its default). */
  failNextDeliveries(times?: number, reason?: string): void;
  /** Resolves once the webhooks of every send accepted so far have been delivered. */
  sendsSettled(): Promise<void>;
}

export interface SendLifecycle {
  /** Runs `steps` after the delays; `natural` is the outcome the recipient gives (a landline fails). */
  start(steps: SendSteps, natural: DeliveryOutcome): void;
  /** SendControls over `emulator`'s request log, failures worded `defaultReason`. */
  controls(emulator: Emulator, sendRequests: RequestFilter, defaultReason: string): SendControls;
  /** Stops every lifecycle still waiting (the emulator is closing). */
  stop(): void;
}

export function createSendLifecycle(): SendLifecycle {
  let delays: SendDelays = { sentMs: 25, outcomeMs: 50 };
  const forced: Array<string | undefined> = [];
  const pending = new Set<Promise<void>>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let stopped = false;
  let defaultFailure = 'The message could not be delivered';

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.set(timer, resolve);
    });

  async function run(steps: SendSteps, outcome: DeliveryOutcome): Promise<void> {
    await wait(delays.sentMs);
    if (stopped) return;
    await steps.sent();
    await wait(delays.outcomeMs);
    if (stopped) return;
    await steps.settled(outcome);
  }

  return {
    start(steps, natural) {
      const failure = forced.length > 0 ? forced.shift() : null;
      const outcome: DeliveryOutcome = failure === null ? natural : { delivered: false, reason: failure ?? defaultFailure };
      // A webhook target that is down must not surface as an unhandled rejection.
      const done = run(steps, outcome).catch(() => undefined);
      pending.add(done);
      void done.finally(() => pending.delete(done));
    },
    controls(emulator, sendRequests, defaultReason) {
      defaultFailure = defaultReason;
      return {
        sendRequests,
        sendCount: () => emulator.requestCount(sendRequests),
        setSendDelays(next) {
          delays = { ...delays, ...next };
        },
        failNextDeliveries(times = 1, reason) {
          for (let i = 0; i < times; i++) forced.push(reason);
        },
        async sendsSettled() {
          while (pending.size > 0) await Promise.all([...pending]);
        },
      };
    },
    stop() {
      stopped = true;
      // Waiting lifecycles end at once (they see `stopped`), so sendsSettled() still resolves.
      for (const [timer, resolve] of timers) {
        clearTimeout(timer);
        resolve();
      }
      timers.clear();
    },
  };
}
