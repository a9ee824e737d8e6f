// Delivery of Sunshine Conversations v2 webhooks from the emulator: one event
// in the v2 envelope `{ app, webhook, events: [event] }`, POSTed to every
// custom integration's webhook subscribed to its type, with that webhook's
// secret in X-API-Key (Smooch signs nothing).
import { deliverWebhook } from '../kit.js';
import type { SmoochSandboxData } from './data.js';

export interface SmoochEvent {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly payload: unknown;
}

export interface SmoochDelivery {
  /** The body and headers of the first subscribed webhook (or of a made-up one when none is). */
  readonly rawBody: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly deliveries: ReadonlyArray<{ readonly url: string; readonly status: number }>;
}

export async function deliverSmoochEvent(data: SmoochSandboxData, event: SmoochEvent, fallbackSecret: string): Promise<SmoochDelivery> {
  const targets = data.integrations.flatMap((i) => (i.webhooks ?? []).filter((w) => w.triggers.includes(event.type)));
  const bodyFor = (webhookId: string): string => JSON.stringify({ app: { id: data.appId }, webhook: { id: webhookId, version: 'v2' }, events: [event] });
  const deliveries = await Promise.all(
    targets.map(async (w) => {
      const status = await deliverWebhook(w.target, bodyFor(w.id), { 'x-api-key': w.secret }).then(
        (res) => res.status,
        () => 0, // unreachable target
      );
      return { url: w.target, status };
    }),
  );
  const shown = targets[0];
  return { rawBody: bodyFor(shown?.id ?? data.newId(Date.now())), headers: { 'x-api-key': shown?.secret ?? fallbackSecret }, deliveries };
}
