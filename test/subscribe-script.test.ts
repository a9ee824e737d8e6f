// scripts/subscribe.ts as the README runs it, against a real gateway: events on
// stdout naming their account, everything else on stderr, a cursor the gateway
// no longer knows restarts live, a refusal exits non-zero.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { encodeEventCursor, idFloor } from '../src/events/cursor.js';
import { until, useTestGateway, VIEWER_KEY } from './helpers/gateway.js';

interface Script {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
}

function runScript(args: readonly string[], env: Record<string, string>): Script {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/subscribe.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

describe('scripts/subscribe.ts', () => {
  it('says on stderr when its cursor is no longer known and goes on live, printing events that name their account', async () => {
    const t = await useTestGateway();
    await t.podium.addWebhookTarget(`${t.url}/webhooks/podium`);
    // A well-formed cursor of an event this gateway never stored, as after a restart on the embedded store.
    const stale = encodeEventCursor(`${idFloor(Date.now() - 60_000).slice(0, 12)}${'ab'.repeat(8)}`);
    const script = runScript(['received', 'PODIUM'], { GATEWAY_URL: t.url, GATEWAY_KEY: VIEWER_KEY, GATEWAY_AFTER: stale });
    await until(() => script.stderr.some((l) => l.includes('no longer knows the cursor')), 'the restart notice', 15_000);
    expect(script.stdout).toEqual([]);
    await until(async () => {
      await t.podium.emitMessageEvent('RECEIVED');
      return script.stdout.length > 0;
    }, 'a live event after the restart', 15_000);
    const event = JSON.parse(script.stdout[0]!) as { messageReceived: { provider: string; account: { id: string; name: string } } };
    expect(event.messageReceived.provider).toBe('PODIUM');
    expect(event.messageReceived.account).toEqual({ id: expect.any(String), name: expect.any(String) });
    expect(script.child.exitCode).toBeNull();
  });

  it('exits non-zero with the error on stderr for a provider the schema does not know', async () => {
    const t = await useTestGateway();
    const script = runScript(['received', 'HIGHLEVEL'], { GATEWAY_URL: t.url, GATEWAY_KEY: VIEWER_KEY });
    expect(await script.exited).toBe(1);
    expect(script.stdout).toEqual([]);
    expect(script.stderr.join("\n")).toMatch(/subscription refused: .*HIGHLEVEL.*Did you mean "LEADCONNECTOR"/);
  });

  it('exits non-zero when the gateway refuses the key', async () => {
    const t = await useTestGateway();
    const script = runScript(['sent'], { GATEWAY_URL: t.url, GATEWAY_KEY: 'not-a-key' });
    expect(await script.exited).toBe(1);
    expect(script.stdout).toEqual([]);
    expect(script.stderr.join('\n')).toMatch(/refused/);
  });
});
