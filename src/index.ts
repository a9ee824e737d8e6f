// Entry point: loadConfig(), the sandbox when no provider is configured,
// createGateway(config).listen(), and a graceful shutdown on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startSandbox, type Sandbox } from './sandbox/index.js';
import { createGateway } from './server.js';

async function main(): Promise<void> {
  let config;
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
  let sandbox: Sandbox | null = null;
  if (config.sandbox) {
    sandbox = await startSandbox(config);
    config = sandbox.config;
    for (const [name, emu] of sandbox.emulators) logger.info({ provider: name, url: emu.url }, 'sandbox emulator started');
  }
  const gateway = createGateway(config, { logger });
  const url = await gateway.listen(config.port);
  logger.info(
    {
      url: `${url}/graphql`,
      providers: [...gateway.providers.keys()],
      store: config.mongodbUrl ? 'mongodb' : 'embedded (in-memory, development only)',
      pubsub: config.redisUrl ? 'redis' : 'in-process',
      sandbox: config.sandbox,
      demo: config.demo,
      auth: config.apiKeys.size > 0 ? 'api keys' : 'none (development: every caller is admin)',
    },
    'gateway listening',
  );
  let stopDemo: (() => void) | null = null;
  if (sandbox) {
    await sandbox.connect(url);
    if (config.demo) stopDemo = sandbox.startDemo(logger);
  }

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

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
