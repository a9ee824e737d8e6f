// Vitest global setup: gives every test file a MongoDB-compatible server and a
// Redis. MONGODB_URL / REDIS_URL point at existing servers; otherwise private
// FerretDB and redis-server processes are started for the run and stopped after
// it. A server that cannot be found or started fails the run (with how to
// install it): tests of the store and pubsub are never skipped.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startFerretDb, startRedis, type RunningService } from './ferretdb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongodbUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: RunningService[] = [];
  const teardown = async (): Promise<void> => {
    await Promise.all(started.map((service) => service.stop()));
  };

  const useOrStart = async (url: string | undefined, start: () => Promise<RunningService>): Promise<string> => {
    if (url) return url;
    const service = await start();
    started.push(service);
    return service.url;
  };

  const results = await Promise.allSettled([
    useOrStart(process.env['MONGODB_URL'], startFerretDb),
    useOrStart(process.env['REDIS_URL'], startRedis),
  ]);
  const [mongodb, redis] = results;
  if (mongodb?.status !== 'fulfilled' || redis?.status !== 'fulfilled') {
    await teardown();
    const reasons = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
    throw new Error(`Could not provide the test services:\n${reasons.join('\n')}`);
  }

  project.provide('mongodbUrl', mongodb.value);
  project.provide('redisUrl', redis.value);
  return teardown;
}
