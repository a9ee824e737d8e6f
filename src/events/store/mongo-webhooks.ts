// The webhook mirror in MongoDB: one `webhooks` document per provider
// subscription (`_id` = `<provider>:<id>`), secrets included.
import type { Db } from 'mongodb';
import type { WebhookMirror } from '../types.js';
import { EVENT_COLLECTIONS, webhookId, webhookRecord, type WebhookDocument } from './mongo-documents.js';

export function createMongoWebhookMirror(db: Db): WebhookMirror {
  const webhooks = db.collection<WebhookDocument>(EVENT_COLLECTIONS.webhooks, { writeConcern: { w: 'majority' } });
  return {
    async saveWebhook(webhook) {
      const _id = webhookId(webhook.provider, webhook.id);
      // An upsert takes `_id` from the filter.
      // `savedAt` stays in the document (webhookRecord() drops it on the way out).
      await webhooks.replaceOne({ _id }, { ...webhookRecord(webhook), savedAt: new Date() }, { upsert: true });
    },
    async deleteWebhook(provider, id, options = {}) {
      const _id = webhookId(provider, id);
      // Mirrors saved before `savedAt` existed count as old.
      const old = options.savedBefore ? { $or: [{ savedAt: { $lt: options.savedBefore } }, { savedAt: { $exists: false } }] } : {};
      await webhooks.deleteOne({ _id, ...old });
    },
    async listWebhooks(provider) {
      const documents = await webhooks.find({ provider }).sort({ _id: 1 }).toArray();
      return documents.map(webhookRecord);
    },
    async getWebhook(provider, id) {
      const document = await webhooks.findOne({ _id: webhookId(provider, id) });
      return document ? webhookRecord(document) : null;
    },
  };
}
