// Podium's ids: every uid is a UUID (Podium API v4 reference). Messages are found
// within their conversation, so the gateway's message key is `<conversation uid>/<message uid>`.
import { rule, UUID, type IdRules } from '../id-rules.js';

export const PODIUM_IDS: IdRules = {
  Contact: rule(UUID, 'a UUID'),
  Conversation: rule(UUID, 'a UUID'),
  Message: rule(`${UUID}/${UUID}`, '<conversation UUID>/<message UUID>'),
  User: rule(UUID, 'a UUID'),
  Webhook: rule(UUID, 'a UUID'),
  Location: rule(UUID, 'a UUID'),
};
