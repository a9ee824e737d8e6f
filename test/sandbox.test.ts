// What the user configures always wins: the sandbox fills in only the API part
// of a provider that has none, and a webhook secret alone is a real
// receive-only deployment.
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startSandbox } from '../src/sandbox/index.js';
import { startPodiumEmulator } from '../src/sandbox/podium/index.js';
import { createGateway } from '../src/server.js';

describe('sandbox and partial configuration', () => {
  it('keeps a configured Podium webhook secret, emulates only the API, and the emulator signs with that secret', async () => {
    const sandbox = await startSandbox(loadConfig({ NODE_ENV: 'test', PODIUM_WEBHOOK_SECRET: 'my-own-secret' }));
    onTestFinished(() => sandbox.close());
    expect(sandbox.sources.get('PODIUM')).toEqual({ api: 'emulated', webhooks: 'configured' });
    expect(sandbox.sources.get('SMOOCH')).toEqual({ api: 'emulated', webhooks: 'emulated' });
    expect(sandbox.config.podium?.webhookSecret).toBe('my-own-secret');
    const gateway = createGateway(sandbox.config);
    onTestFinished(() => gateway.close());
    const url = await gateway.listen(0, '127.0.0.1');
    await sandbox.connect(url);
    const podium = sandbox.emulators.get('PODIUM');
    const emitted = await podium!.emitMessageEvent('RECEIVED');
    expect(emitted.deliveries).toEqual([{ url: `${url}/webhooks/podium`, status: 200 }]);
    // A delivery signed with the emulator's default secret is not authentic here.
    const other = await startPodiumEmulator();
    onTestFinished(() => other.close());
    const res = await fetch(`${url}/webhooks/podium`, { method: 'POST', headers: { 'content-type': 'application/json', ...other.signWebhook(emitted.rawBody) }, body: emitted.rawBody });
    expect(res.status).toBe(401);
  });

  it('receives webhooks of a provider with only a secret configured and answers its queries PROVIDER_NOT_CONFIGURED', async () => {
    const signer = await startPodiumEmulator({ webhookSecret: 'receive-only-secret' });
    onTestFinished(() => signer.close());
    const gateway = createGateway(loadConfig({ NODE_ENV: 'test', GATEWAY_SANDBOX: 'false', PODIUM_WEBHOOK_SECRET: 'receive-only-secret' }));
    onTestFinished(() => gateway.close());
    const url = await gateway.listen(0, '127.0.0.1');
    const raw = JSON.stringify({ data: { uid: 'b5de248b-3583-4b65-8ab9-042391b06857', body: 'hi', conversation: { uid: signer.fixtures.conversationIds[0] } }, metadata: { eventType: 'message.received', eventUid: 'receive-only-1' } });
    const delivered = await fetch(`${url}/webhooks/podium`, { method: 'POST', headers: { 'content-type': 'application/json', ...signer.signWebhook(raw) }, body: raw });
    expect(delivered.status).toBe(200);
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ users(provider: PODIUM, first: 1) { edges { cursor } } }' }) });
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body.errors[0]?.extensions.code).toBe('PROVIDER_NOT_CONFIGURED');
    expect(body.errors[0]?.message).toContain('PODIUM_ACCESS_TOKEN');
  });
});
