// sendMessage refusals through the real gateway: every bad input is a user
// error naming its field, with nothing sent upstream (the emulator counts the
// POSTs) and nothing stored; a viewer key is FORBIDDEN; a tenant's key cannot
// reach another account's conversation; a key replays, never sends twice.
import { describe, expect, it } from 'vitest';
import { encodeId } from '../src/ids.js';
import { collect, until, useTestGateway, VIEWER_KEY, type TestGateway } from './helpers/gateway.js';
import { AGENT_KEY, contactId, conversationOn, KEYS_ENV, send } from './helpers/outbound.js';

const posts = (t: TestGateway): number => t.podium.requestCount({ method: 'POST', pathPrefix: '/v4/messages' });

async function refused(t: TestGateway, input: Record<string, unknown>, code: string, field: string[]): Promise<void> {
  const before = posts(t);
  const res = await send(t, input);
  expect(res.errors).toBeUndefined();
  expect(res.data?.sendMessage.outboundMessage).toBeNull();
  expect(res.data?.sendMessage.userErrors).toEqual([{ code, field, message: expect.any(String) }]);
  expect(posts(t)).toBe(before);
  const key = String(input.idempotencyKey ?? '');
  if (key) expect(await t.gateway.outbound.store.findByKey('PODIUM:env', key)).toBeNull();
}

describe('sendMessage input', () => {
  it('refuses every bad input as a user error naming the field, sending and storing nothing', async () => {
    const t = await useTestGateway({ env: KEYS_ENV });
    const sms = await conversationOn(t, 'PODIUM', 'SMS');
    const facebook = await conversationOn(t, 'PODIUM', 'FACEBOOK');
    const to = { conversationId: sms.id };
    await refused(t, { to, body: '', idempotencyKey: 'k-empty' }, 'BODY_EMPTY', ['input', 'body']);
    await refused(t, { to, body: '  \n\t ', idempotencyKey: 'k-blank' }, 'BODY_EMPTY', ['input', 'body']);
    await refused(t, { to, idempotencyKey: 'k-none' }, 'BODY_EMPTY', ['input', 'body']);
    await refused(t, { to, body: 'x'.repeat(1_601), idempotencyKey: 'k-long' }, 'BODY_TOO_LONG', ['input', 'body']);
    await refused(t, { to, body: 'hi', attachments: [{ url: 'https://example.com/a.png' }], idempotencyKey: 'k-att' }, 'ATTACHMENTS_UNSUPPORTED', ['input', 'attachments']);
    await refused(t, { to, body: 'hi', subject: 'Re: your car', idempotencyKey: 'k-subj' }, 'ATTACHMENTS_UNSUPPORTED', ['input', 'subject']);
    await refused(t, { to: { conversationId: facebook.id }, body: 'hi', idempotencyKey: 'k-fb' }, 'CHANNEL_UNSUPPORTED', ['input', 'to', 'conversationId']);
    await refused(t, { to: { contact: { contactId: sms.contactId, channel: 'WHATSAPP' } }, body: 'hi', idempotencyKey: 'k-wa' }, 'CHANNEL_UNSUPPORTED', ['input', 'to', 'contact', 'channel']);
    await refused(t, { to: { conversationId: 'not-an-id' }, body: 'hi', idempotencyKey: 'k-bad' }, 'INVALID_RECIPIENT', ['input', 'to', 'conversationId']);
    await refused(t, { to: { conversationId: sms.contactId }, body: 'hi', idempotencyKey: 'k-type' }, 'INVALID_RECIPIENT', ['input', 'to', 'conversationId']);
    const unknown = encodeId('PODIUM', 'Conversation', '00000000-0000-4000-8000-000000000000');
    await refused(t, { to: { conversationId: unknown }, body: 'hi', idempotencyKey: 'k-unknown' }, 'INVALID_RECIPIENT', ['input', 'to', 'conversationId']);
    await refused(t, { to: { contact: { contactId: contactId('PODIUM', '00000000-0000-4000-8000-000000000000'), channel: 'SMS' } }, body: 'hi', idempotencyKey: 'k-c' }, 'INVALID_RECIPIENT', ['input', 'to', 'contact', 'contactId']);
    const smooch = encodeId('SMOOCH', 'Conversation', 'a'.repeat(24));
    await refused(t, { to: { conversationId: smooch }, body: 'hi', idempotencyKey: 'k-smooch' }, 'INVALID_RECIPIENT', ['input', 'to', 'conversationId']);
    await refused(t, { to, body: 'hi', idempotencyKey: '' }, 'INVALID_IDEMPOTENCY_KEY', ['input', 'idempotencyKey']);
    await refused(t, { to, body: 'hi', idempotencyKey: 'k'.repeat(256) }, 'INVALID_IDEMPOTENCY_KEY', ['input', 'idempotencyKey']);
  });

  it('refuses a channel the contact has no address for (CONTACT_HAS_NO_ADDRESS), sending nothing', async () => {
    const t = await useTestGateway({ env: KEYS_ENV, providers: ['LEADCONNECTOR'] });
    const res = await t.gql<{ contacts: { edges: Array<{ node: { id: string; emails: string[] } }> } }>('{ contacts(provider: LEADCONNECTOR, first: 100) { edges { node { id emails } } } }');
    const noEmail = res.data!.contacts.edges.map((e) => e.node).find((c) => c.emails.length === 0);
    expect(noEmail).toBeDefined();
    const answer = await send(t, { to: { contact: { contactId: noEmail!.id, channel: 'EMAIL' } }, subject: 'Hello', body: 'hi', idempotencyKey: 'no-address' });
    expect(answer.data?.sendMessage).toEqual({ outboundMessage: null, userErrors: [{ code: 'CONTACT_HAS_NO_ADDRESS', field: ['input', 'to', 'contact', 'channel'], message: expect.any(String) }] });
    expect(t.emulators.LEADCONNECTOR!.sendCount()).toBe(0);
    expect(await t.gateway.outbound.store.findByKey('LEADCONNECTOR:env', 'no-address')).toBeNull();
  });

  it('refuses both and neither recipients in GraphQL validation (@oneOf), before any resolver', async () => {
    const t = await useTestGateway({ env: KEYS_ENV });
    const sms = await conversationOn(t, 'PODIUM', 'SMS');
    const both = await send(t, { to: { conversationId: sms.id, contact: { contactId: sms.contactId, channel: 'SMS' } }, body: 'hi', idempotencyKey: 'k1' });
    const neither = await send(t, { to: {}, body: 'hi', idempotencyKey: 'k2' });
    for (const res of [both, neither]) {
      expect(res.data).toBeNull();
      expect(res.errors?.[0]?.message).toMatch(/exactly one key/i);
    }
    expect(posts(t)).toBe(0);
  });

  it('answers outboundMessageUpdated with a malformed cursor or an id of another type BAD_USER_INPUT, on graphql-ws', async () => {
    const t = await useTestGateway({ env: KEYS_ENV });
    const sms = await conversationOn(t, 'PODIUM', 'SMS');
    const cases: Array<[string, Record<string, unknown>]> = [
      ['subscription($a: String) { outboundMessageUpdated(after: $a) { cursor } }', { a: 'not-a-cursor' }],
      ['subscription($ids: [ID!]) { outboundMessageUpdated(ids: $ids) { cursor } }', { ids: [sms.id] }],
      ['subscription($c: ID) { outboundMessageUpdated(filter: { conversationId: $c }) { cursor } }', { c: 'garbage' }],
    ];
    for (const [query, variables] of cases) {
      await expect(collect(t.ws(AGENT_KEY), query, variables).done, query).rejects.toThrow(/BAD_USER_INPUT/);
    }
  });

  it('lets an agent key read and send but nothing an admin alone may do', async () => {
    const t = await useTestGateway({ env: KEYS_ENV });
    const read = await t.gql('{ conversations(provider: PODIUM, first: 1) { edges { node { id } } } }', {}, AGENT_KEY);
    expect(read.errors).toBeUndefined();
    const admin = await t.gql('mutation { createApiKey(role: VIEWER) { id } }', {}, AGENT_KEY);
    expect(admin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Refused before any resolver, naming the role that would let it through; a fragment hides nothing.
    expect(admin.errors?.[0]?.message).toBe('This needs the admin role; the key presented has the agent role');
    // A send beside an admin field (even behind a fragment) is refused whole: nothing is sent.
    const sms = await conversationOn(t, 'PODIUM', 'SMS');
    const mixed = await t.gql(
      `mutation($c: ID!) { sendMessage(input: { to: { conversationId: $c }, body: "hi", idempotencyKey: "mixed" }) { outboundMessage { id } } ...M }
       fragment M on Mutation { revokeApiKey(id: "x") }`,
      { c: sms.id },
      AGENT_KEY,
    );
    expect(mixed.errors?.[0]?.message).toBe('This needs the admin role; the key presented has the agent role');
    expect(posts(t)).toBe(0);
    const events = await t.gql('{ messageEvents(first: 1) { edges { node { id } } } }', {}, AGENT_KEY);
    expect(events.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('answers a viewer key FORBIDDEN at the top level, sending nothing', async () => {
    const t = await useTestGateway({ env: KEYS_ENV });
    const sms = await conversationOn(t, 'PODIUM', 'SMS');
    const res = await send(t, { to: { conversationId: sms.id }, body: 'hi', idempotencyKey: 'k-viewer' }, VIEWER_KEY);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.data).toBeNull();
    expect(posts(t)).toBe(0);
  });

  it("refuses a tenant's key sending into another account's conversation exactly like an unknown one", async () => {
    const t = await useTestGateway({ env: KEYS_ENV, providers: ['PODIUM', 'LEADCONNECTOR'] });
    const sms = await conversationOn(t, 'PODIUM', 'SMS');
    const created = await t.gql<{ createApiKey: { key: string } }>('mutation($a: [ID!]) { createApiKey(role: AGENT, accounts: $a) { key role } }', {
      a: [encodeId('LEADCONNECTOR', 'Account', 'env')],
    });
    const key = created.data!.createApiKey.key;
    const foreign = await send(t, { to: { conversationId: sms.id }, body: 'hi', idempotencyKey: 'k-tenant' }, key);
    const unknown = await send(t, { to: { conversationId: encodeId('PODIUM', 'Conversation', '00000000-0000-4000-8000-000000000000') }, body: 'hi', idempotencyKey: 'k-tenant' }, key);
    expect(foreign.data?.sendMessage).toEqual(unknown.data?.sendMessage);
    expect(foreign.data?.sendMessage.userErrors[0]?.code).toBe('INVALID_RECIPIENT');
    expect(posts(t)).toBe(0);
  });

  it("shows a tenant's key only its own accounts' sends in outboundMessageUpdated", async () => {
    const t = await useTestGateway({ env: KEYS_ENV, providers: ['PODIUM', 'LEADCONNECTOR'] });
    const podium = await conversationOn(t, 'PODIUM', 'SMS');
    const lc = await conversationOn(t, 'LEADCONNECTOR', 'SMS');
    const created = await t.gql<{ createApiKey: { key: string } }>('mutation($a: [ID!]) { createApiKey(role: VIEWER, accounts: $a) { key } }', {
      a: [encodeId('LEADCONNECTOR', 'Account', 'env')],
    });
    const updates = collect<{ outboundMessageUpdated: { outboundMessage: { provider: string; body: string } } }>(
      t.ws(created.data!.createApiKey.key),
      'subscription { outboundMessageUpdated { outboundMessage { provider body } } }',
    );
    await until(() => t.gateway.outbound.bus.listenerCount() > 0, 'the outboundMessageUpdated subscription');
    await send(t, { to: { conversationId: podium.id }, body: 'For Podium only', idempotencyKey: 'iso-1' });
    await send(t, { to: { conversationId: lc.id }, body: 'For HighLevel', idempotencyKey: 'iso-2' });
    const [first] = await updates.done;
    expect(first!.outboundMessageUpdated.outboundMessage).toEqual({ provider: 'LEADCONNECTOR', body: 'For HighLevel' });
  });
});
