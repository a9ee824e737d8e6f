// One call to an OAuth token endpoint (code exchange or refresh), shared by the
// Podium and HighLevel flows. Never retried: a refresh that reached the
// provider may have spent a single-use refresh token, and sending it again
// would be refused. Errors name the provider and the OAuth error, never the
// secrets sent.
import { request } from 'undici';
import { z } from 'zod';
import { GrantRejectedError, type TokenSet } from '../accounts/types.js';
import { ProviderError } from '../errors.js';
import type { ProviderName } from '../model.js';
import type { UpstreamCall } from './http.js';
import { PROVIDER_LABELS } from './labels.js';
import { readBody } from './validate.js';

export interface TokenRequest {
  readonly provider: ProviderName;
  readonly url: string;
  /** Podium takes JSON (its own sample app); HighLevel takes a form. */
  readonly encoding: 'json' | 'form';
  readonly fields: Readonly<Record<string, string>>;
  /** `refresh`: a refusal means the grant is gone (GrantRejectedError). `exchange`: the code was refused. */
  readonly purpose: 'exchange' | 'refresh';
  readonly timeoutMs: number;
  readonly onCall?: (call: UpstreamCall) => void;
  readonly now?: () => number;
}

const tokenAnswer = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().nullish(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).nullish(),
});

export type TokenAnswer = TokenSet & { readonly raw: Readonly<Record<string, unknown>> };

export async function requestToken(req: TokenRequest): Promise<TokenAnswer> {
  const label = PROVIDER_LABELS[req.provider];
  const body = req.encoding === 'json' ? JSON.stringify(req.fields) : new URLSearchParams(req.fields).toString();
  const started = performance.now();
  let outcome: number | 'error' = 'error';
  let status: number;
  let text: string;
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': req.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    status = outcome = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    throw new ProviderError(req.provider, 'UNAVAILABLE', `${label}'s token endpoint could not be reached`, null, `POST {token endpoint}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    try {
      req.onCall?.({ provider: req.provider, method: 'POST', outcome, durationMs: performance.now() - started });
    } catch {
      // metrics never break a call
    }
  }
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // reported below by status or shape
  }
  if (status >= 200 && status < 300) {
    const answer = readBody<{ access_token: string; refresh_token?: string | null; expires_in?: number | string | null }>(req.provider, 'POST {token endpoint}', tokenAnswer, json);
    const expiresIn = answer.expires_in == null ? null : Number(answer.expires_in);
    return {
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token ?? null,
      expiresAt: expiresIn === null ? null : (req.now ?? Date.now)() + expiresIn * 1000,
      raw: answer as Record<string, unknown>,
    };
  }
  const reason = oauthError(json) ?? `status ${status}`;
  if (status >= 500 || status === 429) {
    throw new ProviderError(req.provider, status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE', `${label}'s token endpoint answered ${status}`, status, `POST {token endpoint}: ${text.slice(0, 300)}`);
  }
  if (req.purpose === 'refresh') throw new GrantRejectedError(req.provider, `${label} refused the refresh token (${reason})`);
  throw new ProviderError(req.provider, 'BAD_REQUEST', `${label} refused the authorization code (${reason})`, status, `POST {token endpoint}: ${text.slice(0, 300)}`);
}

/** `error: error_description` of an OAuth error body (RFC 6749 §5.2), or a provider's `message`. */
function oauthError(json: unknown): string | null {
  if (typeof json !== 'object' || json === null) return null;
  const body = json as Record<string, unknown>;
  const error = typeof body.error === 'string' ? body.error : null;
  const description = typeof body.error_description === 'string' ? body.error_description : typeof body.message === 'string' ? body.message : null;
  const text = [error, description].filter(Boolean).join(': ');
  return text ? text.slice(0, 200) : null;
}
