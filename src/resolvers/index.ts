// All resolvers, merged per type.
import type { Resolvers } from '../generated/graphql.js';
import { accountResolvers } from './account.js';
import { apiKeyResolvers } from './api-key.js';
import { commonResolvers } from './common.js';
import { contactResolvers } from './contact.js';
import { conversationResolvers } from './conversation.js';
import { eventResolvers } from './event.js';
import { messageResolvers } from './message.js';
import { outboundResolvers } from '../outbound/resolvers.js';
import { userResolvers } from './user.js';
import { webhookResolvers } from './webhook.js';

export const resolvers: Resolvers[] = [
  commonResolvers,
  contactResolvers,
  userResolvers,
  conversationResolvers,
  messageResolvers,
  webhookResolvers,
  eventResolvers,
  accountResolvers,
  apiKeyResolvers,
  outboundResolvers,
];
