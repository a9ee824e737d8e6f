// graphql-ws on /graphql: auth in connection_init, live events with their
// conversation/contact/sender resolvable, filters, and no listener left behind.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeId } from '../src/ids.js';
import { collect, openAcknowledged, until, useTestGateway } from './helpers/gateway.js';

describe('subscriptions', () => {
  it('closes the socket with 4403 for a missing or wrong key and runs no subscription', async () => {
    const t = await useTestGateway();
    for (const params of [{}, { authorization: 'Bearer wrong' }]) {
      const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: params })));
      // Subscribe only once acknowledged (which must not happen).
      socket.on('message', (m) => {
        if (JSON.parse(String(m)).type === 'connection_ack') {
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { messageSent { id } }' } }));
        }
      });
      expect(await closed).toBe(4403);
    }
    expect(t.gateway.pubsub.listenerCount()).toBe(0);
  });

  it('delivers an emulator webhook as messageReceived with conversation, contact and sender resolved', async () => {
    const t = await useTestGateway();
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const sub = collect<{
      messageReceived: {
        provider: string;
        type: string;
        receivedAt: string;
        message: { providerId: string; direction: string; conversation: { providerId: string; contact: { name: string } }; sender: { __typename: string } };
      };
    }>(
      t.ws(),
      `subscription { messageReceived(filter: { provider: PODIUM }) {
        provider type receivedAt
        message { providerId direction conversation { providerId contact { name } } sender { __typename } }
      } }`,
    );
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the subscription to register');
    const emitted = await t.podium.emitMessageEvent('RECEIVED');
    expect(emitted.deliveries).toEqual([{ url: `${t.url}/webhooks/podium`, status: 200 }]);
    const [event] = await sub.done;
    expect(event!.messageReceived).toMatchObject({
      provider: 'PODIUM',
      type: 'RECEIVED',
      message: {
        providerId: emitted.messageId?.split('/').pop(),
        direction: 'INBOUND',
        conversation: { providerId: emitted.conversationId },
        sender: { __typename: 'Contact' },
      },
    });
    expect(event!.messageReceived.message.conversation.contact.name).toBeTruthy();
    expect(Date.parse(event!.messageReceived.receivedAt)).not.toBeNaN();
  });

  it('delivers only the events a filter matches', async () => {
    const t = await useTestGateway();
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const [convA, convB] = t.podium.fixtures.conversationIds;
    const filtered = collect<{ messageSent: { message: { conversation: { providerId: string } } } }>(
      t.ws(),
      `subscription($c: ID!) { messageSent(filter: { conversationId: $c }) { message { conversation { providerId } } } }`,
      { c: encodeId('PODIUM', 'Conversation', convB!) },
    );
    const everything = collect<{ messageSent: { message: { conversation: { providerId: string } } } }>(
      t.ws(),
      `subscription { messageSent { message { conversation { providerId } } } }`,
      {},
      2,
    );
    await until(() => t.gateway.pubsub.listenerCount() === 2, 'both subscriptions to register');
    await t.podium.emitMessageEvent('SENT', { conversationId: convA! });
    await t.podium.emitMessageEvent('RECEIVED', { conversationId: convB! });
    await t.podium.emitMessageEvent('SENT', { conversationId: convB! });
    const all = await everything.done;
    expect(all.map((e) => e.messageSent.message.conversation.providerId)).toEqual([convA, convB]);
    const [only] = await filtered.done;
    expect(only!.messageSent.message.conversation.providerId).toBe(convB);
    expect(filtered.results).toHaveLength(1);
  });

  it('leaves no listener behind when a client disconnects abruptly', async () => {
    const t = await useTestGateway();
    const socket = await openAcknowledged(t.url);
    // Two identical operations share one stream (http/fanout.ts); the third has its own.
    for (const [id, query] of [['1', 'subscription { messageSent { id } }'], ['2', 'subscription { messageSent { id } }'], ['3', 'subscription { messageSent { id cursor } }']]) {
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
    }
    await until(() => t.gateway.pubsub.listenerCount() === 2, 'two streams');
    const during = await (await fetch(`${t.url}/metrics`)).text();
    expect(during).toMatch(/^gateway_subscription_groups 2$/m);
    expect(during).toMatch(/^gateway_subscription_group_members 3$/m);
    socket.terminate(); // no close frame, like a dropped network
    await until(() => t.gateway.pubsub.listenerCount() === 0, 'listeners to be removed');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^gateway_subscriptions 0$/m);
    expect(metrics).toMatch(/^gateway_subscription_groups 0$/m);
    expect(metrics).toMatch(/^gateway_subscription_group_members 0$/m);
    expect(metrics).toMatch(/^gateway_websocket_connections 0$/m);
  });
});

describe('business-side messages', () => {
  it('resolves the contact of a Smooch SENT event through its conversation', async () => {
    const { useTestGateway: use } = await import('./helpers/gateway.js');
    const t = await use({ providers: ['SMOOCH'] });
    const smooch = t.emulators.SMOOCH!;
    await smooch.addWebhookTarget(`${t.url}/webhooks/smooch`);
    const emitted = await smooch.emitMessageEvent('SENT');
    expect(emitted.deliveries.map((d) => d.status)).toEqual([200]);
    const res = await t.gql<{ messageEvents: { edges: Array<{ node: { type: string; message: { contact: { providerId: string } | null } } }> } }>(
      '{ messageEvents(filter: { provider: SMOOCH, type: SENT }) { edges { node { type message { contact { providerId } } } } } }',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.messageEvents.edges[0]?.node.message.contact?.providerId).toMatch(/^[0-9a-f]{24}$/);
  });
});
