// One webhook verification policy for every provider: with a secret or key
// configured or stored, a delivery must verify; with none, it is accepted
// unsigned only when unsigned deliveries are allowed (development), otherwise
// refused naming the variable to set. HighLevel's keys are always configured.
import { describe, expect, it } from 'vitest';
import type { VerifyContext, WebhookReceiver, WebhookRequest } from '../../src/providers/provider.js';
import { createLeadConnectorReceiver } from '../../src/providers/leadconnector/webhooks.js';
import { createPodiumReceiver, podiumSignature } from '../../src/providers/podium/webhooks.js';
import { createSmoochReceiver } from '../../src/providers/smooch/webhooks.js';
import { generateKeyPairSync } from 'node:crypto';

const raw = JSON.stringify({ data: { uid: 'm1' }, metadata: { eventType: 'message.received' } });
const none: VerifyContext = { storedSecrets: async () => [] };
const stored = (secret: string): VerifyContext => ({ storedSecrets: async () => [secret] });

function request(headers: Record<string, string> = {}, body = raw): WebhookRequest {
  return { headers, rawBody: Buffer.from(body), receivedAt: new Date() };
}

function podiumSigned(secret: string): WebhookRequest {
  const ts = String(Date.now());
  return request({ 'podium-timestamp': ts, 'podium-signature': podiumSignature(secret, ts, Buffer.from(raw)) });
}

interface Case {
  readonly name: string;
  readonly variable: string;
  receiver(secret: string | null, allowUnsigned: boolean): WebhookReceiver;
  signed(secret: string): WebhookRequest;
  /** A delivery carrying a signature no known secret made. */
  forged(): WebhookRequest;
}

const cases: readonly Case[] = [
  {
    name: 'Podium',
    variable: 'PODIUM_WEBHOOK_SECRET',
    receiver: (secret, allowUnsigned) => createPodiumReceiver({ webhookSecret: secret, webhookToleranceMs: 300_000 }, { allowUnsignedWebhooks: allowUnsigned }),
    signed: podiumSigned,
    forged: () => podiumSigned('garbage'),
  },
  {
    name: 'Smooch',
    variable: 'SMOOCH_WEBHOOK_SECRET',
    receiver: (secret, allowUnsigned) => createSmoochReceiver({ webhookSecret: secret }, { allowUnsignedWebhooks: allowUnsigned }),
    signed: (secret) => request({ 'x-api-key': secret }),
    forged: () => request({ 'x-api-key': 'garbage' }),
  },
];

describe.each(cases)('$name webhook verification policy', (c) => {
  for (const allowUnsigned of [true, false]) {
    describe(`unsigned deliveries ${allowUnsigned ? 'allowed' : 'not allowed'}`, () => {
      it('with a configured secret: accepts a delivery that verifies, refuses an unsigned or forged one', async () => {
        const receiver = c.receiver('configured', allowUnsigned);
        expect(await receiver.verify(c.signed('configured'), none)).toEqual({ ok: true });
        expect(await receiver.verify(request(), none)).toMatchObject({ ok: false });
        expect(await receiver.verify(c.forged(), none)).toMatchObject({ ok: false });
        expect(receiver.verification).toMatch(/with 1 configured secret plus stored secrets$/);
      });

      it('with only a stored secret: the same, against the stored one', async () => {
        const receiver = c.receiver(null, allowUnsigned);
        expect(await receiver.verify(c.signed('stored'), stored('stored'))).toEqual({ ok: true });
        expect(await receiver.verify(request(), stored('stored'))).toMatchObject({ ok: false });
        expect(await receiver.verify(c.forged(), stored('stored'))).toMatchObject({ ok: false });
      });

      it(`with no secret at all: ${allowUnsigned ? 'accepts unsigned and signed deliveries alike' : 'refuses every delivery, naming the variable to set'}`, async () => {
        const receiver = c.receiver(null, allowUnsigned);
        for (const delivery of [request(), c.forged()]) {
          const result = await receiver.verify(delivery, none);
          if (allowUnsigned) expect(result).toEqual({ ok: true });
          else expect(result).toMatchObject({ ok: false, reason: expect.stringContaining(`set ${c.variable}`) });
        }
        expect(receiver.verification).toMatch(allowUnsigned ? /unsigned accepted while none is stored/ : new RegExp(`refused while none is stored \\(set ${c.variable}\\)`));
      });
    });
  }
});

describe('HighLevel webhook verification policy', () => {
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const config = {
    webhookEd25519PublicKey: ed.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    webhookPublicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    webhookToleranceMs: 300_000,
  };

  it('always verifies, whether or not unsigned deliveries are allowed: its public keys are always configured', async () => {
    for (const allowUnsigned of [true, false]) {
      const receiver = createLeadConnectorReceiver(config, { allowUnsignedWebhooks: allowUnsigned });
      expect(await receiver.verify(request({}, '{"type":"InboundMessage"}'), none)).toMatchObject({ ok: false });
      expect(receiver.verification).toMatch(/with 2 configured keys$/);
    }
  });
});
