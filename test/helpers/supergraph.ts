// A real federation gateway for tests: composes subgraph SDLs with
// @apollo/composition and serves the supergraph with Hive Gateway's runtime on
// an ephemeral port, closed when the test ends.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { onTestFinished } from 'vitest';

export interface SubgraphDef {
  readonly name: string;
  readonly url: string;
  readonly typeDefs: string;
}

/** The part of @graphql-hive/gateway-runtime these tests use. */
interface HiveRuntime extends RequestListener {
  dispose(): Promise<void> | void;
}
interface HiveModule {
  createGatewayRuntime(config: {
    supergraph: string;
    logging: boolean;
    maskedErrors: boolean;
    propagateHeaders: { fromClientToSubgraphs: (payload: { request: Request }) => Record<string, string | null> };
  }): HiveRuntime;
}

// Loaded by a specifier tsc does not follow: the runtime's types reference lib.dom
// (through @whatwg-node/fetch), which would retype the global fetch for the whole program.
const HIVE_RUNTIME: string = '@graphql-hive/gateway-runtime';

/** Composes the subgraphs (throwing the composition errors) and serves them; resolves with the /graphql URL. */
export async function startSupergraph(subgraphs: readonly SubgraphDef[]): Promise<string> {
  const composed = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.typeDefs) })));
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  const { createGatewayRuntime } = (await import(HIVE_RUNTIME)) as HiveModule;
  const runtime = createGatewayRuntime({
    supergraph: composed.supergraphSdl,
    logging: false,
    maskedErrors: false,
    // The caller's key goes on to every subgraph, as a router in front of this gateway would send it.
    propagateHeaders: { fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') }) },
  });
  const server = createServer(runtime);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.dispose();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}
