// The explorer: GraphiQL (the graphiql package's own UMD build, React from npm)
// over this gateway's /graphql. Queries and mutations are POSTed with
// `Authorization: Bearer <key>`; subscriptions go over graphql-ws on the same
// path, with the key as `connectionParams.authorization`. The key lives in this
// browser's localStorage only.
/* global React, ReactDOM, GraphiQL, graphqlWs */
(function () {
  'use strict';
  const KEY_STORAGE = 'gateway.apiKey';
  const input = document.getElementById('api-key');
  const status = document.getElementById('key-status');

  const EXAMPLES = [
    {
      query: `# The inbox: the latest Podium conversations, their contact, assignee and last messages.
query Inbox {
  conversations(provider: PODIUM, first: 50) {
    edges {
      node {
        id
        contact { name }
        assignedUser { name }
        messages(first: 10) {
          edges {
            node {
              id
              body
              sender {
                __typename
                ... on User { name }
                ... on Contact { name }
              }
            }
          }
        }
      }
    }
  }
}
`,
    },
    {
      query: `# Live messages from contacts (graphql-ws). Pass a cursor you received as
# "after" to get everything stored since, then live.
subscription Received($after: String) {
  messageReceived(after: $after) {
    id
    provider
    providerEventType
    receivedAt
    cursor
    message { id body conversation { id } }
  }
}
`,
      variables: '{ "after": null }',
    },
    {
      query: `# Creates a Podium webhook subscription (admin key).
mutation CreateWebhook($input: CreateWebhookInput!) {
  createWebhook(input: $input) { id url eventTypes hasSecret disabled }
}
`,
      variables: JSON.stringify(
        {
          input: {
            provider: 'PODIUM',
            url: 'https://hooks.example.com/podium',
            eventTypes: ['message.received', 'message.sent'],
            locationId: '9fdd3dfd-b766-4dad-b3ec-b1ebd5ef1d0a',
            secret: 'change-me',
          },
        },
        null,
        2,
      ),
    },
  ];

  /** The operations of a document as [type, name] pairs: a top-level scan that skips comments, strings and selections. */
  function operationsIn(query) {
    const found = [];
    let depth = 0;
    let named = false; // a keyword at the top level whose selection set is still ahead
    for (let i = 0; i < query.length; i += 1) {
      const c = query[i];
      if (c === '#') {
        const end = query.indexOf('\n', i);
        i = end < 0 ? query.length : end;
      } else if (c === '"') {
        const block = query.startsWith('"""', i);
        const rest = block ? query.indexOf('"""', i + 3) : query.slice(i + 1).search(/(?<!\\)"/);
        if (rest < 0) break;
        i = block ? rest + 2 : i + 1 + rest;
      } else if (c === '{' || c === '(') {
        if (depth === 0 && c === '{') {
          if (!named) found.push(['query', null]);
          named = false;
        }
        depth += 1;
      } else if (c === '}' || c === ')') depth -= 1;
      else if (depth === 0 && !/[_0-9A-Za-z]/.test(query[i - 1] || '')) {
        const m = /^(query|mutation|subscription|fragment)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/.exec(query.slice(i));
        if (m) {
          if (m[1] !== 'fragment') found.push([m[1], m[2] || null]);
          named = true;
          i += m[0].length - 1;
        }
      }
    }
    return found;
  }

  /**
   * The operation to run and its type, read from the text sent: right after a
   * tab switch GraphiQL may still pass the previous tab's operation name and
   * parsed document. A document with one operation runs that one.
   */
  function resolve(params) {
    const operations = operationsIn(String(params.query || ''));
    const named = operations.find(([, name]) => name !== null && name === params.operationName);
    const chosen = named || (operations.length === 1 ? operations[0] : null);
    const request = Object.assign({}, params, chosen && !named ? { operationName: chosen[1] } : {});
    return { request, type: chosen ? chosen[0] : 'query' };
  }

  let wsClient = null;

  function makeFetcher(key) {
    if (wsClient) wsClient.dispose();
    const authorization = key ? `Bearer ${key}` : null;
    wsClient = graphqlWs.createClient({
      url: `${location.origin.replace(/^http/, 'ws')}/graphql`,
      connectionParams: authorization ? { authorization } : {},
      lazy: true,
      retryAttempts: 0,
    });
    const client = wsClient;
    return function fetcher(params, opts) {
      const { request, type } = resolve(params);
      if (type === 'subscription') return client.iterate(request);
      const headers = Object.assign({ 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' }, (opts && opts.headers) || {});
      if (authorization) headers.authorization = authorization;
      return fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(request) }).then((res) => res.json());
    };
  }

  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  function render(key) {
    status.textContent = key ? 'using the key you entered' : 'no key (works only without GATEWAY_API_KEYS)';
    root.render(
      React.createElement(GraphiQL, {
        // A new fetcher makes GraphiQL load the schema again with the new key.
        key: key || 'no-key',
        fetcher: makeFetcher(key),
        defaultTabs: EXAMPLES,
        defaultEditorToolsVisibility: true,
      }),
    );
  }

  input.value = localStorage.getItem(KEY_STORAGE) || '';
  document.getElementById('use-key').addEventListener('click', () => {
    const key = input.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
    render(key);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') document.getElementById('use-key').click();
  });
  render(input.value.trim());
})();
