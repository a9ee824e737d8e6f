// close(): a connection that never sends a request does not hold the shutdown until Node's 60 s
// headers timeout; it is closed once the grace period for in-flight requests is over.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from './helpers/gateway.js';

describe('shutdown', () => {
  it('closes a connection that never sent a request once the grace period is over, and finishes the close', async () => {
    const t = await useTestGateway({ closeGraceMs: 200 });
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const answered = await t.gql('{ contacts(provider: PODIUM, first: 1) { edges { node { id } } } }');
    expect(answered.status).toBe(200);
    await t.close();
    await socketClosed;
    expect(socket.destroyed).toBe(true);
  });
});
