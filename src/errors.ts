// One registry of the error codes clients see in GraphQL `extensions.code`.
// Provider adapters throw `ProviderError`s; resolvers and the formatter map
// them here, so a client never has to know which provider failed or how.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { ProviderName } from './model.js';

export const ErrorCode = {
  BadUserInput: 'BAD_USER_INPUT',
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  ProviderNotConfigured: 'PROVIDER_NOT_CONFIGURED',
  ProviderRateLimited: 'PROVIDER_RATE_LIMITED',
  ProviderUnavailable: 'PROVIDER_UNAVAILABLE',
  ProviderError: 'PROVIDER_ERROR',
  UnsupportedByProvider: 'UNSUPPORTED_BY_PROVIDER',
  AccountNeedsReconnection: 'ACCOUNT_NEEDS_RECONNECTION',
  EncryptionKeyRequired: 'ENCRYPTION_KEY_REQUIRED',
  StoreUnavailable: 'STORE_UNAVAILABLE',
  QueryTooExpensive: 'QUERY_TOO_EXPENSIVE',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  ParseFailed: 'GRAPHQL_PARSE_FAILED',
  ValidationFailed: 'GRAPHQL_VALIDATION_FAILED',
  /** Trusted documents are on (GATEWAY_TRUSTED_DOCUMENTS) and the operation is not listed. */
  PersistedQueryNotListed: 'PERSISTED_QUERY_NOT_LISTED',
  InternalServerError: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** How an upstream call failed, independent of provider. */
export type ProviderFailure =
  | 'RATE_LIMITED' // 429 after retries, or the client-side limit could not wait long enough
  | 'UNAVAILABLE' // 5xx, timeout or network error after retries
  | 'NOT_FOUND' // 404
  | 'UNAUTHORIZED' // 401/403 after one token refresh
  | 'BAD_REQUEST' // other 4xx
  | 'BAD_RESPONSE' // a 2xx whose body is not the documented shape
  | 'NOT_CONFIGURED' // no API credentials for this provider (webhooks only)
  | 'NEEDS_RECONNECTION'; // the account's refresh token was refused: only reconnecting it helps

/**
 * `message` is what a client sees: plain, naming the provider and what went
 * wrong, never the upstream body, a request path or an endpoint URL. Those go
 * in `detail`, for logs only.
 */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly provider: ProviderName,
    readonly failure: ProviderFailure,
    message: string,
    readonly status: number | null = null,
    readonly detail: string | null = null,
    /** When the provider (or the rate budget) can take the call again, if known. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** Thrown by an adapter for an operation the provider's API does not offer. */
export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
  constructor(
    readonly provider: ProviderName,
    message: string,
  ) {
    super(message);
  }
}

export function userInputError(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BadUserInput, ...extra } });
}

export function codeForProviderFailure(failure: ProviderFailure): ErrorCode {
  switch (failure) {
    case 'RATE_LIMITED':
      return ErrorCode.ProviderRateLimited;
    case 'UNAVAILABLE':
      return ErrorCode.ProviderUnavailable;
    case 'NOT_FOUND':
      return ErrorCode.NotFound;
    case 'NOT_CONFIGURED':
      return ErrorCode.ProviderNotConfigured;
    case 'NEEDS_RECONNECTION':
      return ErrorCode.AccountNeedsReconnection;
    case 'UNAUTHORIZED':
    case 'BAD_REQUEST':
    case 'BAD_RESPONSE':
      return ErrorCode.ProviderError;
    default:
      throw new UnreachableCaseError(failure);
  }
}

/** Turns anything a resolver threw into a GraphQLError with a registered code. */
export function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof ProviderError) {
    return new GraphQLError(err.message, {
      extensions: {
        code: codeForProviderFailure(err.failure),
        provider: err.provider,
        upstreamStatus: err.status,
        // Seconds, as in the HTTP header, so a client can wait before asking again.
        ...(err.retryAfterMs !== null ? { retryAfter: Math.ceil(err.retryAfterMs / 1000) } : {}),
      },
      // Carries `detail` to whoever logs the error; the formatted error shows only the message and extensions.
      originalError: err,
    });
  }
  if (err instanceof UnsupportedError) {
    return new GraphQLError(err.message, {
      extensions: { code: ErrorCode.UnsupportedByProvider, provider: err.provider },
    });
  }
  return new GraphQLError('Internal server error', {
    extensions: { code: ErrorCode.InternalServerError },
    originalError: err instanceof Error ? err : undefined,
  });
}

export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}

export interface ErrorFormatterOptions {
  readonly logger: Logger;
  /** Strip "Did you mean …?" from validation messages (production: they name fields the caller may not know). */
  readonly hideSuggestions: boolean;
  /** Adds a hint to a message (the providers' did-you-mean for a value outside the Provider enum: providers/aliases.ts). @default none */
  readonly hint?: (message: string) => string;
}

/**
 * The one formatter every GraphQL error leaves through, on HTTP (Apollo's
 * `formatError`) and on graphql-ws alike. Never throws. Every error gets a
 * registered `extensions.code`; internals (`http`, upstream bodies, stacks) stay
 * in the logs.
 */
export function createErrorFormatter(options: ErrorFormatterOptions): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  const { logger, hideSuggestions } = options;
  return (formatted, error) => {
    const original = unwrap(error);
    const where = { locations: formatted.locations, path: formatted.path };
    if (original instanceof ProviderError || original instanceof UnsupportedError) {
      if (original instanceof ProviderError) logger.warn({ err: original, provider: original.provider, failure: original.failure, detail: original.detail }, 'provider call failed');
      const mapped = toGraphQLError(original);
      return { message: mapped.message, ...where, extensions: { ...mapped.extensions } };
    }
    const { http: _http, exception: _exception, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    const code = typeof extensions.code === 'string' ? extensions.code : ErrorCode.InternalServerError;
    if (code === ErrorCode.InternalServerError) {
      logger.error({ err: original }, 'resolver failed');
      return { message: 'Internal server error', ...where, extensions: { code } };
    }
    const stripped = hideSuggestions ? formatted.message.replace(/\s*Did you mean .*\?$/, '') : formatted.message;
    // Names the documentation uses for a provider (HIGHLEVEL) point at the enum value, even where suggestions are hidden.
    const message = options.hint ? options.hint(stripped) : stripped;
    return { ...formatted, message, extensions: { ...extensions, code } };
  };
}

/** The error a resolver (or a hook) threw, under graphql-js's wrapping; a GraphQLError of ours stays itself. */
function unwrap(error: unknown): unknown {
  if (error instanceof GraphQLError && error.originalError && !(error.originalError instanceof GraphQLError)) return error.originalError;
  if (error instanceof GraphQLError && error.originalError instanceof GraphQLError) return unwrap(error.originalError);
  return error;
}
