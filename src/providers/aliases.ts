// Names people reach for that are not a provider's value here (each descriptor's
// `aliases`: a product name where the schema uses its API's name). Used to add a
// did-you-mean to errors about a provider value (GraphQL's Provider enum).
import type { ProviderName } from '../model.js';
import { PROVIDER_DESCRIPTORS, type AnyDescriptor } from './index.js';

interface Alias {
  readonly meant: ProviderName;
  readonly why: string;
}

let table: ReadonlyMap<string, Alias> | null = null;

/** Built on first use from the descriptors (this module is loaded before the registry is). */
function aliases(): ReadonlyMap<string, Alias> {
  table ??= new Map(
    (PROVIDER_DESCRIPTORS as readonly AnyDescriptor[]).flatMap((d) => (d.aliases?.names ?? []).map((name) => [name, { meant: d.name, why: d.aliases!.why }] as const)),
  );
  return table;
}

/** The provider value a misnamed one means, or null (case and `-`/space insensitive). */
export function providerAlias(value: string): ProviderName | null {
  return aliases().get(value.trim().toUpperCase().replace(/[-\s]+/g, '_'))?.meant ?? null;
}

/** ` Did you mean "LEADCONNECTOR"? (why)` for an alias, else ''. */
export function providerHint(value: string): string {
  const alias = aliases().get(value.trim().toUpperCase().replace(/[-\s]+/g, '_'));
  return alias ? ` Did you mean "${alias.meant}"? (${alias.why})` : '';
}

/** A GraphQL message about a value outside the Provider enum, with the hint appended when the value is an alias. */
export function withProviderEnumHint(message: string): string {
  const value = /Value "([^"]+)" does not exist in "Provider" enum/.exec(message)?.[1];
  return value ? `${message}${providerHint(value)}` : message;
}
