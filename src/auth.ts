// API keys -> principals, for HTTP (`Authorization: Bearer <key>`) and
// graphql-ws (`connectionParams.authorization`, same value). A principal is a
// role and, for a key scoped to accounts (a tenant's key), the accounts it
// reaches: everything it reads, lists, receives and replays is of those only.
import { GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode, type SelectionNode } from 'graphql';
import type { AccountRef } from './accounts/store/types.js';
import type { AccountId } from './accounts/types.js';
import type { Role } from './config.js';
import { ErrorCode } from './errors.js';
import type { ProviderName } from './model.js';
import { safeEqual } from './providers/verify.js';
import type { OperationPlugin, ResolvedOperation } from './graphql/pipeline.js';

/** The accounts a scoped key reaches, by provider. */
export class AccountSet {
  /** Canonical text of the set: equal sets of accounts have equal keys (subscription sharing). */
  readonly key: string;
  private readonly byProvider = new Map<ProviderName, AccountId[]>();

  constructor(refs: readonly AccountRef[]) {
    for (const { provider, account } of refs) {
      const ids = this.byProvider.get(provider) ?? [];
      if (!ids.includes(account)) ids.push(account);
      this.byProvider.set(provider, ids);
    }
    this.key = this.refs()
      .map((r) => `${r.provider}:${r.account}`)
      .sort()
      .join(',');
  }

  /** `account` null or undefined is the environment's account (records and events read through it carry none). */
  has(provider: ProviderName, account: string | null | undefined): boolean {
    return this.byProvider.get(provider)?.includes((account ?? 'env') as AccountId) ?? false;
  }

  accountsOf(provider: ProviderName): readonly AccountId[] {
    return this.byProvider.get(provider) ?? [];
  }

  refs(): AccountRef[] {
    return [...this.byProvider].flatMap(([provider, ids]) => ids.map((account) => ({ provider, account })));
  }

  /** Whether every account `other` reaches is in this set (`null`, every account, is covered by nothing but itself). */
  covers(other: AccountSet | null): boolean {
    return other !== null && other.refs().every((r) => this.has(r.provider, r.account));
  }
}

export interface Principal {
  readonly role: Role;
  /** A stored key's id (it can be revoked); null for environment keys and open development. */
  readonly keyId: string | null;
  /** The accounts it reaches; null: every account. */
  readonly accounts: AccountSet | null;
}

/** Checks keys created by `createApiKey` (accounts/api-keys.ts). */
export interface StoredKeys {
  /** Whether the text has the shape of a stored key (`mgw_…`), so it is never compared with environment keys. */
  recognizes(presented: string): boolean;
  /** The key's principal; null when unknown or revoked. Rejects when the store is unreachable. */
  verify(presented: string): Promise<Principal | null>;
}

export interface Authenticator {
  /**
   * The caller's principal: an unscoped admin for everyone when no environment
   * keys are configured (development; a stored key presented still counts as
   * itself), null for a missing or unknown key. Throws STORE_UNAVAILABLE when a
   * stored key cannot be checked.
   */
  authenticate(authorization: unknown): Promise<Principal | null>;
}

const OPEN: Principal = { role: 'admin', keyId: null, accounts: null };

export function createAuthenticator(keys: ReadonlyMap<string, Role>, stored: StoredKeys | null = null): Authenticator {
  const entries = [...keys.entries()];
  const principals = new Map<Role, Principal>([
    ['viewer', { role: 'viewer', keyId: null, accounts: null }],
    ['agent', { role: 'agent', keyId: null, accounts: null }],
    ['admin', OPEN],
  ]);
  return {
    async authenticate(authorization) {
      const match = typeof authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
      const presented = match?.[1]?.trim() ?? '';
      if (stored && presented && stored.recognizes(presented)) {
        try {
          return await stored.verify(presented);
        } catch (err) {
          throw new GraphQLError('The API key could not be checked: key store unreachable; retry later', {
            extensions: { code: ErrorCode.StoreUnavailable, http: { status: 503 } },
            originalError: err instanceof Error ? err : undefined,
          });
        }
      }
      if (entries.length === 0) return OPEN;
      if (!presented) return null;
      // Compare against every key so timing does not reveal which one matched.
      let role: Role | null = null;
      for (const [key, keyRole] of entries) if (safeEqual(presented, key)) role = keyRole;
      return role ? (principals.get(role) as Principal) : null;
    },
  };
}

const rank: Record<Role, number> = { viewer: 1, agent: 2, admin: 3 };

/** Throws UNAUTHENTICATED without a valid key, FORBIDDEN when the role is too low. */
export function requireRole(role: Role | null, needed: Role): void {
  if (role === null) {
    throw new GraphQLError('A valid API key is required: send "Authorization: Bearer <key>"', {
      extensions: { code: ErrorCode.Unauthenticated, http: { status: 401 } },
    });
  }
  if (rank[role] < rank[needed]) {
    throw new GraphQLError(`This needs the ${needed} role; the key presented has the ${role} role`, {
      extensions: { code: ErrorCode.Forbidden, http: { status: 403 } },
    });
  }
}

/** Throws FORBIDDEN for a key scoped to accounts: what `what` does reaches beyond any set of accounts. */
export function requireUnscoped(accounts: AccountSet | null, what: string): void {
  if (accounts !== null) {
    throw new GraphQLError(`A key scoped to accounts cannot ${what}; use an admin key that reaches every account`, {
      extensions: { code: ErrorCode.Forbidden, http: { status: 403 } },
    });
  }
}

/** Mutations an agent may run; every other mutation needs an admin key. */
const AGENT_MUTATIONS: ReadonlySet<string> = new Set(['sendMessage']);

/**
 * The role an operation needs: a viewer key for queries and subscriptions; for a
 * mutation, agent when every mutation field it selects is an agent's (sending),
 * else admin, so a caller is told the role that would let it through and a send
 * beside an admin field is refused whole. The same on HTTP and graphql-ws; each
 * resolver still checks its own role.
 */
export function neededRole(document: DocumentNode, operation: OperationDefinitionNode): Role {
  if (operation.operation !== 'mutation') return 'viewer';
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const fields = new Set<string>();
  const seen = new Set<string>();
  const collect = (selections: readonly SelectionNode[]): void => {
    for (const selection of selections) {
      if (selection.kind === Kind.FIELD) fields.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet.selections);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        collect(fragments.get(selection.name.value)?.selectionSet.selections ?? []);
      }
    }
  };
  collect(operation.selectionSet.selections);
  fields.delete('__typename');
  return [...fields].every((name) => AGENT_MUTATIONS.has(name)) ? 'agent' : 'admin';
}

/** The pipeline step: the caller's role against the operation's type, before any resolver runs. */
export function authorizationPlugin(): OperationPlugin {
  const hooks = {
    onResolved: ({ role, document, operation }: ResolvedOperation): void => requireRole(role, neededRole(document, operation)),
  };
  return { onOperation: () => hooks };
}
