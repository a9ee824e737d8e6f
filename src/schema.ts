// The executable schema: SDL from schema/*.graphql plus the resolvers, built as
// an Apollo Federation 2 subgraph (schema/federation.graphql marks the
// entities), so it also answers `_service` and `_entities`. Clients of this
// gateway see the same API as before; only a supergraph router uses those two.
import { readdirSync, readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { buildASTSchema, concatAST, graphql, parse, printSchema, type DocumentNode, type GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers/index.js';

// Works from src/ (tsx, vitest) and from dist/ (npm start): both sit beside schema/.
const schemaDir = new URL('../schema/', import.meta.url);

/** The file that makes the API a subgraph; left out of the plain API SDL. */
const FEDERATION_FILE = 'federation.graphql';

export function loadTypeDefs(options: { readonly federation?: boolean } = {}): string[] {
  const federation = options.federation ?? true;
  return readdirSync(schemaDir)
    .filter((f) => f.endsWith('.graphql') && (federation || f !== FEDERATION_FILE))
    .sort()
    .map((f) => readFileSync(new URL(f, schemaDir), 'utf8'));
}

export function createSchema(): GraphQLSchema {
  const typeDefs: DocumentNode = concatAST(loadTypeDefs().map((sdl) => parse(sdl)));
  return buildSubgraphSchema({ typeDefs, resolvers: mergeResolvers(resolvers as readonly object[]) as never });
}

/** The API as clients see it (no federation fields or directives), for `npm run schema:print`. */
export function printApiSchema(): string {
  return printSchema(buildASTSchema(concatAST(loadTypeDefs({ federation: false }).map((sdl) => parse(sdl)))));
}

/** The subgraph SDL exactly as `_service { sdl }` gives it to a router, for `npm run schema:subgraph`. */
export async function printSubgraphSchema(schema: GraphQLSchema = createSchema()): Promise<string> {
  const result = await graphql({ schema, source: '{ _service { sdl } }' });
  const sdl = (result.data?._service as { sdl?: unknown } | undefined)?.sdl;
  if (typeof sdl !== 'string') throw new Error(`_service did not return the SDL: ${JSON.stringify(result.errors ?? result.data)}`);
  return sdl;
}

/**
 * One resolver map from the per-domain ones (several extend Query). A field
 * defined twice is a mistake that would silently shadow the first, so it throws.
 * Scalars (GraphQLScalarType instances) are kept as they are.
 */
function mergeResolvers(maps: readonly object[]): Record<string, Record<string, unknown>> {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const map of maps) {
    for (const [typeName, fields] of Object.entries(map as Record<string, Record<string, unknown>>)) {
      const target = merged[typeName];
      if (!target) {
        merged[typeName] = fields;
        continue;
      }
      const combined: Record<string, unknown> = { ...target };
      for (const [field, resolver] of Object.entries(fields)) {
        if (field in combined) throw new Error(`Resolver ${typeName}.${field} is defined twice`);
        combined[field] = resolver;
      }
      merged[typeName] = combined;
    }
  }
  return merged;
}
