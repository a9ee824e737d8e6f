// POST /webhooks/<provider>: the raw body (signatures are over the exact bytes),
// decompressed when the provider sent it encoded, handed to the ingest pipeline,
// whose result this route turns into HTTP. 1 MiB at most, before and after
// decompression.
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Ingest } from '../events/ingest.js';
import { traceDelivery } from '../events/ingest-spans.js';
import type { GatewayMetrics } from '../metrics.js';
import type { ProviderName } from '../model.js';
import { PROVIDER_DESCRIPTORS } from '../providers/index.js';
import { sendError } from './reply.js';

/** Each provider's webhook route (its descriptor's webhook.path). */
export const WEBHOOK_PATHS: Readonly<Record<string, ProviderName>> = Object.fromEntries(PROVIDER_DESCRIPTORS.map((d) => [d.webhook.path, d.name]));

export interface WebhookRouteOptions {
  readonly ingest: Ingest;
  readonly metrics: GatewayMetrics;
  /** Largest body, compressed or not. */
  readonly maxBytes: number;
}

type Decoder = (buffer: InputType, options: ZlibOptions) => Promise<Buffer>;
const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: promisify(gunzip) as Decoder,
  'x-gzip': promisify(gunzip) as Decoder,
  deflate: promisify(inflate) as Decoder,
  br: promisify(brotliDecompress) as Decoder,
};

class WebhookBodyError extends Error {
  constructor(
    readonly status: 413 | 415 | 400,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const webhookRoutes: FastifyPluginAsync<WebhookRouteOptions> = async (app, options) => {
  const { ingest, metrics, maxBytes } = options;
  // Every content type arrives as bytes: the signature covers them exactly, and some providers' receivers keep non-JSON bodies.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const provider = WEBHOOK_PATHS[request.routeOptions.url ?? ''];
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || (err instanceof WebhookBodyError && err.status === 413)) {
      if (provider) metrics.countWebhook(provider, 'too_large');
      // Close the connection: the rest of an oversized body is not worth reading.
      return sendError(reply, 413, 'payload_too_large', `webhook bodies are limited to ${maxBytes} bytes`, { connection: 'close' });
    }
    if (err instanceof WebhookBodyError) {
      if (provider) metrics.countWebhook(provider, 'bad_request');
      return sendError(reply, err.status, err.code, err.message);
    }
    request.log.error({ err }, 'webhook route failed');
    return sendError(reply, err.statusCode && err.statusCode < 500 ? err.statusCode : 500, 'internal_error', 'Internal server error');
  });

  for (const [url, provider] of Object.entries(WEBHOOK_PATHS)) {
    app.route({
      method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'],
      url,
      handler: (_request, reply) => sendError(reply, 405, 'method_not_allowed', 'webhooks are POSTed', { allow: 'POST' }),
    });
    app.post(url, async (request, reply) => {
      const receivedAt = new Date();
      const result = await traceDelivery(provider, url, async () =>
        ingest.receive(provider, { headers: flatHeaders(request), rawBody: await decodedBody(request, maxBytes), receivedAt }),
      );
      return reply.code(result.status).send(result.body);
    });
  }
};

async function decodedBody(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  const decode = DECODERS[encoding];
  if (!decode) throw new WebhookBodyError(415, 'unsupported_encoding', `Content-Encoding "${encoding.slice(0, 40)}" is not supported; send identity, gzip, deflate or br`);
  try {
    return await decode(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new WebhookBodyError(413, 'payload_too_large', `webhook bodies are limited to ${maxBytes} bytes`);
    }
    throw new WebhookBodyError(400, 'bad_encoding', `the body is not valid ${encoding} data`);
  }
}

/** Lower-cased names, repeated headers joined, as the receivers expect. */
function flatHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
