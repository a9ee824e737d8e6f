// Prints live message events from a running gateway: a minimal graphql-ws client.
//   npx tsx scripts/subscribe.ts [received|sent|failed] [PROVIDER]
// Env: GATEWAY_URL (default http://localhost:4000), GATEWAY_KEY (an API key, when keys are configured).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const kind = (process.argv[2] ?? 'received').toLowerCase();
const field = { received: 'messageReceived', sent: 'messageSent', failed: 'messageFailed' }[kind];
if (!field) {
  console.error(`expected received, sent or failed, got "${kind}"`);
  process.exit(2);
}
const provider = process.argv[3]?.toUpperCase();
const base = process.env.GATEWAY_URL ?? 'http://localhost:4000';
const key = process.env.GATEWAY_KEY;

const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: key ? { authorization: `Bearer ${key}` } : {},
  retryAttempts: 0,
});
const query = `subscription($filter: MessageEventFilter) {
  ${field}(filter: $filter) {
    provider type providerEventType receivedAt
    message { id channel status body conversation { id } contact { name } sender { __typename ... on User { name } ... on Contact { name } ... on BusinessAuthor { name } } }
  }
}`;
client.subscribe(
  { query, variables: { filter: provider ? { provider } : null } },
  {
    next: (event) => console.log(JSON.stringify(event.data ?? event.errors)),
    error: (err) => {
      console.error('subscription failed:', err instanceof Error ? err.message : JSON.stringify(err));
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
console.error(`subscribed to ${field}${provider ? ` of ${provider}` : ''} at ${base}/graphql (Ctrl-C to stop)`);
