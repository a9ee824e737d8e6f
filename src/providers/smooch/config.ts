// Smooch's environment variables (a fragment of the gateway's one zod schema,
// composed by src/config.ts) and the config they parse into: the environment's
// app and the X-API-Key webhooks are checked against.
import { z } from 'zod';
import { httpUrl, text } from '../../env-vars.js';

export interface SmoochApiConfig {
  readonly apiUrl: string;
  readonly appId: string;
  readonly keyId: string;
  readonly secret: string;
}

export interface SmoochConfig {
  readonly api: SmoochApiConfig | null;
  /** Expected X-API-Key besides the secrets of webhooks created through the gateway. */
  readonly webhookSecret: string | null;
}

export const SMOOCH_DEFAULTS = { apiUrl: 'https://api.smooch.io' } as const;

export const smoochEnv = {
  SMOOCH_API_URL: httpUrl.optional(),
  SMOOCH_APP_ID: text.optional(),
  SMOOCH_KEY_ID: text.optional(),
  SMOOCH_SECRET: text.optional(),
  SMOOCH_WEBHOOK_SECRET: text.optional(),
};
type SmoochEnv = z.output<z.ZodObject<typeof smoochEnv>>;

export function parseSmoochConfig(e: SmoochEnv, _shared: unknown, problems: string[]): SmoochConfig | null {
  const anyApi = Boolean(e.SMOOCH_APP_ID ?? e.SMOOCH_KEY_ID ?? e.SMOOCH_SECRET);
  if (!anyApi && !e.SMOOCH_WEBHOOK_SECRET) return null;
  if (anyApi && (!e.SMOOCH_APP_ID || !e.SMOOCH_KEY_ID || !e.SMOOCH_SECRET)) {
    problems.push('Smooch needs all of SMOOCH_APP_ID, SMOOCH_KEY_ID and SMOOCH_SECRET');
  }
  return {
    api:
      e.SMOOCH_APP_ID && e.SMOOCH_KEY_ID && e.SMOOCH_SECRET
        ? { apiUrl: e.SMOOCH_API_URL ?? SMOOCH_DEFAULTS.apiUrl, appId: e.SMOOCH_APP_ID, keyId: e.SMOOCH_KEY_ID, secret: e.SMOOCH_SECRET }
        : null,
    webhookSecret: e.SMOOCH_WEBHOOK_SECRET ?? null,
  };
}

/** Where `connectSmoochAccount` points an app unless its input names another API URL. */
export function smoochConnectApiUrl(e: SmoochEnv): string {
  return e.SMOOCH_API_URL ?? SMOOCH_DEFAULTS.apiUrl;
}
