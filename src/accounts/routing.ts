// The Providers the rest of the gateway sees once a provider has accounts:
// one per account (`forAccount(name, id)`), each calling that account's
// adapter and stamping what it reads with the account id (so the ids issued
// for it name the account), and the provider's default (`forAccount(name,
// null)`): the environment's adapter, or else the only stored account's,
// resolved per call since accounts come and go at run time. Webhooks are
// received per provider (receiver).
import { GraphQLError } from 'graphql';
import type { AccountSet } from '../auth.js';
import { ErrorCode, ProviderError, userInputError } from '../errors.js';
import type { ProviderName, WebhookCreateInput, WebhookRecord, WebhookUpdateInput } from '../model.js';
import { PROVIDER_LABELS } from '../providers/labels.js';
import type { BatchResult, Included, Provider, ProviderPage, WebhookReceiver } from '../providers/provider.js';
import type { AccountApi, AccountRegistry } from './registry.js';
import type { AccountId } from './types.js';

function checked(problems: readonly string[]): void {
  if (problems.length > 0) throw userInputError(`Invalid webhook input: ${problems.join('; ')}`, { problems });
}

/** A Provider whose every API call goes to the adapter `api()` resolves to at call time. */
export function accountRoutedProvider(name: ProviderName, receiver: WebhookReceiver, eventTypes: readonly string[], api: () => Promise<AccountApi>): Provider {
  return {
    name,
    listContacts: async (page, filter) => (await api()).listContacts(page, filter),
    getContacts: async (refs) => (await api()).getContacts(refs),
    listConversations: async (page, filter) => (await api()).listConversations(page, filter),
    getConversations: async (ids) => (await api()).getConversations(ids),
    listMessages: async (conversationId, page) => (await api()).listMessages(conversationId, page),
    getMessages: async (ids) => (await api()).getMessages(ids),
    listUsers: async (page) => (await api()).listUsers(page),
    getUsers: async (ids) => (await api()).getUsers(ids),
    listLocations: async () => (await api()).listLocations(),
    webhooks: {
      eventTypes,
      // The account's own rules apply in create/update, once it is known which account answers.
      validateCreate: () => [],
      validateUpdate: () => [],
      list: async () => (await api()).webhooks.list(),
      get: async (id) => (await api()).webhooks.get(id),
      async create(input: WebhookCreateInput) {
        const admin = (await api()).webhooks;
        checked(admin.validateCreate(input));
        return admin.create(input);
      },
      async update(id: string, input: WebhookUpdateInput) {
        const admin = (await api()).webhooks;
        checked(admin.validateUpdate(input));
        return admin.update(id, input);
      },
      delete: async (id) => (await api()).webhooks.delete(id),
    },
    receiver,
  };
}

/** Marks every record `inner` reads as the account's, including those a page carried along. */
export function stampedProvider(inner: Provider, account: AccountId): Provider {
  const one = <T extends object>(record: T): T => ({ ...record, account });
  const orNull = <T extends object>(record: T | null): T | null => (record ? one(record) : null);
  const batch = async <T extends object>(pending: Promise<BatchResult<T>>): Promise<BatchResult<T>> =>
    (await pending).map((r) => (r === null || r instanceof Error ? r : one(r)));
  const included = (inc: Included | undefined): Included | undefined =>
    inc && { contacts: inc.contacts?.map(one), users: inc.users?.map(one), conversations: inc.conversations?.map(one) };
  const page = async <T extends object>(pending: Promise<ProviderPage<T>>): Promise<ProviderPage<T>> => {
    const p = await pending;
    return { ...p, items: p.items.map(one), ...(p.included ? { included: included(p.included) } : {}) };
  };
  const hooks = inner.webhooks;
  return {
    ...inner,
    listContacts: (request, filter) => page(inner.listContacts(request, filter)),
    getContacts: (refs) => batch(inner.getContacts(refs)),
    listConversations: (request, filter) => page(inner.listConversations(request, filter)),
    getConversations: (ids) => batch(inner.getConversations(ids)),
    listMessages: (conversationId, request) => page(inner.listMessages(conversationId, request)),
    getMessages: (ids) => batch(inner.getMessages(ids)),
    listUsers: (request) => page(inner.listUsers(request)),
    getUsers: (ids) => batch(inner.getUsers(ids)),
    listLocations: async () => (await inner.listLocations()).map(one),
    webhooks: {
      ...hooks,
      list: async () => (await hooks.list()).map(one),
      get: async (id) => orNull(await hooks.get(id)),
      create: async (input) => one<WebhookRecord>(await hooks.create(input)),
      update: async (id, input) => orNull(await hooks.update(id, input)),
      delete: async (id) => orNull(await hooks.delete(id)),
    },
  };
}

export interface AccountProviders {
  /**
   * The provider as one account serves it; `null` is the default account (the
   * environment's, else the only stored one). Throws PROVIDER_NOT_CONFIGURED for
   * a provider this gateway does not serve; an unknown account fails its calls with NOT_FOUND.
   */
  forAccount(name: ProviderName, account: string | null): Provider;
  /** The account `forAccount(name, null)` answers from (the `locations` of the default account name it). */
  defaultAccount(name: ProviderName): Promise<AccountId>;
  /** The default account's Provider of every served provider (receivers, coverage checks, ingest). */
  readonly defaults: ReadonlyMap<ProviderName, Provider>;
}

export interface AccountProvidersOptions {
  readonly registry: AccountRegistry;
  /** Per provider: the environment's adapter (null when it has no API credentials there) and the webhook receiver. */
  readonly served: ReadonlyMap<ProviderName, { readonly env: Provider | null; readonly receiver: WebhookReceiver; readonly eventTypes: readonly string[] }>;
  /** Puts the cross-request cache in front of an account's Provider (null: the environment's). @default identity */
  readonly wrap?: (name: ProviderName, account: AccountId | null, provider: Provider) => Provider;
}

/** Providers of stored accounts kept for reuse; beyond this many the memo starts over (they are cheap to rebuild). */
const MAX_REMEMBERED = 1_000;

export function createAccountProviders(options: AccountProvidersOptions): AccountProviders {
  const { registry, served } = options;
  const wrap = options.wrap ?? ((_name, _account, provider) => provider);
  const perAccount = new Map<string, Provider>();

  function stored(name: ProviderName, account: AccountId): Provider {
    const key = `${name}:${account}`;
    let provider = perAccount.get(key);
    if (!provider) {
      const entry = served.get(name)!;
      provider = wrap(name, account, stampedProvider(accountRoutedProvider(name, entry.receiver, entry.eventTypes, () => registry.apiFor(name, account)), account));
      if (perAccount.size >= MAX_REMEMBERED) perAccount.clear();
      perAccount.set(key, provider);
    }
    return provider;
  }

  const defaults = new Map<ProviderName, Provider>();
  for (const [name, entry] of served) {
    defaults.set(
      name,
      entry.env
        ? wrap(name, null, entry.env)
        : accountRoutedProvider(name, entry.receiver, entry.eventTypes, async () => stored(name, await registry.defaultAccountId(name))),
    );
  }

  return {
    defaults,
    defaultAccount: (name) => registry.defaultAccountId(name),
    forAccount(name, account) {
      const fallback = defaults.get(name);
      if (!fallback) {
        throw new GraphQLError(`Provider ${name} is not configured on this gateway`, { extensions: { code: ErrorCode.ProviderNotConfigured, provider: name } });
      }
      // `env` names the environment's account, which is the default whenever it exists.
      if (account === null || (account === 'env' && served.get(name)?.env)) return fallback;
      return stored(name, account as AccountId);
    },
  };
}

const notConfigured = (name: ProviderName): GraphQLError =>
  new GraphQLError(`Provider ${name} is not configured on this gateway`, { extensions: { code: ErrorCode.ProviderNotConfigured, provider: name } });

/**
 * The providers as a key scoped to `accounts` sees them: an account outside the
 * set answers exactly like an unknown one (NOT_FOUND, so a tenant cannot even
 * tell another's account exists), and the default account is the environment's
 * when the set has it, else the set's only account of that provider.
 */
export function scopedAccountProviders(inner: AccountProviders, accounts: AccountSet): AccountProviders {
  const denied = new Map<string, Provider>();
  const deny = (name: ProviderName, account: string): Provider => {
    const key = `${name}:${account}`;
    let provider = denied.get(key);
    if (!provider) {
      const base = inner.defaults.get(name) as Provider;
      const unknown = new ProviderError(name, 'NOT_FOUND', `No ${PROVIDER_LABELS[name]} account ${account}`);
      provider = accountRoutedProvider(name, base.receiver, base.webhooks.eventTypes, () => Promise.reject(unknown));
      denied.set(key, provider);
    }
    return provider;
  };
  const defaultOf = (name: ProviderName): AccountId => {
    const visible = accounts.accountsOf(name);
    if (visible.includes('env' as AccountId)) return 'env' as AccountId;
    if (visible.length === 1) return visible[0] as AccountId;
    const label = PROVIDER_LABELS[name];
    if (visible.length === 0) {
      throw new GraphQLError(`This API key reaches no ${label} account`, { extensions: { code: ErrorCode.Forbidden, provider: name, http: { status: 403 } } });
    }
    throw userInputError(
      `This API key reaches ${visible.length} ${label} accounts, so the argument "account" is required: pass one of the ids of accounts(provider: ${name}) (ids issued for an account already name it)`,
      { provider: name, argumentName: 'account', accounts: visible.length },
    );
  };
  return {
    defaults: inner.defaults,
    defaultAccount: async (name) => {
      if (!inner.defaults.has(name)) throw notConfigured(name);
      return defaultOf(name);
    },
    forAccount(name, account) {
      if (!inner.defaults.has(name)) throw notConfigured(name);
      const id = account ?? defaultOf(name);
      return accounts.has(name, id) ? inner.forAccount(name, id) : deny(name, id);
    },
  };
}
