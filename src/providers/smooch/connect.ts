// Connecting a Smooch app by its API key (the connectSmoochAccount mutation):
// the input checked, then the key with Smooch itself, before it is stored.
import type { NewAccount } from '../../accounts/types.js';
import { ProviderError, userInputError } from '../../errors.js';
import { httpsUrlProblem } from '../../urls.js';
import type { KeyConnectContext } from '../provider.js';
import { createSmoochApi } from './index.js';
import type { SmoochConfig } from './config.js';

const SMOOCH_APP_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface ConnectSmoochInput {
  readonly appId: string;
  readonly keyId: string;
  readonly secret: string;
  readonly name?: string | null;
  readonly apiUrl?: string | null;
}

function inputProblems(input: ConnectSmoochInput, apiUrl: string, production: boolean): string[] {
  const problems: string[] = [];
  if (!SMOOCH_APP_ID.test(input.appId)) problems.push(`appId must be a Smooch app id (letters, digits, _ or -), got "${input.appId.slice(0, 80)}"`);
  if (!input.keyId.trim()) problems.push('keyId must not be empty');
  if (!input.secret.trim()) problems.push('secret must not be empty');
  const urlProblem = httpsUrlProblem('apiUrl', apiUrl, !production);
  if (urlProblem) problems.push(urlProblem);
  return problems;
}

/** BAD_USER_INPUT when the input or the key is refused; the account to store otherwise. */
export async function checkSmoochAccount(raw: Readonly<Record<string, unknown>>, context: KeyConnectContext<SmoochConfig>): Promise<NewAccount> {
  const input = raw as unknown as ConnectSmoochInput;
  const apiUrl = (input.apiUrl ?? context.apiUrl).replace(/\/+$/, '');
  const problems = inputProblems(input, apiUrl, context.production);
  if (problems.length > 0) throw userInputError(`Invalid Smooch account input: ${problems.join('; ')}`, { problems });
  try {
    // Any authenticated read proves the key and the app: listing its integrations is the cheapest.
    await createSmoochApi({ apiUrl, appId: input.appId, keyId: input.keyId, secret: input.secret }, context.deps).webhooks.list();
  } catch (err) {
    if (err instanceof ProviderError && (err.failure === 'UNAUTHORIZED' || err.failure === 'NOT_FOUND' || err.failure === 'BAD_REQUEST')) {
      throw userInputError(`Smooch refused the key ${input.keyId.slice(0, 40)} for app ${input.appId} (${err.status ?? err.failure}): check appId, keyId and secret`);
    }
    throw err;
  }
  return {
    provider: 'SMOOCH',
    name: input.name?.trim() || `Smooch app ${input.appId}`,
    scope: { provider: 'SMOOCH', appId: input.appId, apiUrl },
    credentials: { kind: 'api-key', keyId: input.keyId, secret: input.secret },
  };
}
