// Prints live message events from a running gateway: a minimal graphql-ws client
// that resumes by itself: it keeps the cursor of the last event and, after a
// disconnect, subscribes again with `after: <cursor>`, so nothing is missed.
//   npx tsx scripts/subscribe.ts [received|sent|failed] [PROVIDER]
// Env: GATEWAY_URL (default http://localhost:$PORT, PORT default 4000), GATEWAY_KEY (an API key, when keys are configured),
//      GATEWAY_AFTER (a cursor to start after).
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
/** Reconnect delays, in ms: quick at first, then every 10 seconds, forever. */
const BACKOFF = [500, 1_000, 2_000, 5_000, 10_000];

let cursor: string | null = process.env.GATEWAY_AFTER ?? null;
let failures = 0;

const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: key ? { authorization: `Bearer ${key}` } : {},
  retryAttempts: 0,
});
const query = `subscription($filter: MessageEventFilter, $after: String) {
  ${field}(filter: $filter, after: $after) {
    cursor provider type providerEventType receivedAt
    message { id channel status body conversation { id } contact { name } sender { __typename ... on User { name } ... on Contact { name } ... on BusinessAuthor { name } } }
  }
}`;

function subscribe(): void {
  client.subscribe<Record<string, { cursor?: string } | undefined>>(
    { query, variables: { filter: provider ? { provider } : null, after: cursor } },
    {
      next: (event) => {
        failures = 0;
        const next = event.data?.[field!]?.cursor;
        if (next) cursor = next;
        console.log(JSON.stringify(event.data ?? event.errors));
      },
      error: (err) => {
        const reason = describe(err);
        // A refused key or cursor will be refused again: stop. Anything else is an outage: resume.
        if (fatal(err)) {
          console.error(`subscription failed: ${reason}`);
          process.exit(1);
        }
        const delay = BACKOFF[Math.min(failures, BACKOFF.length - 1)]!;
        failures += 1;
        console.error(`disconnected: ${reason}; resuming${cursor ? ' after the last event' : ''} in ${delay / 1000} s`);
        setTimeout(subscribe, delay);
      },
      complete: () => process.exit(0),
    },
  );
}
subscribe();
console.error(`subscribed to ${field}${provider ? ` of ${provider}` : ''} at ${base}/graphql (Ctrl-C to stop)`);

function fatal(err: unknown): boolean {
  if (Array.isArray(err)) return err.some((e: { extensions?: { code?: string } }) => ['BAD_USER_INPUT', 'FORBIDDEN', 'UNAUTHENTICATED'].includes(e.extensions?.code ?? ''));
  return (err as { code?: number }).code === 4403;
}

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
