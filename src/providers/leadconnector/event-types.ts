// HighLevel's message webhook events. Subscriptions are set in the Marketplace
// app, not through an API, so this is what the gateway receives and shows.

export const LEADCONNECTOR_EVENT_TYPES = ['InboundMessage', 'OutboundMessage', 'ProviderOutboundMessage'] as const;
export type LeadConnectorEventType = (typeof LEADCONNECTOR_EVENT_TYPES)[number];
