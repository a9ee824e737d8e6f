// The OTLP side of tracing: the OTEL_* variables as src/config.ts reads them,
// and the real OTLP/HTTP exporter posting a query's spans to a local receiver.
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { startTelemetry } from '../src/telemetry/sdk.js';
import { tracingEnabled } from '../src/telemetry/tracer.js';
import { useTestGateway } from './helpers/gateway.js';
import { startOtlpReceiver } from './helpers/otlp-receiver.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is set, and OTEL_SDK_DISABLED turns it off', () => {
    expect(loadConfig({}).telemetry).toBeNull();
    expect(loadConfig({ OTEL_SERVICE_NAME: 'alone' }).telemetry).toBeNull();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).telemetry).toBeNull();
  });

  it('posts to <endpoint>/v1/traces, or to the traces endpoint as given, with the headers and service name', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).telemetry).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      headers: {},
      serviceName: 'messaging-gateway',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
    const custom = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/api/traces',
      OTEL_EXPORTER_OTLP_HEADERS: 'X-Api-Key=abc%3D%3D, team=chat',
      OTEL_SERVICE_NAME: 'gateway-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).telemetry;
    expect(custom).toEqual({
      tracesUrl: 'https://otlp.example.com/api/traces',
      headers: { 'x-api-key': 'abc==', team: 'chat' },
      serviceName: 'gateway-eu',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
  });

  it('names each bad OTEL variable, without echoing header values', () => {
    const found = problems({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%zz-secret,novalue',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '1.5',
    });
    expect(found).toEqual([
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT must be a http or https URL/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_HEADERS entry 1 \(authorization\) has a value that is not valid percent-encoding/),
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_HEADERS entry 2 must be name=value/),
      expect.stringMatching(/^OTEL_TRACES_SAMPLER must be one of always_on, .*got "sometimes"/),
      expect.stringMatching(/^OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "1.5"/),
    ]);
    expect(found.join('\n')).not.toContain('secret');
  });
});

describe('the OTLP exporter', () => {
  it('posts a query’s spans as OTLP/JSON to OTEL_EXPORTER_OTLP_ENDPOINT, with the configured headers and service name', async () => {
    const receiver = await startOtlpReceiver();
    onTestFinished(() => receiver.close());
    const config = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k1', OTEL_SERVICE_NAME: 'gw-otlp-test' });
    const telemetry = await startTelemetry({ kind: 'otlp', config: config.telemetry! });
    onTestFinished(() => telemetry.shutdown());

    const t = await useTestGateway();
    const res = await t.gql('query Team { users(provider: PODIUM, first: 3) { edges { node { name } } } }');
    expect(res.errors).toBeUndefined();
    // Batched: nothing is sent until a flush (or the batch timer); shutdown flushes.
    await telemetry.shutdown();
    expect(tracingEnabled()).toBe(false);

    expect(receiver.requests.length).toBeGreaterThan(0);
    for (const r of receiver.requests) {
      expect(r.path).toBe('/v1/traces');
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.headers['x-collector-key']).toBe('k1');
    }
    const spans = receiver.spans();
    const op = spans.find((s) => s.name === 'query Team');
    const call = spans.find((s) => s.name === 'GET /v4/users');
    expect(op?.service).toBe('gw-otlp-test');
    expect(call).toMatchObject({ traceId: op?.traceId, parentSpanId: op?.spanId });
  });
});
