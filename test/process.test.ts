// The real entry point as `npm start` runs it with nothing configured: the
// sandbox emulators and the accounts it connects, the embedded store, queries
// that return data, and a graceful exit on SIGTERM.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';

describe('the gateway process', () => {
  it('starts on the sandbox with no configuration, serves all three providers, and exits 0 on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', PORT: '0', LOG_LEVEL: 'info' };
    for (const key of Object.keys(env)) if (/^(PODIUM|LEADCONNECTOR|SMOOCH|MONGODB|REDIS|GATEWAY)_/.test(key)) delete env[key];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const lines: Array<Record<string, unknown>> = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'gateway listening') resolve(entry);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
    });

    const started = await listening;
    expect(started).toMatchObject({ sandbox: true, store: expect.stringContaining('embedded') });
    // The start-up log says, per provider, which parts are emulated.
    const providers = started.providers as Record<string, { api: string; webhooks: string; seededAccounts?: Array<{ id: string; name: string }> }>;
    expect(Object.keys(providers)).toEqual(['PODIUM', 'LEADCONNECTOR', 'SMOOCH']);
    expect(providers.PODIUM).toMatchObject({ api: 'emulated', webhooks: 'emulated' });
    // ... and which accounts the sandbox connected, with the id `account:` takes.
    expect(providers.PODIUM?.seededAccounts).toEqual([{ id: expect.any(String), name: 'Bonneville Dental' }]);
    expect(providers.LEADCONNECTOR?.seededAccounts).toEqual([{ id: expect.any(String), name: 'Sandbox Smiles Uptown' }]);
    expect(providers.SMOOCH?.seededAccounts).toBeUndefined();
    const url = started.url as string;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ p: users(provider: PODIUM, first: 10) { edges { node { name } } } l: users(provider: LEADCONNECTOR, first: 10) { edges { node { name } } } }' }),
    });
    const body = (await res.json()) as { data: { p: { edges: unknown[] }; l: { edges: unknown[] } } };
    expect(body.data.p.edges).toHaveLength(10);
    expect(body.data.l.edges.length).toBeGreaterThan(0); // the users of the configured HighLevel location
    const ofSeeded = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($a: ID) { contacts(provider: PODIUM, account: $a, first: 1) { edges { node { account { name } } } } }', variables: { a: providers.PODIUM?.seededAccounts?.[0]?.id } }),
    });
    expect(await ofSeeded.json()).toEqual({ data: { contacts: { edges: [{ node: { account: { name: 'Bonneville Dental' } } }] } } });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.map((l) => l.msg)).toContain('shutdown complete');
    // Info-level logs carry no credentials or message bodies.
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/sandbox-(podium|smooch)-secret|Bearer /);
  });
});
