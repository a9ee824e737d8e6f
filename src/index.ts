// Entry point: .env (when present), loadConfig(), the sandbox for providers
// without API credentials, createGateway(config).listen(), the sandbox's
// webhooks and accounts, and a graceful shutdown on SIGTERM/SIGINT.
import { existsSync } from 'node:fs';
import type { Account } from './accounts/types.js';
import { ConfigError, loadConfig, redactUrl, type GatewayConfig } from './config.js';
import { CONSOLE_PATH, EXPLORER_PATH } from './http/pages.js';
import { encodeId } from './ids.js';
import { createLogger } from './logger.js';
import type { ProviderName } from './model.js';
import { configOf, descriptorOf } from './providers/index.js';
import { startSandbox, type ConfigSource, type Sandbox } from './sandbox/index.js';
import { createGateway, type Gateway } from './server.js';
import { startTelemetry, type Telemetry } from './telemetry/sdk.js';

/** Variables already in the environment win over the file, as with `node --env-file`. */
const ENV_FILE = '.env';

async function main(): Promise<void> {
  if (existsSync(ENV_FILE)) process.loadEnvFile(ENV_FILE);
  let config: GatewayConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Before anything that makes spans; after the gateway's close, so its last spans are exported.
  const telemetry: Telemetry | null = config.telemetry ? await startTelemetry({ kind: 'otlp', config: config.telemetry }) : null;
  let sandbox: Sandbox | null = null;
  if (config.sandbox) {
    sandbox = await startSandbox(config);
    config = sandbox.config;
    for (const [name, emu] of sandbox.emulators) logger.info({ provider: name, url: emu.url }, 'sandbox emulator started');
  }
  const gateway = createGateway(config, { logger });
  let url: string;
  try {
    url = await gateway.listen(config.port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`Port ${config.port} is already in use: stop the process holding it, or set PORT to another port.`);
      await Promise.allSettled([gateway.close(), sandbox?.close()]);
      process.exit(1);
    }
    throw err;
  }
  let seeded: readonly Account[] = [];
  if (sandbox) {
    await sandbox.connect(url);
    seeded = await sandbox.seedAccounts(url, gateway.accounts, logger);
  }
  logger.info(
    {
      url: `${url}/graphql`,
      providers: describeProviders(config, gateway, sandbox?.sources ?? null, seeded),
      store: config.mongodbUrl ? 'mongodb' : 'embedded (in-memory, development only)',
      pubsub: config.redisUrl ? 'redis' : 'in-process',
      sandbox: config.sandbox,
      demo: config.demo,
      auth: config.apiKeys.size > 0 ? 'api keys' : 'none (development: every caller is admin)',
      introspection: config.introspection,
      tracing: config.telemetry ? { exporter: 'otlp', url: redactUrl(config.telemetry.tracesUrl), serviceName: config.telemetry.serviceName } : 'off',
    },
    'gateway listening',
  );
  // One plain line a person can read (and click) among the JSON log lines: on stderr, so stdout stays JSON.
  process.stderr.write(`${startedLine(url, config)}\n`);
  const stopDemo = sandbox && config.demo ? sandbox.startDemo(logger) : null;

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining connections');
    stopDemo?.();
    const force = setTimeout(() => {
      logger.error('shutdown took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    gateway
      .close()
      .then(() => sandbox?.close())
      .then(() => telemetry?.shutdown())
      .then(
        () => {
          logger.info('shutdown complete');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** `Gateway ready: explorer <url> | console <url> | GraphQL <url>`, naming only the pages that are on. */
function startedLine(url: string, config: GatewayConfig): string {
  const parts = [
    ...(config.explorer ? [`explorer ${url}${EXPLORER_PATH}`] : []),
    ...(config.console ? [`console ${url}${CONSOLE_PATH}`] : []),
    `GraphQL ${url}/graphql`,
  ];
  return `Gateway ready: ${parts.join(' | ')}`;
}

/**
 * Per provider: which parts are real and which emulated, the webhook
 * verification in force, and the accounts the sandbox connected (with the id
 * `account:` arguments take; the environment's account stays the default).
 */
function describeProviders(config: GatewayConfig, gateway: Gateway, sources: ReadonlyMap<ProviderName, ConfigSource> | null, seeded: readonly Account[]): Record<string, unknown> {
  const described: Record<string, unknown> = {};
  for (const [name, provider] of gateway.providers) {
    const descriptor = descriptorOf(name);
    const hasApi = descriptor.environment(configOf(config, descriptor)) !== null;
    const source = sources?.get(name) ?? { api: hasApi ? 'configured' : 'none (webhooks only)', webhooks: 'configured' };
    const seededAccounts = seeded.filter((a) => a.provider === name).map((a) => ({ id: encodeId(a.provider, 'Account', a.id), name: a.name }));
    described[name] = { ...source, verification: provider.receiver.verification, ...(seededAccounts.length > 0 ? { seededAccounts } : {}) };
  }
  return described;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
