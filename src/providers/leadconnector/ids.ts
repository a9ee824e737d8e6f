// HighLevel's ids: opaque letters and digits, 20 in every documented example
// (HighLevel API v2 reference); a little room either side, since the length is not a
// published contract. The Marketplace webhook is the read-only "marketplace".
import { rule, type IdRules } from '../id-rules.js';

const ALPHANUMERIC = rule('[A-Za-z0-9]{16,40}', '16 to 40 letters and digits');

export const LEADCONNECTOR_IDS: IdRules = {
  Contact: ALPHANUMERIC,
  Conversation: ALPHANUMERIC,
  Message: ALPHANUMERIC,
  User: ALPHANUMERIC,
  Webhook: rule('marketplace', '"marketplace", the Marketplace app webhook'),
  Location: ALPHANUMERIC,
};
