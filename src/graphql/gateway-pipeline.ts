// The gateway's operation pipeline: its steps, in the order they run. Tracing
// and metrics come first so they see every operation, also a refused one;
// authorization before the cost estimate, so a caller without the role learns
// that first.
import { authorizationPlugin } from '../auth.js';
import { responseCachePlugin } from '../cache/response-plugin.js';
import { graphqlMetricsPlugin, type GatewayMetrics } from '../metrics.js';
import { tracingPlugin } from '../telemetry/graphql.js';
import type { OperationLimits } from './limits.js';
import { limitsPlugin } from './limits.js';
import { createOperationPipeline, type OperationPipeline } from './pipeline.js';
import { trustedDocumentsPlugin, type TrustedDocuments } from './trusted-documents.js';

export interface GatewayPipelineOptions {
  readonly limits: OperationLimits;
  readonly metrics: GatewayMetrics;
  /** Only these operations run. @default null (any operation) */
  readonly trustedDocuments?: TrustedDocuments | null;
}

export function createGatewayPipeline(options: GatewayPipelineOptions): OperationPipeline {
  return createOperationPipeline([
    tracingPlugin(),
    graphqlMetricsPlugin(options.metrics),
    ...(options.trustedDocuments ? [trustedDocumentsPlugin(options.trustedDocuments)] : []),
    authorizationPlugin(),
    limitsPlugin(options.limits),
    // Last: it only marks what the steps before let through.
    responseCachePlugin(),
  ]);
}
