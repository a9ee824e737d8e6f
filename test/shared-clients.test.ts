// One MongoClient and one Redis pair per gateway: after queries, a subscription and a webhook,
// a gateway configured with MONGODB_URL and REDIS_URL holds two Redis connections, and its
// parts keep working on the shared clients; closing it closes them.
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRedis } from './setup/ferretdb.js';
import { collect, mongoTestDb, until, useTestGateway } from './helpers/gateway.js';

/** Connections to a private redis-server other than the observer's own. */
async function gatewayConnections(observer: Redis): Promise<string[]> {
  const self = String(await observer.client('ID'));
  const list = String(await observer.client('LIST'));
  return list.split('\n').filter((line) => line.startsWith('id=') && !line.startsWith(`id=${self} `));
}

describe('shared clients', () => {
  it('serves queries, subscriptions and webhooks over one Redis pair and one database, and closes them', async () => {
    // A redis-server of this test's own, so every connection on it is the gateway's.
    const redis = await startRedis();
    onTestFinished(() => redis.stop());
    const mongo = mongoTestDb();
    const t = await useTestGateway({ env: { MONGODB_URL: mongo.url, MONGODB_DB: mongo.db, REDIS_URL: redis.url } });
    const observer = new Redis(redis.url);
    onTestFinished(() => void observer.quit());

    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    const query = await t.gql<{ contacts: { edges: unknown[] } }>('{ contacts(provider: PODIUM, first: 3) { edges { node { id name } } } }');
    expect(query.errors).toBeUndefined();
    expect(query.data?.contacts.edges).toHaveLength(3);
    const sub = collect(t.ws(), 'subscription { messageReceived { id cursor } }');
    await until(() => t.gateway.pubsub.listenerCount() === 1, 'the subscription to register');
    const emitted = await t.podium.emitMessageEvent('RECEIVED');
    expect(emitted.deliveries[0]?.status).toBe(200);
    await sub.done;

    // The event went through the shared database: it is stored there.
    const reader = new MongoClient(mongo.url);
    onTestFinished(() => reader.close());
    expect(await reader.db(mongo.db).collection('events').countDocuments()).toBeGreaterThan(0);
    const open = await gatewayConnections(observer);
    expect(open).toHaveLength(2);
    expect(open.every((line) => line.includes(` name=${t.gateway.redisClientName} `))).toBe(true);

    await t.close();
    await until(async () => (await gatewayConnections(observer)).length === 0, 'the shared connections to close');
  });
});
