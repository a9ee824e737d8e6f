// Podium's webhook event types: what /v4/webhooks accepts (the spec's enum) and
// which of them are message events.
import type { MessageEventKind } from '../../model.js';

export const PODIUM_EVENT_TYPES = [
  'call.completed',
  'call.missed',
  'call.received',
  'call.voicemail_left',
  'contact.created',
  'contact.deleted',
  'contact.merged',
  'contact.unchanged',
  'contact.updated',
  'invoice.created',
  'invoice.disabled',
  'invoice.marked_as_paid',
  'invoice.payment_created',
  'invoice.payment_failed',
  'invoice.payment_succeeded',
  'invoice.refund_created',
  'invoice.refund_failed',
  'message.failed',
  'message.received',
  'message.sent',
  'review.created',
  'review.invite_link_created',
  'review.invite_link_updated',
  'review.response_created',
  'review.response_updated',
  'review.updated',
] as const;

export const PODIUM_MESSAGE_EVENTS: ReadonlyMap<string, MessageEventKind> = new Map<string, MessageEventKind>([
  ['message.sent', 'SENT'],
  ['message.received', 'RECEIVED'],
  ['message.failed', 'FAILED'],
]);
