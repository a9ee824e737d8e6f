// The fan-out's direct frame write (src/http/ws-frame.ts) reads private fields
// of `ws`: this pins the version they were read from, and checks against a real
// server and client that the frames it writes arrive whole and in order with
// what ws itself sends.
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { writeTextFrame } from '../src/http/ws-frame.js';

describe('direct ws frames', () => {
  it('is used with the ws version whose internals it reads (8.23.0); upgrade ws only after re-checking ws-frame.ts', () => {
    const { version } = createRequire(import.meta.url)('ws/package.json') as { version: string };
    expect(version).toBe('8.23.0');
  });

  it('writes text frames of every length class that a ws client reads whole, in order with ws.send', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    onTestFinished(() => client.terminate());
    const received: string[] = [];
    const lengths = [10, 200, 70_000];
    const all = new Promise<void>((resolve) =>
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        received.push(String(data));
        if (received.length === lengths.length + 1) resolve();
      }),
    );
    const socket = await serverSide;
    socket.send('first, through ws');
    for (const n of lengths) expect(writeTextFrame(socket, Buffer.from('{"n":'), Buffer.from(`"${'x'.repeat(n)}"}`))).toBe(true);
    await all;
    expect(received[0]).toBe('first, through ws');
    expect(received.slice(1).map((m) => (JSON.parse(m) as { n: string }).n.length)).toEqual(lengths);
  });
});
