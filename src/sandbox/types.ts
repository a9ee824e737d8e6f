// What every provider emulator offers beyond its provider's REST API: the
// config that points the real adapter at it, known fixture ids, and message
// events delivered as signed webhooks, exactly as the provider would send them.
import type { MessageEventKind, ProviderName } from '../model.js';
import type { Emulator } from './kit.js';

export interface EmulatorFixtures {
  readonly locationIds: readonly string[];
  readonly userIds: readonly string[];
  readonly contactIds: readonly string[];
  readonly conversationIds: readonly string[];
  /** Total messages seeded, across conversations. */
  readonly messageCount: number;
}

export interface EmittedEvent {
  /** The provider's message id of the new message (null when the event carries none). */
  readonly messageId: string | null;
  readonly conversationId: string;
  /** The exact bytes delivered and the provider's headers (signatures) sent with them. */
  readonly rawBody: string;
  readonly headers: Readonly<Record<string, string>>;
  /** One entry per webhook target the event went to. */
  readonly deliveries: ReadonlyArray<{ readonly url: string; readonly status: number }>;
}

/** A provider config whose API part is present (what an emulator hands out). */
export type WithApi<C extends { readonly api: unknown }> = C & { readonly api: NonNullable<C['api']> };

export interface ProviderEmulator<C> extends Emulator {
  readonly provider: ProviderName;
  readonly fixtures: EmulatorFixtures;
  /** The adapter config that talks to this emulator with valid sandbox credentials. */
  providerConfig(): C;
  /**
   * Makes the provider deliver webhooks to `url` (Podium, Smooch: a webhook
   * registered in its own store, with the sandbox secret; HighLevel: the app's
   * webhook URL).
   */
  addWebhookTarget(url: string): Promise<void>;
  /**
   * Creates a message of this kind in an existing conversation (random when not
   * given), stores it like the real API would, and delivers the provider's
   * webhook for it to every target subscribed to that event.
   */
  emitMessageEvent(kind: MessageEventKind, options?: { readonly conversationId?: string }): Promise<EmittedEvent>;
  /** Headers that make `rawBody` an authentic delivery (signature, timestamp, API key). */
  signWebhook(rawBody: string, options?: { readonly timestampMs?: number }): Record<string, string>;
}
