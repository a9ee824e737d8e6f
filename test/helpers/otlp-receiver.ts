// A tiny OTLP/HTTP receiver on an ephemeral port: records every POST (path,
// headers, JSON body) so a test can see what the exporter really sent.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: OtlpTraces;
}

/** The parts of OTLP/JSON's ExportTraceServiceRequest the tests read. */
export interface OtlpTraces {
  readonly resourceSpans: ReadonlyArray<{
    readonly resource: { readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: { readonly stringValue?: string } }> };
    readonly scopeSpans: ReadonlyArray<{
      readonly scope: { readonly name: string };
      readonly spans: ReadonlyArray<{ readonly name: string; readonly traceId: string; readonly spanId: string; readonly parentSpanId?: string; readonly kind: number }>;
    }>;
  }>;
}

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly requests: readonly OtlpRequest[];
  /** Every span received so far, with its resource's service.name. */
  spans(): Array<OtlpTraces['resourceSpans'][number]['scopeSpans'][number]['spans'][number] & { readonly service: string | undefined }>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: OtlpRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"not JSON"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    spans: () =>
      requests.flatMap((r) =>
        r.body.resourceSpans.flatMap((rs) => {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
          return rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ ...span, service })));
        }),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
