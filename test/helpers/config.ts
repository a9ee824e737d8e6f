// Provider configs for adapter tests: an emulator's config with parts of its API credentials replaced.
export function withApi<C extends { readonly api: object }>(config: C, overrides: Partial<C['api']>): C {
  return { ...config, api: { ...config.api, ...overrides } };
}
