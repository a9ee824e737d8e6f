// Prints live message events from a running gateway, one JSON line per event on
// stdout, each naming its account: a minimal graphql-ws client that resumes by
// itself. It keeps the cursor of the last event and, after a disconnect,
// subscribes again with `after: <cursor>`, so nothing is missed. When the
// gateway no longer knows that cursor (a restart on the embedded store, or past
// the retention), it says so on stderr and goes on live from now. Everything
// that is not an event goes to stderr; a refusal (bad key, bad argument) exits 1.
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

let cursor: string | null = process.env.GATEWAY_AFTER || null;
let failures = 0;

interface GraphQLErrorLike {
  readonly message?: string;
  readonly extensions?: { readonly code?: string };
}

const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: key ? { authorization: `Bearer ${key}` } : {},
  retryAttempts: 0,
});
const query = `subscription($filter: MessageEventFilter, $after: String) {
  ${field}(filter: $filter, after: $after) {
    cursor provider account { id name } type providerEventType receivedAt
    message { id channel status body conversation { id } contact { name } sender { __typename ... on User { name } ... on Contact { name } ... on BusinessAuthor { name } } }
  }
}`;

function subscribe(): void {
  // Set when this subscription ends in a way already handled (restarted live, or exiting).
  let handled = false;
  const onErrors = (errors: readonly GraphQLErrorLike[]): void => {
    handled = true;
    if (cursor !== null && errors.some(isCursorError)) {
      console.error(`the gateway no longer knows the cursor to resume after (${errors[0]?.message ?? 'unknown cursor'}); events since then may be missed: going on live from now`);
      cursor = null;
      setTimeout(subscribe, 0);
      return;
    }
    console.error(`subscription refused: ${errors.map((e) => `${e.message ?? 'error'}${e.extensions?.code ? ` (${e.extensions.code})` : ''}`).join('; ')}`);
    process.exit(1);
  };
  client.subscribe<Record<string, { cursor?: string } | undefined>>(
    { query, variables: { filter: provider ? { provider } : null, after: cursor } },
    {
      next: (result) => {
        if (result.errors?.length) return onErrors(result.errors);
        failures = 0;
        const next = result.data?.[field!]?.cursor;
        if (next) cursor = next;
        console.log(JSON.stringify(result.data));
      },
      error: (err) => {
        if (Array.isArray(err)) return onErrors(err as GraphQLErrorLike[]);
        const reason = describe(err);
        // A refused key will be refused again: stop. Anything else is an outage: resume.
        if ((err as { code?: number }).code === 4403) {
          console.error(`subscription failed: ${reason}`);
          process.exit(1);
        }
        const delay = BACKOFF[Math.min(failures, BACKOFF.length - 1)]!;
        failures += 1;
        console.error(`disconnected: ${reason}; resuming${cursor ? ' after the last event' : ''} in ${delay / 1000} s`);
        setTimeout(subscribe, delay);
      },
      complete: () => {
        if (handled) return;
        console.error('the gateway ended the subscription');
        process.exit(0);
      },
    },
  );
}
subscribe();
console.error(`subscribed to ${field}${provider ? ` of ${provider}` : ''} at ${base}/graphql (Ctrl-C to stop)`);

/** The gateway refuses an unknown, expired or foreign cursor as bad input naming `after`. */
function isCursorError(e: GraphQLErrorLike): boolean {
  return e.extensions?.code === 'BAD_USER_INPUT' && (e.message ?? '').startsWith('"after"');
}

/** graphql-ws reports a close as a CloseEvent, a refused connection as an ErrorEvent. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  const e = err as { code?: number; reason?: string; message?: string; error?: { message?: string; code?: string } };
  if (e.code === 4403) return 'the gateway refused the API key (close 4403): set GATEWAY_KEY to a viewer or admin key';
  if (typeof e.code === 'number') return `the gateway closed the connection (${e.code}${e.reason ? `: ${e.reason}` : ''})`;
  const cause = e.error?.code ?? e.error?.message ?? e.message;
  return `cannot connect to ${base}/graphql${cause ? ` (${cause})` : ''}: is the gateway running? (npm start)`;
}
