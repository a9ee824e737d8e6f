// Webhook subscription admin through Podium's /v4/webhooks, mirrored in MongoDB;
// input validated before any upstream call; the secret is write-only.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useTestGateway } from './helpers/gateway.js';

const FIELDS = 'id providerId provider url eventTypes locationId organizationId disabled hasSecret editable';

describe('webhook admin over Podium', () => {
  let mongo: MongoClient;
  beforeAll(async () => {
    mongo = new MongoClient(inject('mongodbUrl'));
    await mongo.connect();
  });
  afterAll(() => mongo.close());

  it('creates, lists, updates and deletes a webhook at Podium, mirrors it with its secret, and never returns the secret', async () => {
    const t = await useTestGateway({ mongo: true });
    const locationId = t.podium.fixtures.locationIds[0]!;
    const created = await t.gql<{ createWebhook: Record<string, unknown> }>(
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { ${FIELDS} } }`,
      { input: { provider: 'PODIUM', url: 'https://hooks.example.com/podium', eventTypes: ['message.sent', 'message.failed'], locationId, secret: 's3cret-value' } },
    );
    expect(created.errors).toBeUndefined();
    const hook = created.data!.createWebhook;
    expect(hook).toMatchObject({ provider: 'PODIUM', url: 'https://hooks.example.com/podium', locationId, disabled: false, hasSecret: true, editable: true });
    expect(JSON.stringify(created)).not.toContain('s3cret-value');

    const mirrored = await mongo.db(t.config.mongodbDb).collection('webhooks').findOne({ provider: 'PODIUM', id: hook.providerId });
    expect(mirrored).toMatchObject({ url: 'https://hooks.example.com/podium', secret: 's3cret-value' });

    const listed = await t.gql<{ webhooks: Array<{ providerId: string; hasSecret: boolean }> }>(`{ webhooks(provider: PODIUM) { ${FIELDS} } }`);
    expect(listed.data!.webhooks.map((w) => w.providerId)).toContain(hook.providerId);

    const updated = await t.gql<{ updateWebhook: Record<string, unknown> }>(
      `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { ${FIELDS} } }`,
      { id: hook.id, input: { disabled: true, eventTypes: ['message.received'] } },
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateWebhook).toMatchObject({ disabled: true, eventTypes: ['message.received'], hasSecret: true });
    const fetched = await t.gql<{ webhook: Record<string, unknown> }>(`query($id: ID!) { webhook(id: $id) { ${FIELDS} } }`, { id: hook.id });
    expect(fetched.data!.webhook).toMatchObject({ disabled: true, url: 'https://hooks.example.com/podium' });

    const deleted = await t.gql<{ deleteWebhook: { providerId: string } }>(`mutation($id: ID!) { deleteWebhook(id: $id) { providerId } }`, { id: hook.id });
    expect(deleted.data!.deleteWebhook.providerId).toBe(hook.providerId);
    expect(await mongo.db(t.config.mongodbDb).collection('webhooks').countDocuments({ id: hook.providerId })).toBe(0);
    const gone = await t.gql<{ webhook: unknown }>(`query($id: ID!) { webhook(id: $id) { id } }`, { id: hook.id });
    expect(gone.data!.webhook).toBeNull();
    const again = await t.gql(`mutation($id: ID!) { deleteWebhook(id: $id) { id } }`, { id: hook.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('rejects bad input with BAD_USER_INPUT before any Podium call', async () => {
    const t = await useTestGateway();
    const locationId = t.podium.fixtures.locationIds[0]!;
    const create = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`;
    const bad = [
      { provider: 'PODIUM', url: 'http://hooks.example.com/x', eventTypes: ['message.sent'], locationId }, // not https
      { provider: 'PODIUM', url: 'not a url', eventTypes: ['message.sent'], locationId },
      { provider: 'PODIUM', url: 'https://hooks.example.com/x', eventTypes: [], locationId },
      { provider: 'PODIUM', url: 'https://hooks.example.com/x', eventTypes: ['message.exploded'], locationId },
      { provider: 'PODIUM', url: 'https://hooks.example.com/x', eventTypes: ['message.sent'] }, // no location or organization
    ];
    t.podium.resetRequests();
    for (const input of bad) {
      const res = await t.gql(create, { input });
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
    }
    const unknownField = await t.gql(create, { input: { ...bad[0], url: 'https://hooks.example.com/x', color: 'red' } });
    expect(unknownField.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const emptyUpdate = await t.gql(`mutation { updateWebhook(id: "UE9ESVVNOldlYmhvb2s6eA", input: {}) { id } }`);
    expect(emptyUpdate.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(t.podium.requestCount()).toBe(0);
  });
});
