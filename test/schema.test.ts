// The schema documents itself: every type, field, argument, input field and
// enum value carries a description, so the explorer explains the whole API.
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isUnionType, isScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSchema } from '../src/schema.js';

describe('schema', () => {
  it('describes every type, field, argument, input field and enum value', () => {
    const schema = createSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      // What @apollo/subgraph adds for a supergraph router (_service, _entities, link__*, federation__*) is Apollo's to document.
      if (/^(_|link__|federation__)/.test(type.name)) continue;
      if (['Query', 'Mutation', 'Subscription'].includes(type.name)) {
        // root types need no description of their own; their fields do
      } else if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (field.name.startsWith('_')) continue;
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) {
            // Paging arguments are documented once, on the field that takes them.
            if (!arg.description && !['first', 'after', 'id', 'provider', 'filter', 'input'].includes(arg.name)) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) if (!field.description) missing.push(`${type.name}.${field.name}`);
      if (isEnumType(type)) for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      if (isUnionType(type) || isScalarType(type)) continue;
    }
    expect(missing).toEqual([]);
  });
});

describe('DateTime', () => {
  it('rejects a malformed DateTime argument with BAD_USER_INPUT and normalizes a valid one', async () => {
    const { useTestGateway } = await import('./helpers/gateway.js');
    const t = await useTestGateway();
    const query = `query($at: DateTime) { contacts(provider: PODIUM, first: 1, filter: { updatedAfter: $at }) { edges { cursor } } }`;
    const bad = await t.gql(query, { at: 'yesterday' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('ISO-8601');
    t.podium.resetRequests();
    const good = await t.gql(query, { at: '2020-01-01T00:00:00+02:00' });
    expect(good.errors).toBeUndefined();
    expect(t.podium.requests[0]?.query).toContain('updated_at=2019-12-31T22%3A00%3A00');
  });
});
