// Sets up the OpenTelemetry SDK for the process: a NodeTracerProvider (async
// context across awaits), the sampler, and either the OTLP/HTTP exporter of the
// config (batched) or an exporter a test gives (each span exported as it ends).
// The SDK is imported only here and only when tracing is on, so a gateway
// without an OTLP endpoint never loads it. The provider is process-global:
// src/index.ts starts it before the gateway and shuts it down after it.
import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { TelemetryConfig, TraceSampler } from '../config.js';
import { UnreachableCaseError } from '../errors.js';
import { setTracingEnabled } from './tracer.js';

export type TelemetrySetup =
  /** Production: spans batched and POSTed as OTLP/JSON to `config.tracesUrl`. */
  | { readonly kind: 'otlp'; readonly config: TelemetryConfig }
  /** Tests and embedders: every span handed to `exporter` as soon as it ends, everything sampled. */
  | { readonly kind: 'exporter'; readonly exporter: SpanExporter; readonly serviceName: string };

export interface Telemetry {
  /** Exports every span that has ended so far. */
  flush(): Promise<void>;
  /** Exports what is left, unregisters the SDK and turns the gateway's spans off. Idempotent. */
  shutdown(): Promise<void>;
}

export async function startTelemetry(setup: TelemetrySetup): Promise<Telemetry> {
  const sdk = await import('@opentelemetry/sdk-trace-node');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  let processor;
  let sampler: Sampler;
  let serviceName: string;
  if (setup.kind === 'otlp') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    const exporter = new OTLPTraceExporter({ url: setup.config.tracesUrl, headers: { ...setup.config.headers } });
    processor = new sdk.BatchSpanProcessor(exporter);
    sampler = samplerFor(sdk, setup.config.sampler, setup.config.samplerRatio);
    serviceName = setup.config.serviceName;
  } else {
    processor = new sdk.SimpleSpanProcessor(setup.exporter);
    sampler = new sdk.AlwaysOnSampler();
    serviceName = setup.serviceName;
  }
  const provider = new sdk.NodeTracerProvider({
    // Instances of one deployment share the name; the instance id tells them apart.
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.instance.id': randomUUID() }),
    sampler,
    spanProcessors: [processor],
  });
  provider.register();
  setTracingEnabled(true);

  let stopping: Promise<void> | null = null;
  return {
    flush: () => provider.forceFlush(),
    shutdown() {
      stopping ??= (async () => {
        setTracingEnabled(false);
        try {
          await provider.shutdown();
        } finally {
          // Lets a later startTelemetry register again (tests start several in one process).
          trace.disable();
          context.disable();
          propagation.disable();
        }
      })();
      return stopping;
    },
  };
}

type Sdk = typeof import('@opentelemetry/sdk-trace-node');

/** OTEL_TRACES_SAMPLER's values, as the OpenTelemetry SDK environment spec defines them. */
function samplerFor(sdk: Sdk, name: TraceSampler, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new sdk.AlwaysOnSampler();
    case 'always_off':
      return new sdk.AlwaysOffSampler();
    case 'traceidratio':
      return new sdk.TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) });
    default:
      throw new UnreachableCaseError(name);
  }
}
