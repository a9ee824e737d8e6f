// The webhook mirror of the embedded store: records copied in and out, so
// callers never alias stored state.
import type { ProviderName, WebhookRecord } from '../../model.js';
import type { WebhookMirror } from '../types.js';

export function createMemoryWebhookMirror(): WebhookMirror {
  const webhooks = new Map<string, WebhookRecord>();
  const savedAt = new Map<string, number>();
  const keyOf = (provider: ProviderName, id: string): string => `${provider}:${id}`;

  return {
    async saveWebhook(webhook) {
      webhooks.set(keyOf(webhook.provider, webhook.id), structuredClone(webhook));
      savedAt.set(keyOf(webhook.provider, webhook.id), Date.now());
    },
    async deleteWebhook(provider, id, options = {}) {
      const key = keyOf(provider, id);
      if (options.savedBefore && (savedAt.get(key) ?? 0) >= options.savedBefore.getTime()) return;
      webhooks.delete(key);
      savedAt.delete(key);
    },
    async listWebhooks(provider) {
      return [...webhooks.values()]
        .filter((webhook) => webhook.provider === provider)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((webhook) => structuredClone(webhook));
    },
    async getWebhook(provider, id) {
      const webhook = webhooks.get(keyOf(provider, id));
      return webhook ? structuredClone(webhook) : null;
    },
  };
}
