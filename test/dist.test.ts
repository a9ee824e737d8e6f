// The build the container runs: `npm run build` compiles src/ to dist/ (not in
// git), and `node dist/index.js` (no tsx) starts on the sandbox, answers
// /healthz and a query, exports its traces by OTLP when an endpoint is set, and
// exits 0 on SIGTERM after flushing them.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startOtlpReceiver } from './helpers/otlp-receiver.js';

function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the built gateway', () => {
  it('builds with npm run build, then node dist/index.js serves /healthz and a query, traces it by OTLP and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    const build = await run('npm', ['run', 'build']);
    expect(build.code, build.output).toBe(0);

    const receiver = await startOtlpReceiver();
    onTestFinished(() => receiver.close());
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: '0', LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    for (const key of Object.keys(env)) if (/^(PODIUM|LEADCONNECTOR|SMOOCH|MONGODB|REDIS|GATEWAY|OTEL)_/.test(key) && key !== 'OTEL_EXPORTER_OTLP_ENDPOINT') delete env[key];
    const child = spawn(process.execPath, ['dist/index.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const messages: string[] = [];
    const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        messages.push(String(entry.msg));
        if (entry.msg === 'gateway listening') resolve(entry);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${stderr}`)));
    });

    const started = await listening;
    expect(started.tracing).toMatchObject({ exporter: 'otlp', serviceName: 'messaging-gateway' });
    const base = String(started.url).replace(/\/graphql$/, '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toMatch(/application\/json/);
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Staff { users(provider: PODIUM, first: 2) { edges { node { name } } } }' }),
    });
    expect(((await res.json()) as { data: { users: { edges: unknown[] } } }).data.users.edges).toHaveLength(2);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(messages).toContain('shutdown complete');
    // The spans still batched at SIGTERM were flushed before the exit.
    const names = receiver.spans().map((s) => s.name);
    expect(names).toContain('query Staff');
    expect(names).toContain('GET /v4/users');
  });
});
