// The operation pipeline (src/graphql/pipeline.ts) through the real gateway:
// its steps run for graphql-ws operations as for HTTP ones, counted in the same
// metrics, and a shared live subscription still gets its refusal or its events.
import { describe, expect, it } from 'vitest';
import { collect, useTestGateway, type TestGateway } from './helpers/gateway.js';

async function metricsText(t: TestGateway): Promise<string> {
  return (await fetch(`${t.url}/metrics`)).text();
}

describe('operation pipeline', () => {
  it('counts graphql-ws operations in the GraphQL metrics like HTTP ones, refused ones as errors', async () => {
    const t = await useTestGateway();
    await t.gql('{ users(provider: PODIUM, first: 1) { edges { cursor } } }');
    const client = t.ws();
    await collect(client, '{ users(provider: PODIUM, first: 1) { edges { cursor } } }').done;
    await expect(collect(client, 'mutation { nope }').done).rejects.toThrow(/nope/);

    const text = await metricsText(t);
    expect(text).toMatch(/gateway_graphql_operations_total\{operation_type="query",outcome="ok"\} 2/);
    // Refused at validation: the operation's type was never resolved.
    expect(text).toMatch(/gateway_graphql_operations_total\{operation_type="unknown",outcome="error"\} 1/);
  });

  it('refuses a mutation by a viewer on graphql-ws with the role check, counted as a mutation in error', async () => {
    const t = await useTestGateway();
    const client = t.ws();
    await expect(collect(client, 'mutation { revokeApiKey(id: "x") }').done).rejects.toThrow(/needs the admin role/);
    expect(await metricsText(t)).toMatch(/gateway_graphql_operations_total\{operation_type="mutation",outcome="error"\} 1/);
  });
});
