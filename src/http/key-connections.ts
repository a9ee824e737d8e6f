// The WebSocket connections of stored API keys, so that revoking a key ends
// them: at once for a revocation made on this instance, and within
// `recheckMs` for one made on another (all open keys checked in one read).
import type { WebSocket } from 'ws';

export interface Revocations {
  /** Runs when this instance revokes a key; returns the unregister function. */
  onRevoked(listener: (keyId: string) => void): () => void;
  /** Of these keys, those no longer usable (a revocation on another instance shows here). */
  revokedAmong(keyIds: readonly string[]): Promise<readonly string[]>;
  /** How often open connections' keys are checked again. */
  readonly recheckMs: number;
}

export interface KeyConnections {
  /** Remembers the socket under its key until it closes. */
  track(keyId: string, socket: WebSocket): void;
  dispose(): void;
}

/** graphql-ws's code for a refused connection_init, also used when the key is revoked later. */
export const FORBIDDEN_CLOSE = 4403;

export function createKeyConnections(revocations: Revocations | null): KeyConnections {
  const byKey = new Map<string, Set<WebSocket>>();
  const closeKey = (keyId: string): void => {
    for (const socket of byKey.get(keyId) ?? []) socket.close(FORBIDDEN_CLOSE, 'Forbidden: the API key was revoked');
    byKey.delete(keyId);
  };
  const stopRevoked = revocations?.onRevoked(closeKey) ?? null;
  const recheck = revocations
    ? setInterval(() => {
        if (byKey.size === 0) return;
        revocations.revokedAmong([...byKey.keys()]).then(
          (revoked) => revoked.forEach(closeKey),
          // An unreachable store is not a revocation: the next round asks again.
          () => undefined,
        );
      }, revocations.recheckMs).unref()
    : null;
  return {
    track(keyId, socket) {
      let sockets = byKey.get(keyId);
      if (!sockets) byKey.set(keyId, (sockets = new Set()));
      sockets.add(socket);
      socket.once('close', () => {
        sockets.delete(socket);
        if (sockets.size === 0 && byKey.get(keyId) === sockets) byKey.delete(keyId);
      });
    },
    dispose() {
      stopRevoked?.();
      if (recheck) clearInterval(recheck);
    },
  };
}
