// API keys -> roles, for HTTP (`Authorization: Bearer <key>`) and graphql-ws
// (`connectionParams.authorization`, same value).
import { GraphQLError } from 'graphql';
import type { Role } from './config.js';
import { ErrorCode } from './errors.js';
import { safeEqual } from './providers/verify.js';

export interface Authenticator {
  /**
   * The caller's role: `admin` for everyone when no keys are configured
   * (development), null for a missing or unknown key.
   */
  roleFor(authorization: unknown): Role | null;
}

export function createAuthenticator(keys: ReadonlyMap<string, Role>): Authenticator {
  const entries = [...keys.entries()];
  return {
    roleFor(authorization) {
      if (entries.length === 0) return 'admin';
      if (typeof authorization !== 'string') return null;
      const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
      const presented = match?.[1]?.trim() ?? '';
      if (!presented) return null;
      // Compare against every key so timing does not reveal which one matched.
      let role: Role | null = null;
      for (const [key, keyRole] of entries) if (safeEqual(presented, key)) role = keyRole;
      return role;
    },
  };
}

const rank: Record<Role, number> = { viewer: 1, admin: 2 };

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

/** Queries and subscriptions need a viewer key, mutations an admin key; the same on HTTP and graphql-ws. */
export function authorizeOperation(role: Role | null, operationType: 'query' | 'mutation' | 'subscription'): void {
  requireRole(role, operationType === 'mutation' ? 'admin' : 'viewer');
}
