// The first minute after `npm start`: a second start with nothing changed skips
// the build, `/` sends a browser to the explorer (a JSON index of the routes in
// production), and the log has one plain line with the URLs to open.
import { spawn, spawnSync } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { until, useTestGateway } from './helpers/gateway.js';

describe('start-up', () => {
  it('a second npm start with nothing changed skips the build, answers /healthz, and prints one plain line with the explorer, console and GraphQL URLs', { timeout: 180_000 }, async () => {
    // The first start (or whatever build is due): afterwards dist/ is up to date.
    const first = spawnSync(process.execPath, ['scripts/build-if-changed.mjs'], { encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    const builtAt = statSync('dist/.tsbuildinfo').mtimeMs;

    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: '0', LOG_LEVEL: 'info' };
    for (const key of Object.keys(env)) if (/^(PODIUM|LEADCONNECTOR|SMOOCH|MONGODB|REDIS|GATEWAY|OTEL)_/.test(key)) delete env[key];
    const startedAt = Date.now();
    // Its own process group, so the test can stop npm and the gateway it runs together.
    const child = spawn('npm', ['start', '--silent'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    onTestFinished(() => {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    });
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
    child.stdout.resume();
    await until(() => stderr.some((l) => l.startsWith('Gateway ready: ')), 'the start-up line', 120_000);
    const ready = stderr.find((l) => l.startsWith('Gateway ready: '))!;
    const match = /^Gateway ready: explorer (http:\/\/\S+)\/explorer \| console \1\/console \| GraphQL \1\/graphql$/.exec(ready);
    expect(match, ready).not.toBeNull();
    const base = match![1]!;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Not a timed assertion (the machine may be busy): the build was skipped, which is what makes it quick.
    console.info(`npm start to the start-up line: ${Date.now() - startedAt} ms`);
    expect(stderr).toContain('build: dist/ is up to date with src/, not compiling');
    expect(statSync('dist/.tsbuildinfo').mtimeMs).toBe(builtAt);

    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/explorer');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  });

  it('in production GET / answers a short JSON index of the routes', async () => {
    const t = await useTestGateway({ mongo: true, env: { NODE_ENV: 'production' } });
    const res = await fetch(`${t.url}/`, { redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'messaging-gateway',
      graphql: '/graphql',
      console: '/console',
      webhooks: ['/webhooks/podium', '/webhooks/leadconnector', '/webhooks/smooch'],
      health: '/healthz',
      readiness: '/readyz',
      metrics: '/metrics',
    });
  });

  it('rebuilds (incrementally) when a source file changed since the last build', { timeout: 180_000 }, async () => {
    spawnSync(process.execPath, ['scripts/build-if-changed.mjs']);
    const before = statSync('dist/.tsbuildinfo').mtimeMs;
    const later = new Date(Date.now() + 1_000);
    utimesSync('src/urls.ts', later, later);
    const rebuilt = spawnSync(process.execPath, ['scripts/build-if-changed.mjs'], { encoding: 'utf8' });
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(rebuilt.stderr).toContain('build: src/ changed, compiling what changed into dist/');
    expect(statSync('dist/.tsbuildinfo').mtimeMs).toBeGreaterThan(before);
  });
});
