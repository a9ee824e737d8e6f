// Authenticating webhook deliveries: the verification policy every receiver
// shares, and constant-time secret comparison (also used for the gateway's own
// API keys).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ProviderName } from '../model.js';
import { PROVIDER_LABELS } from './labels.js';
import type { VerifyContext, VerifyResult, WebhookRequest } from './provider.js';

/** Compares two secrets without leaking where they differ (length differences included). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/**
 * The one webhook verification policy, for every provider. With a secret or
 * key configured or stored, a delivery must verify or it is refused. With
 * none, there is nothing to verify against: unsigned deliveries are accepted
 * only where `allowUnsigned` says so (development), otherwise refused with a
 * reason naming the variable to set. A delivery that carries a signature
 * while no secret is known is treated the same: it cannot be checked.
 */
export interface VerificationPolicy {
  readonly provider: ProviderName;
  /** How deliveries are authenticated, e.g. "podium-signature HMAC-SHA256". */
  readonly scheme: string;
  /** Secrets or keys from configuration. */
  readonly configured: readonly (string | null)[];
  /** Whether the secrets of webhooks created through the gateway count too (HighLevel's keys are never stored). */
  readonly usesStored: boolean;
  /** The variable that configures a secret, named when a delivery is refused for want of one. */
  readonly variable: string;
  readonly allowUnsigned: boolean;
}

export interface Verifier {
  verify(req: WebhookRequest, ctx: VerifyContext): Promise<VerifyResult>;
  /** The policy in force, in one line, for the start-up log. */
  readonly verification: string;
}

/** `check` authenticates a delivery against the known secrets (never called with none). */
export function createVerifier(policy: VerificationPolicy, check: (req: WebhookRequest, secrets: readonly string[]) => VerifyResult): Verifier {
  const configured = policy.configured.filter((s): s is string => !!s);
  const label = PROVIDER_LABELS[policy.provider];
  return {
    async verify(req, ctx) {
      const stored = policy.usesStored ? await ctx.storedSecrets() : [];
      const secrets = [...configured, ...stored.filter((s) => s.length > 0)];
      if (secrets.length > 0) return check(req, secrets);
      if (policy.allowUnsigned) return { ok: true };
      return {
        ok: false,
        reason: `no ${label} webhook secret is configured or stored, so no delivery can be verified: set ${policy.variable} (unsigned deliveries are accepted only with GATEWAY_WEBHOOKS_ALLOW_UNSIGNED)`,
      };
    },
    verification: describe(policy, configured.length, label),
  };
}

function describe(policy: VerificationPolicy, configured: number, label: string): string {
  const plural = (n: number, what: string): string => `${n} configured ${what}${n === 1 ? '' : 's'}`;
  if (!policy.usesStored) return `${policy.scheme} with ${plural(configured, 'key')}`;
  if (configured > 0) return `${policy.scheme} with ${plural(configured, 'secret')} plus stored secrets`;
  return policy.allowUnsigned
    ? `${policy.scheme} with stored secrets; unsigned accepted while none is stored (no ${label} secret configured, GATEWAY_WEBHOOKS_ALLOW_UNSIGNED)`
    : `${policy.scheme} with stored secrets; every delivery refused while none is stored (set ${policy.variable})`;
}
