// List filters an adapter cannot apply. An argument is never ignored: a filter
// the provider's API does not offer (and the gateway does not re-apply) is
// refused as bad input, naming the filter and the provider.
import { userInputError } from '../errors.js';
import type { ProviderName } from '../model.js';
import { PROVIDER_LABELS } from './labels.js';

/** Filter name -> why the provider cannot apply it. */
export type Unsupported<F> = Partial<Record<keyof F & string, string>>;

export function refuseUnsupported<F extends object>(provider: ProviderName, list: string, filter: F, unsupported: Unsupported<F>): void {
  for (const [name, why] of Object.entries(unsupported) as Array<[keyof F & string, string]>) {
    const value: unknown = filter[name];
    if (value === null || value === undefined || value === '') continue;
    throw userInputError(`${PROVIDER_LABELS[provider]} cannot filter ${list} by ${name}: ${why}`, { argumentName: `filter.${name}` });
  }
}
