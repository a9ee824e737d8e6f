// The event console: the live event stream through the same graphql-ws
// subscriptions a client uses (resuming after the last cursor it saw), the
// stored deliveries of `messageEvents` with status, reason and raw body, and a
// Replay button per delivery (`replayEvent`), and outbound messages (sends) with
// their status and reason as `outboundMessageUpdated` reports them. Every call carries the admin key
// typed into the page; nothing here is readable without it. Provider data is
// put in the page as text only (textContent), never as HTML.
/* global graphqlWs */
(function () {
  'use strict';
  const KEY_STORAGE = 'gateway.adminKey';
  const CURSOR_STORAGE = 'gateway.console.after.';
  const KINDS = ['messageSent', 'messageReceived', 'messageFailed'];
  const LIVE_FIELDS = 'id provider account { name } type providerEventType receivedAt cursor message { body }';
  const OUTBOUND_FIELDS = 'cursor outboundMessage { id provider account { name } channel body status failureReason queuedUntil createdAt updatedAt }';
  const LIST = `query Deliveries($filter: StoredEventFilter) { messageEvents(filter: $filter, first: 50) { edges { node {
    id provider account { name } providerEventType type status reason receivedAt published rawBody message { body } } } } }`;
  const REPLAY = 'mutation Replay($id: ID!) { replayEvent(id: $id) { outcome reason event { id status published } events { id } } }';

  const $ = (id) => document.getElementById(id);
  const input = $('api-key');
  const status = $('status');
  let key = '';
  let ws = null;
  let stops = [];
  const seen = new Set();

  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  async function gql(query, variables) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => `${e.message} (${(e.extensions && e.extensions.code) || res.status})`).join('; '));
    return body.data;
  }

  // --- live stream -------------------------------------------------------------------------------
  function showLive(field, event) {
    localStorage.setItem(CURSOR_STORAGE + field, event.cursor);
    if (seen.has(event.id)) return;
    seen.add(event.id);
    const row = document.createElement('tr');
    row.dataset.id = event.id;
    cell(row, event.receivedAt);
    cell(row, event.provider);
    cell(row, event.account.name);
    cell(row, event.type);
    cell(row, event.providerEventType);
    cell(row, event.message && event.message.body);
    cell(row, event.cursor.slice(0, 12) + '…', 'muted');
    $('live').prepend(row);
    void loadDeliveries();
  }

  // One row per send, updated in place as its status moves.
  function showOutbound(field, event) {
    localStorage.setItem(CURSOR_STORAGE + field, event.cursor);
    const m = event.outboundMessage;
    const row = document.createElement('tr');
    row.dataset.id = m.id;
    cell(row, m.createdAt);
    cell(row, m.provider);
    cell(row, m.account.name);
    cell(row, m.channel);
    cell(row, m.body);
    cell(row, m.status, `status status-${m.status}`);
    cell(row, m.failureReason || (m.queuedUntil ? `queued until ${m.queuedUntil}` : ''));
    cell(row, m.updatedAt, 'muted');
    const old = [...$('outbound').children].find((r) => r.dataset.id === m.id);
    if (old) old.replaceWith(row);
    else $('outbound').prepend(row);
  }

  function subscribe(field, fields = LIVE_FIELDS, show = showLive) {
    let stopped = false;
    let stop = () => undefined;
    const start = () => {
      const after = localStorage.getItem(CURSOR_STORAGE + field);
      stop = ws.subscribe(
        { query: `subscription Live($after: String) { ${field}(after: $after) { ${fields} } }`, variables: { after } },
        {
          next: (result) => {
            if (result.errors) {
              // A cursor this gateway no longer knows (restarted embedded store, past the retention): start live.
              if (after && result.errors.some((e) => e.extensions && e.extensions.code === 'BAD_USER_INPUT')) {
                localStorage.removeItem(CURSOR_STORAGE + field);
                status.textContent = `${field}: the saved cursor is not valid here any more; continuing live`;
                setTimeout(start, 0);
              } else status.textContent = `${field}: ${result.errors.map((e) => e.message).join('; ')}`;
              return;
            }
            show(field, result.data[field]);
          },
          error: (err) => {
            status.textContent = `disconnected (${(err && (err.reason || err.message)) || 'socket closed'}); reconnecting…`;
            // Resubscribe after the last cursor seen: nothing missed, nothing twice.
            if (!stopped) setTimeout(start, 1000);
          },
          complete: () => undefined,
        },
      );
    };
    start();
    return () => {
      stopped = true;
      stop();
    };
  }

  function connect() {
    stops.forEach((s) => s());
    if (ws) ws.dispose();
    key = input.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key);
    ws = graphqlWs.createClient({
      url: `${location.origin.replace(/^http/, 'ws')}/graphql`,
      connectionParams: { authorization: `Bearer ${key}` },
      lazy: false,
      retryAttempts: 0,
      on: { connected: () => (status.textContent = 'Connected: live') },
    });
    stops = [...KINDS.map((kind) => subscribe(kind)), subscribe('outboundMessageUpdated', OUTBOUND_FIELDS, showOutbound)];
    void loadDeliveries();
  }

  // --- stored deliveries -------------------------------------------------------------------------
  // One listing at a time; a request during one runs once more after it, so the table is never older than the request.
  let loading = null;
  let again = false;
  function loadDeliveries() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = render().finally(() => {
      loading = null;
      if (again) {
        again = false;
        void loadDeliveries();
      }
    });
    return loading;
  }

  async function render() {
    const listStatus = $('list-status');
    const filter = $('filter').value ? { status: $('filter').value } : null;
    let data;
    try {
      data = await gql(LIST, { filter });
    } catch (err) {
      listStatus.textContent = err.message;
      listStatus.className = 'error';
      return;
    }
    listStatus.textContent = `${data.messageEvents.edges.length} shown, newest first`;
    listStatus.className = 'muted';
    const body = $('deliveries');
    body.replaceChildren(...data.messageEvents.edges.map(({ node }) => deliveryRow(node)));
  }

  function deliveryRow(node) {
    const row = document.createElement('tr');
    row.dataset.id = node.id;
    cell(row, node.receivedAt);
    cell(row, node.provider);
    cell(row, node.account.name);
    cell(row, node.providerEventType);
    const statusCell = cell(row, node.status, `status status-${node.status}`);
    const publishedCell = cell(row, node.published ? 'yes' : 'no');
    const detail = cell(row, node.reason || (node.message && node.message.body));
    const raw = document.createElement('pre');
    raw.className = 'raw';
    raw.hidden = true;
    raw.textContent = node.rawBody;
    detail.appendChild(raw);
    const actions = cell(row, '');
    const show = document.createElement('button');
    show.type = 'button';
    show.textContent = 'Raw body';
    show.addEventListener('click', () => (raw.hidden = !raw.hidden));
    const replay = document.createElement('button');
    replay.type = 'button';
    replay.className = 'replay';
    replay.textContent = 'Replay';
    replay.addEventListener('click', async () => {
      // Outside the table: a live event re-renders the table, the outcome stays.
      const outcome = $('replay-status');
      replay.disabled = true;
      try {
        const { replayEvent } = await gql(REPLAY, { id: node.id });
        outcome.textContent = `Replayed ${node.provider} ${node.providerEventType || 'event'} of ${node.receivedAt}: ${replayEvent.outcome}${replayEvent.reason ? ` (${replayEvent.reason})` : ''}`;
        outcome.className = replayEvent.outcome === 'STILL_UNPROCESSABLE' ? 'error' : 'muted';
        statusCell.textContent = replayEvent.event.status;
        statusCell.className = `status status-${replayEvent.event.status}`;
        publishedCell.textContent = replayEvent.event.published ? 'yes' : 'no';
      } catch (err) {
        outcome.textContent = `Replay failed: ${err.message}`;
        outcome.className = 'error';
      } finally {
        replay.disabled = false;
      }
    });
    actions.append(show, ' ', replay);
    return row;
  }

  input.value = localStorage.getItem(KEY_STORAGE) || '';
  $('connect').addEventListener('click', connect);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') connect();
  });
  $('refresh').addEventListener('click', () => void loadDeliveries());
  $('filter').addEventListener('change', () => void loadDeliveries());
  if (input.value) connect();
})();
