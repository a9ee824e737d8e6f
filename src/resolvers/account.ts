// Accounts admin: list and fetch accounts, the OAuth start link of providers
// with an OAuth app, the API-key mutation of providers whose accounts are
// connected by key (each descriptor's keyConnect), disconnecting. Admin only;
// credentials never leave.
import { GraphQLError } from 'graphql';
import { requireRole, requireUnscoped } from '../auth.js';
import { ErrorCode, ProviderError, toGraphQLError } from '../errors.js';
import type { MutationResolvers, Resolvers } from '../generated/graphql.js';
import { decodeId, encodeId } from '../ids.js';
import { providerAccountId, scopeLocationIds } from '../accounts/scope.js';
import type { Account, AccountId } from '../accounts/types.js';
import type { GatewayContext } from '../context.js';
import { PROVIDER_LABELS, type ProviderName } from '../model.js';
import { PROVIDER_DESCRIPTORS, type AnyDescriptor } from '../providers/index.js';
import { accountArg, inScope, providerFor } from './shared.js';

/** Store outages surface as STORE_UNAVAILABLE rather than an internal error. */
async function stored<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof GraphQLError || err instanceof ProviderError) throw err;
    throw new GraphQLError(`${what}: account store unreachable`, { extensions: { code: ErrorCode.StoreUnavailable }, originalError: err instanceof Error ? err : undefined });
  }
}

/** Account look-ups of one request, so a list of 20 conversations reads the accounts once. */
const seen = new WeakMap<GatewayContext['loaders'], Map<string, Promise<Account | null>>>();

/** The account a record was read through: its own when stamped, else the provider's default (the environment's, or the only stored one). */
export async function accountOf(ctx: GatewayContext, provider: ProviderName, account: string | undefined): Promise<Account> {
  const registry = ctx.accounts.registry;
  const id = (account as AccountId | undefined) ?? (await registry.defaultAccountId(provider));
  let memo = seen.get(ctx.loaders);
  if (!memo) seen.set(ctx.loaders, (memo = new Map()));
  const key = `${provider}:${id}`;
  let pending = memo.get(key);
  if (!pending) memo.set(key, (pending = stored('The account could not be read', () => registry.get(provider, id))));
  const found = await pending;
  if (!found) throw new GraphQLError(`The ${provider} account ${encodeId(provider, 'Account', id)} is no longer connected`, { extensions: { code: ErrorCode.NotFound, provider } });
  return found;
}

/** One mutation per provider whose accounts are connected with an API key, named by its descriptor. */
function keyConnectMutations(): MutationResolvers {
  const mutations: Record<string, MutationResolvers[keyof MutationResolvers]> = {};
  for (const descriptor of PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]) {
    if (!descriptor.keyConnect) continue;
    const provider = descriptor.name;
    const resolve = async (_: unknown, args: { input: Readonly<Record<string, unknown>> }, ctx: GatewayContext): Promise<Account> => {
      requireRole(ctx.role, 'admin');
      requireUnscoped(ctx.scope, 'connect accounts');
      return stored(`The ${PROVIDER_LABELS[provider]} account could not be stored`, () => ctx.accounts.connectWithKey(provider, args.input));
    };
    mutations[descriptor.keyConnect.mutation] = resolve as MutationResolvers[keyof MutationResolvers];
  }
  return mutations as MutationResolvers;
}

export const accountResolvers: Resolvers = {
  Account: {
    id: (a) => encodeId(a.provider, 'Account', a.id),
    providerAccountId: (a) => (a.scope ? providerAccountId(a.scope) : ''),
    locationIds: (a) => (a.scope ? [...scopeLocationIds(a.scope)] : []),
    fromEnvironment: (a) => a.source === 'environment',
  },
  Location: {
    account: (l, _, ctx) => accountOf(ctx, l.provider, l.account),
  },
  Contact: { account: (r, _, ctx) => accountOf(ctx, r.provider, r.account) },
  Conversation: { account: (r, _, ctx) => accountOf(ctx, r.provider, r.account) },
  Message: { account: (r, _, ctx) => accountOf(ctx, r.provider, r.account) },
  User: { account: (r, _, ctx) => accountOf(ctx, r.provider, r.account) },
  Webhook: { account: (r, _, ctx) => accountOf(ctx, r.provider, r.account) },
  Query: {
    async locations(_, { provider, account }, ctx) {
      // The default account is resolved once, so every location names the account that answered.
      const id = accountArg(account, provider) ?? (await ctx.accountProviders.defaultAccount(provider));
      return [...(await providerFor(ctx, provider, id).listLocations())];
    },
    async accounts(_, { provider }, ctx) {
      requireRole(ctx.role, 'admin');
      const all = await stored('Accounts could not be listed', () => ctx.accounts.registry.list(provider ?? null));
      return all.filter((a) => inScope(ctx, a.provider, a.id));
    },
    async account(_, { id }, ctx) {
      requireRole(ctx.role, 'admin');
      const { provider, providerId } = decodeId(id, 'Account');
      if (!inScope(ctx, provider, providerId)) return null;
      return stored('The account could not be read', () => ctx.accounts.registry.get(provider, providerId as AccountId));
    },
    oauthStartUrl(_, { provider }, ctx) {
      requireRole(ctx.role, 'admin');
      requireUnscoped(ctx.scope, 'connect accounts');
      try {
        return ctx.accounts.connector.startUrl(provider);
      } catch (err) {
        if (err instanceof ProviderError && err.failure === 'BAD_REQUEST') {
          throw new GraphQLError(err.message, { extensions: { code: ErrorCode.BadUserInput, provider } });
        }
        throw toGraphQLError(err);
      }
    },
  },
  Mutation: {
    ...keyConnectMutations(),
    async disconnectAccount(_, { id }, ctx) {
      requireRole(ctx.role, 'admin');
      const { provider, providerId } = decodeId(id, 'Account');
      if (!inScope(ctx, provider, providerId)) return false;
      const removed = await stored('The account could not be removed', () => ctx.accounts.registry.disconnect(provider, providerId as AccountId));
      ctx.logger.info({ provider, account: providerId, removed }, 'account disconnected');
      return removed;
    },
  },
};
