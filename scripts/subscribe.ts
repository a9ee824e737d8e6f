// Prints live message events from a running gateway: a minimal graphql-ws client.
//   npx tsx scripts/subscribe.ts [received|sent|failed] [PROVIDER]
// Env: GATEWAY_URL (default http://localhost:$PORT, PORT default 4000), GATEWAY_KEY (an API key, when keys are configured).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const kind = (process.argv[2] ?? 'received').toLowerCase();
const field = { received: 'messageReceived', sent: 'messageSent', failed: 'messageFailed' }[kind];
if (!field) {
  console.error(`expected received, sent or failed, got "${kind}"`);
  process.exit(2);
}
const provider = process.argv[3]?.toUpperCase();
const base = process.env.GATEWAY_URL ?? `http://localhost:${process.env.PORT ?? 4000}`;
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
      console.error(`subscription failed: ${describe(err)}`);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
console.error(`subscribed to ${field}${provider ? ` of ${provider}` : ''} at ${base}/graphql (Ctrl-C to stop)`);

/** graphql-ws reports a close as a CloseEvent, a refused connection as an ErrorEvent, GraphQL errors as an array. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (Array.isArray(err)) return JSON.stringify(err);
  const e = err as { code?: number; reason?: string; message?: string; error?: { message?: string; code?: string } };
  if (e.code === 4403) return 'the gateway refused the API key (close 4403): set GATEWAY_KEY to a viewer or admin key';
  if (typeof e.code === 'number') return `the gateway closed the connection (${e.code}${e.reason ? `: ${e.reason}` : ''})`;
  const cause = e.error?.code ?? e.error?.message ?? e.message;
  return `cannot connect to ${base}/graphql${cause ? ` (${cause})` : ''}: is the gateway running? (npm start)`;
}
