// The event console: the live event stream through the same graphql-ws
// subscriptions a client uses (resuming after the last cursor it saw), the
// stored deliveries of `messageEvents` with status, reason and raw body, and a
// Replay button per delivery (`replayEvent`), and outbound messages (sends) with
// their status and reason as `outboundMessageUpdated` reports them. Every call
// carries the admin key
// typed into the page; a gateway without keys (development) needs none, and the
// console then connects by itself. Once connected it reconnects after a reload,
// with the saved key or without one. Provider data is put in the page as text
// only (textContent), never as HTML.
/* global graphqlWs */
(function () {
  'use strict';
  const KEY_STORAGE = 'gateway.adminKey';
  const CONNECTED_STORAGE = 'gateway.console.connected';
  const CURSOR_STORAGE = 'gateway.console.after.';
  const KINDS = ['messageSent', 'messageReceived', 'messageFailed'];
  const LIVE_FIELDS = 'id provider account { name } type providerEventType receivedAt cursor message { body }';
  const OUTBOUND_FIELDS = 'cursor outboundMessage { id provider account { name } channel body status failureReason queuedUntil createdAt updatedAt }';
  const LIST = `query Deliveries($filter: StoredEventFilter) { messageEvents(filter: $filter, first: 50) { edges { node {
    id provider account { name } providerEventType type status reason receivedAt published rawBody message { body } } } } }`;
  const REPLAY = 'mutation Replay($id: ID!) { replayEvent(id: $id) { outcome reason event { id status published } events { id } } }';
  /** Answers without a key only on a gateway that has no keys (development: every caller is admin). */
  const OPEN_PROBE = '{ messageEvents(first: 1) { edges { cursor } } }';

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

  /** `2026-11-21 10:00:03` in the browser's time zone, on one line; the exact ISO time is the cell's tooltip. */
  function when(row, iso) {
    const date = new Date(iso);
    const pad = (n) => String(n).padStart(2, '0');
    const shown = Number.isNaN(date.getTime())
      ? iso
      : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    const td = cell(row, shown, 'when');
    td.title = iso || '';
    return td;
  }

  /** A notice line of its own (never glued to a count); empty text hides it. */
  function notify(element, text, isError) {
    element.textContent = text;
    element.hidden = !text;
    element.className = isError ? 'notice error' : 'notice';
  }

  async function gql(query, variables) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
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
    row.className = `kind-${event.type}`;
    when(row, event.receivedAt);
    cell(row, event.provider);
    cell(row, event.account.name);
    cell(row, event.type, `kind-${event.type}`);
    cell(row, event.providerEventType);
    cell(row, event.message && event.message.body);
    cell(row, event.cursor.slice(0, 12) + '…', 'muted');
    $('live').prepend(row);
    void loadDeliveries();
  }

  // One row per send, replaced in place as its status moves.
  function showOutbound(field, event) {
    localStorage.setItem(CURSOR_STORAGE + field, event.cursor);
    const m = event.outboundMessage;
    const row = document.createElement('tr');
    row.dataset.id = m.id;
    when(row, m.createdAt);
    cell(row, m.provider);
    cell(row, m.account.name);
    cell(row, m.channel);
    cell(row, m.body);
    cell(row, m.status, `status status-${m.status}`);
    cell(row, m.failureReason || (m.queuedUntil ? `queued until ${m.queuedUntil}` : ''));
    when(row, m.updatedAt);
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
                notify($('notices'), 'The gateway no longer knows where this console left off (it restarted, or the events are past the retention): showing events from now on.');
                setTimeout(start, 0);
              } else notify($('notices'), `${field}: ${result.errors.map((e) => e.message).join('; ')}`, true);
              return;
            }
            show(field, result.data[field]);
          },
          error: (err) => {
            status.textContent = `Disconnected (${(err && (err.reason || err.message)) || 'socket closed'}); reconnecting…`;
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

  function disconnect() {
    stops.forEach((s) => s());
    stops = [];
    if (ws) ws.dispose();
    ws = null;
  }

  function connect() {
    disconnect();
    key = input.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
    // Remembered, key or not, so a reload connects again.
    localStorage.setItem(CONNECTED_STORAGE, '1');
    status.textContent = 'Connecting…';
    $('disconnect').hidden = false;
    ws = graphqlWs.createClient({
      url: `${location.origin.replace(/^http/, 'ws')}/graphql`,
      connectionParams: key ? { authorization: `Bearer ${key}` } : {},
      lazy: false,
      retryAttempts: 0,
      on: { connected: () => (status.textContent = key ? 'Connected: live' : 'Connected: live (this gateway has no keys)') },
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

  /** The rows on screen by event id: a refresh updates them in place, so an opened raw body stays open. */
  const rows = new Map();

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
    const wanted = data.messageEvents.edges.map(({ node }) => {
      const known = rows.get(node.id) || deliveryRow(node);
      rows.set(node.id, known);
      known.update(node);
      return known.row;
    });
    const ids = new Set(data.messageEvents.edges.map(({ node }) => node.id));
    for (const id of [...rows.keys()]) if (!ids.has(id)) rows.delete(id);
    place($('deliveries'), wanted);
  }

  /** Puts `wanted` in the table in order, moving only what is out of place (new rows arrive at the top). */
  function place(body, wanted) {
    let at = body.firstElementChild;
    for (const row of wanted) {
      if (row === at) {
        at = at.nextElementSibling;
        continue;
      }
      body.insertBefore(row, at);
    }
    while (at) {
      const next = at.nextElementSibling;
      at.remove();
      at = next;
    }
  }

  /** The raw body as sent, indented when it is JSON. */
  function pretty(rawBody) {
    try {
      return JSON.stringify(JSON.parse(rawBody), null, 2);
    } catch {
      return rawBody;
    }
  }

  function deliveryRow(node) {
    const row = document.createElement('tr');
    row.dataset.id = node.id;
    when(row, node.receivedAt);
    cell(row, node.provider);
    cell(row, node.account.name);
    cell(row, node.providerEventType);
    const statusCell = cell(row, '');
    const publishedCell = cell(row, '');
    const detail = cell(row, '');
    const detailText = document.createElement('span');
    const raw = document.createElement('pre');
    raw.className = 'raw';
    raw.hidden = true;
    raw.textContent = pretty(node.rawBody);
    detail.append(detailText, raw);
    const actions = cell(row, '');
    const show = document.createElement('button');
    show.type = 'button';
    show.textContent = 'Raw body';
    show.addEventListener('click', () => (raw.hidden = !raw.hidden));
    const replay = document.createElement('button');
    replay.type = 'button';
    replay.className = 'replay';
    replay.textContent = 'Replay';
    replay.addEventListener('click', () => void replayEvent(node, replay, update));
    actions.append(show, ' ', replay);

    function update(current) {
      row.className = `kind-${current.status === 'UNPROCESSABLE' ? 'UNPROCESSABLE' : current.type || ''}`;
      statusCell.textContent = current.status;
      statusCell.className = `status status-${current.status}`;
      publishedCell.textContent = current.published ? 'yes' : 'no';
      if (current.reason !== undefined || current.message !== undefined) detailText.textContent = current.reason || (current.message && current.message.body) || '';
    }
    return { row, update };
  }

  async function replayEvent(node, button, update) {
    const outcome = $('replay-status');
    button.disabled = true;
    try {
      const { replayEvent } = await gql(REPLAY, { id: node.id });
      notify(outcome, `Replayed ${node.provider} ${node.providerEventType || 'event'} of ${node.receivedAt}: ${replayEvent.outcome}${replayEvent.reason ? ` (${replayEvent.reason})` : ''}`, replayEvent.outcome === 'STILL_UNPROCESSABLE');
      update({ ...replayEvent.event, type: node.type });
    } catch (err) {
      notify(outcome, `Replay failed: ${err.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  /** Whether this gateway answers an admin query without a key (it has no keys). */
  async function gatewayIsOpen() {
    try {
      const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: OPEN_PROBE }) });
      const body = await res.json();
      return res.ok && !(body.errors && body.errors.length);
    } catch {
      return false;
    }
  }

  input.value = localStorage.getItem(KEY_STORAGE) || '';
  $('connect').addEventListener('click', connect);
  $('disconnect').addEventListener('click', () => {
    disconnect();
    localStorage.removeItem(CONNECTED_STORAGE);
    status.textContent = 'Not connected';
    $('disconnect').hidden = true;
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') connect();
  });
  $('refresh').addEventListener('click', () => void loadDeliveries());
  $('filter').addEventListener('change', () => void loadDeliveries());
  if (input.value || localStorage.getItem(CONNECTED_STORAGE)) connect();
  else
    void gatewayIsOpen().then((open) => {
      if (open && !ws) connect();
    });
})();
