// Sending from stored accounts (connected by OAuth, on FerretDB): the account
// is the recipient id's own, webhooks routed to that account move its sends,
// keys are scoped per account, and a tenant's agent key cannot send into
// another tenant's conversation (refused like an unknown id).
import { describe, expect, it } from 'vitest';
import { connectAll, newStore, useAccountsGateway, useEmulators, type AccountsGateway } from './helpers/accounts.js';
import { until } from './helpers/gateway.js';
import { SEND, type SendAnswer } from './helpers/outbound.js';

async function smsConversation(t: AccountsGateway, account: string): Promise<string> {
  const res = await t.gql<{ conversations: { edges: Array<{ node: { id: string; channel: string; contactName: string | null } }> } }>(
    'query($a: ID) { conversations(provider: PODIUM, account: $a, first: 50) { edges { node { id channel contactName } } } }',
    { a: account },
  );
  const found = res.data?.conversations.edges.map((e) => e.node).find((c) => c.channel === 'SMS' && c.contactName !== 'Lana Landline');
  if (!found) throw new Error(`no SMS conversation of ${account}: ${JSON.stringify(res.errors)}`);
  return found.id;
}

describe('sending from stored accounts', () => {
  it("sends from the recipient's account, follows its routed webhooks, scopes keys per account and refuses another tenant's conversation", async () => {
    const emus = await useEmulators();
    const t = await useAccountsGateway(emus, newStore());
    const a = await connectAll(t, emus);
    const hook = await t.gql('mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }', {
      i: { provider: 'PODIUM', account: a.podiumB, url: `${t.url}/webhooks/podium`, eventTypes: ['message.sent', 'message.failed'], organizationId: a.orgB.uid, secret: 'secret-of-b' },
    });
    expect(hook.errors).toBeUndefined();
    const inA = await smsConversation(t, a.podiumA);
    const inB = await smsConversation(t, a.podiumB);

    emus.podium.failNextDeliveries(1, 'Unreachable handset');
    const sent = await t.gql<SendAnswer>(SEND, { i: { to: { conversationId: inB }, body: 'From the dental office', idempotencyKey: 'shared-key' } });
    expect(sent.data!.sendMessage.userErrors).toEqual([]);
    const outbound = sent.data!.sendMessage.outboundMessage!;
    expect(outbound).toMatchObject({ status: 'SENT', account: { id: a.podiumB }, conversation: { id: inB } });
    const status = async (): Promise<{ status: string; failureReason: string | null }> =>
      (await t.gql<{ node: { status: string; failureReason: string | null } }>('query($id: ID!) { node(id: $id) { ... on OutboundMessage { status failureReason } } }', { id: outbound.id })).data!.node;
    await until(async () => (await status()).status === 'FAILED', "account B's send FAILED by its routed webhook");
    expect((await status()).failureReason).toBe('Unreachable handset');

    // The same key in another account is another send.
    const inOther = await t.gql<SendAnswer>(SEND, { i: { to: { conversationId: inA }, body: 'From the garage', idempotencyKey: 'shared-key' } });
    expect(inOther.data!.sendMessage.outboundMessage).toMatchObject({ status: 'SENT', account: { id: a.podiumA } });
    expect(emus.podium.sendCount()).toBe(2);

    // A tenant's agent key of account A: B's conversation is as unknown as one that does not exist.
    const created = await t.gql<{ createApiKey: { key: string } }>('mutation($a: [ID!]) { createApiKey(role: AGENT, accounts: $a) { key } }', { a: [a.podiumA] });
    const key = created.data!.createApiKey.key;
    const foreign = await t.gql<SendAnswer>(SEND, { i: { to: { conversationId: inB }, body: 'Not mine', idempotencyKey: 'tenant-1' } }, key);
    expect(foreign.data!.sendMessage).toEqual({ outboundMessage: null, userErrors: [{ code: 'INVALID_RECIPIENT', field: ['input', 'to', 'conversationId'], message: 'No such conversation' }] });
    const own = await t.gql<SendAnswer>(SEND, { i: { to: { conversationId: inA }, body: 'Mine', idempotencyKey: 'tenant-1' } }, key);
    expect(own.data!.sendMessage.outboundMessage).toMatchObject({ status: 'SENT', account: { id: a.podiumA } });
    expect(emus.podium.sendCount()).toBe(3);
  });
});
