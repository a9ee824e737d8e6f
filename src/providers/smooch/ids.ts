// Sunshine Conversations' ids: 24 hex, ObjectId-like (Sunshine Conversations API v2 reference).
// Messages and webhooks are addressed through their conversation and custom
// integration, so their gateway keys are pairs. Smooch has no staff users or
// locations; their rule is the record id, so a lookup answers "unknown".
import { rule, type IdRules } from '../id-rules.js';

const HEX24 = '[0-9a-fA-F]{24}';

export const SMOOCH_IDS: IdRules = {
  Contact: rule(HEX24, '24 hex digits'),
  Conversation: rule(HEX24, '24 hex digits'),
  Message: rule(`${HEX24}/${HEX24}`, '<conversation id>/<message id>, 24 hex digits each'),
  User: rule(HEX24, '24 hex digits'),
  Webhook: rule(`${HEX24}/${HEX24}`, '<integration id>/<webhook id>, 24 hex digits each'),
  Location: rule(HEX24, '24 hex digits'),
};
