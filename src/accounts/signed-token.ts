// Short-lived signed tokens the OAuth flow hands out: the admin's start grant
// (from oauthStartUrl) and the `state` sent to the provider. HMAC-SHA256 with a
// key derived from GATEWAY_ENCRYPTION_KEY, so every instance checks what any
// other issued, and a callback whose state was not issued here is refused.
import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../providers/verify.js';

export type TokenPurpose = 'oauth-start' | 'oauth-state';

export interface SignedClaims {
  /** Provider path segment: podium, leadconnector. */
  readonly p: string;
  /** Random nonce: binds a state to the browser that started the flow (cookie). */
  readonly n: string;
  /** Expiry, epoch ms. */
  readonly e: number;
}

export type VerifyOutcome = { readonly ok: true; readonly claims: SignedClaims } | { readonly ok: false; readonly reason: 'malformed' | 'forged' | 'expired' };

export interface TokenSigner {
  issue(purpose: TokenPurpose, provider: string, ttlMs: number): { readonly token: string; readonly claims: SignedClaims };
  verify(purpose: TokenPurpose, token: string): VerifyOutcome;
}

export function createTokenSigner(key: Buffer, now: () => number = () => Date.now()): TokenSigner {
  const mac = (purpose: TokenPurpose, payload: string): string => createHmac('sha256', key).update(`${purpose}.${payload}`).digest('base64url');
  return {
    issue(purpose, provider, ttlMs) {
      const claims: SignedClaims = { p: provider, n: randomBytes(16).toString('base64url'), e: now() + ttlMs };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return { token: `${payload}.${mac(purpose, payload)}`, claims };
    },
    verify(purpose, token) {
      const [payload, signature, extra] = token.split('.');
      if (!payload || !signature || extra !== undefined || token.length > 1_000) return { ok: false, reason: 'malformed' };
      if (!safeEqual(signature, mac(purpose, payload))) return { ok: false, reason: 'forged' };
      let claims: SignedClaims;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SignedClaims;
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (typeof claims.p !== 'string' || typeof claims.n !== 'string' || typeof claims.e !== 'number') return { ok: false, reason: 'malformed' };
      if (claims.e <= now()) return { ok: false, reason: 'expired' };
      return { ok: true, claims };
    },
  };
}
