// The JSON shapes every route answers errors with: `{ error, message }` for
// plain HTTP routes, and a GraphQL `{ errors: [...] }` body on /graphql.
import type { FastifyReply } from 'fastify';
import type { GraphQLFormattedError } from 'graphql';

export interface HttpErrorBody {
  readonly error: string;
  readonly message: string;
}

export function sendError(reply: FastifyReply, status: number, error: string, message: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send({ error, message } satisfies HttpErrorBody);
}

export function graphqlErrorBody(message: string, code: string): { errors: GraphQLFormattedError[] } {
  return { errors: [{ message, extensions: { code } }] };
}
