// The unified model every provider adapter normalizes into. Everything above
// `providers/<name>/` speaks only these shapes; ids here are the provider's own
// (global opaque ids are built from them in `ids.ts`).

export const PROVIDERS = ['PODIUM', 'LEADCONNECTOR', 'SMOOCH'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** How each provider is named in messages people read. */
export const PROVIDER_LABELS: Readonly<Record<ProviderName, string>> = { PODIUM: 'Podium', LEADCONNECTOR: 'HighLevel', SMOOCH: 'Smooch' };

export type MessageDirection = 'INBOUND' | 'OUTBOUND';

/** One status vocabulary for every provider (each provider's normalize.ts maps its own statuses onto it). */
export type MessageStatus = 'QUEUED' | 'SENT' | 'DELIVERED' | 'READ' | 'FAILED' | 'RECEIVED';

export type Channel =
  | 'SMS'
  | 'EMAIL'
  | 'CALL'
  | 'VOICEMAIL'
  | 'FACEBOOK'
  | 'INSTAGRAM'
  | 'GOOGLE'
  | 'WHATSAPP'
  | 'APPLE'
  | 'WEBCHAT'
  | 'OTHER';

export type MessageEventKind = 'SENT' | 'RECEIVED' | 'FAILED';

export interface ContactRecord {
  readonly provider: ProviderName;
  /** The stored account it was read through (src/accounts/); absent for the environment's account. */
  readonly account?: string;
  readonly id: string;
  readonly name: string | null;
  readonly emails: readonly string[];
  readonly phones: readonly string[];
  readonly locationId: string | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  /**
   * Other keys the contact loader may be asked for that name this same contact
   * (Podium looks contacts up by conversation uid, phone or email). The loaders
   * prime every alias so a second lookup by any of them costs no request.
   */
  readonly aliases?: readonly string[];
}

/**
 * One role vocabulary for staff users. OWNER: the account's owner (Podium
 * "Account Owner"); ADMIN: administers the account (Podium "Admin", HighLevel
 * role "admin"); MEMBER: every other staff role (Podium's free-text positions
 * such as "Manager" or "Technician", HighLevel role "user").
 */
export type UserRole = 'OWNER' | 'ADMIN' | 'MEMBER';

export interface UserRecord {
  readonly provider: ProviderName;
  /** The stored account it was read through (src/accounts/); absent for the environment's account. */
  readonly account?: string;
  readonly id: string;
  readonly name: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  /** In the unified vocabulary; null when the provider gave no role. */
  readonly role: UserRole | null;
  /** The provider's own text for the role ("Account Owner", "admin"), for display. */
  readonly roleLabel: string | null;
  readonly createdAt: string | null;
}

export interface ConversationRecord {
  readonly provider: ProviderName;
  /** The stored account it was read through (src/accounts/); absent for the environment's account. */
  readonly account?: string;
  readonly id: string;
  readonly locationId: string | null;
  /** Key for the contact loader (may be an alias, see ContactRecord.aliases). */
  readonly contactRef: string | null;
  readonly contactName: string | null;
  readonly assignedUserId: string | null;
  readonly channel: Channel;
  /** Phone number, email address or other address the conversation runs over. */
  readonly channelIdentifier: string | null;
  readonly closed: boolean | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  readonly lastMessageAt: string | null;
}

/** Who wrote a message. Smooch has no staff users: its business side is a BUSINESS author. */
export type SenderRef =
  | { readonly kind: 'USER'; readonly userId: string }
  | { readonly kind: 'CONTACT'; readonly contactRef: string; readonly name: string | null }
  | { readonly kind: 'BUSINESS'; readonly name: string | null; readonly avatarUrl: string | null };

export interface Attachment {
  readonly url: string;
  readonly contentType: string | null;
}

export interface EmailDetails {
  readonly subject: string | null;
  readonly from: string | null;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly html: string | null;
  readonly threadId: string | null;
}

export interface MessageRecord {
  readonly provider: ProviderName;
  /** The stored account it was read through (src/accounts/); absent for the environment's account. */
  readonly account?: string;
  /**
   * The message's load key for `Provider.getMessages` (for providers whose
   * message lookup needs the conversation, `<conversationId>/<messageId>`), or
   * null when the provider sent no id (Podium's documented message.sent example).
   */
  readonly id: string | null;
  readonly conversationId: string | null;
  readonly contactRef: string | null;
  readonly locationId: string | null;
  readonly direction: MessageDirection;
  readonly status: MessageStatus;
  readonly channel: Channel;
  /** Plain text, whatever the provider sent: an HTML-only email is converted, its HTML kept in `email.html`. */
  readonly body: string | null;
  readonly attachments: readonly Attachment[];
  readonly email: EmailDetails | null;
  readonly sender: SenderRef | null;
  readonly failureReason: string | null;
  /** Call length in seconds, for CALL and VOICEMAIL messages. */
  readonly callDurationSeconds: number | null;
  readonly createdAt: string | null;
}

/** A page of a provider list: items in display order and the provider's own cursor to the next page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** The request for one upstream page. `cursor` null means the first page. */
export interface PageRequest {
  readonly cursor: string | null;
  /** 1 to 100; a provider with fixed-size pages may ignore it. */
  readonly limit: number;
}

export interface ContactFilter {
  readonly locationId?: string | null;
  readonly query?: string | null;
  readonly updatedAfter?: string | null;
}

export interface ConversationFilter {
  readonly locationId?: string | null;
  readonly contactId?: string | null;
  readonly assignedUserId?: string | null;
  readonly closed?: boolean | null;
}

export interface WebhookRecord {
  readonly provider: ProviderName;
  /** The stored account it was read through (src/accounts/); absent for the environment's account. */
  readonly account?: string;
  readonly id: string;
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly locationId: string | null;
  readonly organizationId: string | null;
  readonly disabled: boolean;
  /** Never leaves the gateway; GraphQL shows `hasSecret` only. */
  readonly secret: string | null;
  /** False for subscriptions the provider's API cannot change (HighLevel's Marketplace URL). */
  readonly editable: boolean;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export interface WebhookCreateInput {
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly locationId?: string | null;
  readonly organizationId?: string | null;
  readonly secret?: string | null;
  readonly disabled?: boolean | null;
}

export interface WebhookUpdateInput {
  readonly url?: string | null;
  readonly eventTypes?: readonly string[] | null;
  readonly secret?: string | null;
  readonly disabled?: boolean | null;
}

/** A message event normalized from one webhook delivery (a delivery may hold several). */
export interface MessageEvent {
  readonly kind: MessageEventKind;
  readonly message: MessageRecord;
}

/** A provider location an account reaches: what `filter.locationId` and `createWebhook(locationId)` take. */
export interface LocationRecord {
  readonly provider: ProviderName;
  /** Absent for the environment's account, as on the other records. */
  readonly account?: string;
  /** The provider's own id: Podium location uid, HighLevel locationId, Smooch appId. */
  readonly id: string;
  readonly name: string | null;
}
