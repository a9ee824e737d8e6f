// The one place that reaches into `ws` internals: writing a server text frame
// straight to the TCP socket, one write per event per socket, with no copy of
// the shared payload through ws's sender. Kept only because the public
// `ws.send` path cost more CPU per event in bench:fanout; test/ws-frame.test.ts
// pins the `ws` version these fields were read from, so an upgrade fails the
// suite instead of silently corrupting frames.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** What of ws's internals a direct frame write relies on (ws 8: server frames are unmasked; no queue unless compressing). */
interface WsInternals {
  readonly _socket?: Socket;
  readonly _sender?: { readonly _state?: number };
  readonly _extensions?: Readonly<Record<string, unknown>>;
}

/**
 * Writes one text frame `prefix + payload` to the socket in one write, or
 * returns false when ws could have something queued (compression negotiated,
 * or its sender busy): the caller then sends through `ws.send`.
 */
export function writeTextFrame(socket: WebSocket, prefix: Buffer, payload: Buffer): boolean {
  const ws = socket as unknown as WsInternals;
  const raw = ws._socket;
  if (!raw || ws._sender?._state !== 0 || (ws._extensions && 'permessage-deflate' in ws._extensions)) return false;
  const length = prefix.length + payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + text
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  prefix.copy(frame, headerLength);
  payload.copy(frame, headerLength + prefix.length);
  raw.write(frame);
  return true;
}
