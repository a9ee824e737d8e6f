// What every provider emulator offers beyond its provider's REST API: the
// config that points the real adapter at it, known fixture ids, and message
// events delivered as signed webhooks, exactly as the provider would send them.
import type { MessageEventKind, ProviderName } from '../model.js';
import type { Emulator } from './kit.js';
import type { SendControls } from './sending.js';

export interface EmulatorFixtures {
  readonly locationIds: readonly string[];
  readonly userIds: readonly string[];
  readonly contactIds: readonly string[];
  readonly conversationIds: readonly string[];
  /** Total messages seeded, across conversations. */
  readonly messageCount: number;
}

/** A provider-side account an emulator serves: a Podium organization, a HighLevel location, the Smooch app. */
export interface EmulatedAccount {
  /** The provider's own id of it (what the gateway's `Account.providerAccountId` shows). */
  readonly providerAccountId: string;
  readonly name: string;
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

export interface EmitOptions {
  readonly conversationId?: string;
  /** One of `accounts`. @default the first */
  readonly providerAccountId?: string;
}

/** A provider config whose API part is present (what an emulator hands out). */
export type WithApi<C extends { readonly api: unknown }> = C & { readonly api: NonNullable<C['api']> };

/** Also the provider's send endpoint's handles (SendControls: sendRequests, sendCount, setSendDelays, failNextDeliveries, sendsSettled). */
export interface ProviderEmulator<C> extends Emulator, SendControls {
  readonly provider: ProviderName;
  readonly fixtures: EmulatorFixtures;
  /**
   * The provider-side accounts it serves. The first is the one providerConfig()
   * is for and `fixtures` describes; the others are connected by OAuth.
   */
  readonly accounts: readonly EmulatedAccount[];
  /** The adapter config that talks to this emulator with valid sandbox credentials. */
  providerConfig(): C;
  /**
   * Makes the provider deliver webhooks of every account to `url` (Podium: a
   * webhook on each organization, Smooch: one on the app, both with the
   * sandbox secret; HighLevel: the app's webhook URL, which serves every location).
   */
  addWebhookTarget(url: string): Promise<void>;
  /**
   * Delivers webhooks for the seeded history to `url` (a target added before), for
   * a provider whose API cannot list what the history holds (Smooch). Resolves
   * with each delivery's status (0: unreachable); never rejects.
   */
  deliverHistory?(url: string): Promise<readonly number[]>;
  /**
   * Creates a message of this kind in an existing conversation (random when not
   * given) of one of its accounts (the first when not given), stores it like
   * the real API would, and delivers the provider's webhook for it to every
   * target subscribed to that event. Throws for an account it does not serve.
   */
  emitMessageEvent(kind: MessageEventKind, options?: EmitOptions): Promise<EmittedEvent>;
  /** Headers that make `rawBody` an authentic delivery (signature, timestamp, API key). */
  signWebhook(rawBody: string, options?: { readonly timestampMs?: number }): Record<string, string>;
}
