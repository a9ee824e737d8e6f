// API keys admin: create (shown once), list, revoke. A key scoped to accounts
// is a tenant's; a scoped admin manages only keys within its own accounts, so
// it can never hand out more than it reaches.
import { GraphQLError } from 'graphql';
import { AccountSet, requireRole } from '../auth.js';
import type { ApiKey } from '../accounts/api-keys.js';
import type { AccountRef } from '../accounts/store/types.js';
import type { Account, AccountId } from '../accounts/types.js';
import type { Role } from '../config.js';
import type { GatewayContext } from '../context.js';
import { ErrorCode, userInputError } from '../errors.js';
import type { Resolvers, Role as SchemaRole } from '../generated/graphql.js';
import { decodeId } from '../ids.js';

const KEY_ID = /^[0-9a-f]{24}$/;
const MAX_NAME = 100;

/** Store outages surface as STORE_UNAVAILABLE rather than an internal error. */
async function stored<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof GraphQLError) throw err;
    throw new GraphQLError(`${what}: key store unreachable`, { extensions: { code: ErrorCode.StoreUnavailable }, originalError: err instanceof Error ? err : undefined });
  }
}

/** Whether a scoped admin may see or revoke the key: only keys within its own accounts. */
function manages(ctx: GatewayContext, key: ApiKey): boolean {
  return ctx.scope === null || (key.accounts !== null && ctx.scope.covers(new AccountSet(key.accounts)));
}

/** The accounts `createApiKey` was given, checked: each a connected account the caller reaches. */
async function accountsArg(ctx: GatewayContext, ids: readonly string[] | null | undefined): Promise<AccountRef[] | null> {
  if (ids == null) return ctx.scope?.refs() ?? null;
  if (ids.length === 0) throw userInputError('"accounts" must name at least one account; omit it for a key that reaches every account', { argumentName: 'accounts' });
  const refs: AccountRef[] = [];
  for (const id of ids) {
    const { provider, providerId } = decodeId(id, 'Account');
    const account = providerId as AccountId;
    // Another tenant's account is as unknown to a scoped admin as one that does not exist.
    const known = (ctx.scope === null || ctx.scope.has(provider, account)) && (await stored('The accounts could not be read', () => ctx.accounts.registry.get(provider, account)));
    if (!known) throw userInputError(`"accounts" names no connected account: ${id.slice(0, 80)}`, { argumentName: 'accounts', argumentValue: id.slice(0, 80) });
    if (!refs.some((r) => r.provider === provider && r.account === account)) refs.push({ provider, account });
  }
  return refs;
}

async function resolveAccounts(ctx: GatewayContext, refs: readonly AccountRef[] | null): Promise<Account[] | null> {
  if (refs === null) return null;
  const found = await Promise.all(refs.map((r) => stored('The accounts could not be read', () => ctx.accounts.registry.get(r.provider, r.account))));
  return found.filter((a): a is Account => a !== null);
}

const toRole = (role: SchemaRole): Role => (role === 'ADMIN' ? 'admin' : role === 'AGENT' ? 'agent' : 'viewer');
const fromRole = (role: Role): SchemaRole => (role === 'admin' ? 'ADMIN' : role === 'agent' ? 'AGENT' : 'VIEWER');

export const apiKeyResolvers: Resolvers = {
  ApiKey: {
    role: (k) => fromRole(k.role),
    accounts: (k, _, ctx) => resolveAccounts(ctx, k.accounts),
    createdAt: (k) => k.createdAt.toISOString(),
    revokedAt: (k) => k.revokedAt?.toISOString() ?? null,
    lastUsedAt: (k) => k.lastUsedAt?.toISOString() ?? null,
  },
  CreatedApiKey: {
    role: (k) => fromRole(k.role),
    accounts: (k, _, ctx) => resolveAccounts(ctx, k.accounts),
    createdAt: (k) => k.createdAt.toISOString(),
  },
  Query: {
    async apiKeys(_, __, ctx) {
      requireRole(ctx.role, 'admin');
      const keys = await stored('API keys could not be listed', () => ctx.accounts.keys.list());
      return keys.filter((k) => manages(ctx, k));
    },
  },
  Mutation: {
    async createApiKey(_, { role, accounts, name }, ctx) {
      requireRole(ctx.role, 'admin');
      const label = name?.trim() || null;
      if (label && label.length > MAX_NAME) throw userInputError(`"name" has at most ${MAX_NAME} characters, got ${label.length}`, { argumentName: 'name' });
      const refs = await accountsArg(ctx, accounts);
      const created = await stored('The API key could not be stored', () => ctx.accounts.keys.create({ role: toRole(role), accounts: refs, name: label }));
      ctx.logger.info({ keyId: created.id, role: created.role, accounts: refs?.length ?? 'all', by: ctx.principal?.keyId ?? 'environment' }, 'API key created');
      return created;
    },
    async revokeApiKey(_, { id }, ctx) {
      requireRole(ctx.role, 'admin');
      if (!KEY_ID.test(id)) throw userInputError(`"id" must be an API key id (24 hex digits, as apiKeys lists), got "${id.slice(0, 80)}"`, { argumentName: 'id' });
      const key = await stored('The API key could not be read', () => ctx.accounts.keys.get(id));
      if (!key || key.revokedAt || !manages(ctx, key)) return false;
      const revoked = await stored('The API key could not be revoked', () => ctx.accounts.keys.revoke(id));
      ctx.logger.info({ keyId: id, revoked, by: ctx.principal?.keyId ?? 'environment' }, 'API key revoked');
      return revoked;
    },
  },
};
