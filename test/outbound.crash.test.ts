// kill -9 of a gateway process while Podium holds a send's answer (the
// message is made, the answer never arrives), then a new process and the
// client's retry with the same key: the send is found at Podium and settled,
// never made twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { startPodiumEmulator, type PodiumEmulator } from '../src/sandbox/podium/index.js';
import { gqlAt, mongoTestDb, until } from './helpers/gateway.js';
import { AGENT_KEY, conversationOn, KEYS_ENV, SEND, type SendAnswer } from './helpers/outbound.js';

let podium: PodiumEmulator | null = null;
afterEach(async () => {
  await podium?.close();
  podium = null;
});

/** The real entry point against the emulator and a shared store; resolves with its URL once it listens. */
async function startProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) if (/^(PODIUM|LEADCONNECTOR|SMOOCH|MONGODB|REDIS|GATEWAY)_/.test(key)) delete base[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === 'gateway listening') resolve((entry.url as string).replace(/\/graphql$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
  return { child, url };
}

describe('a gateway killed mid-send', () => {
  it('settles the send from Podium after a restart and the client retry: one upstream message', async () => {
    podium = await startPodiumEmulator();
    const api = podium.providerConfig().api;
    const db = mongoTestDb();
    const env = {
      ...KEYS_ENV,
      NODE_ENV: 'test',
      PORT: '0',
      LOG_LEVEL: 'info',
      GATEWAY_SANDBOX: 'false',
      GATEWAY_UPSTREAM_TIMEOUT_MS: '1000',
      MONGODB_URL: db.url,
      MONGODB_DB: db.db,
      PODIUM_API_URL: api.apiUrl,
      PODIUM_ACCESS_TOKEN: api.accessToken,
    };
    const first = await startProcess(env);
    const gql = gqlAt(first.url);
    const conversation = await conversationOn({ gql }, 'PODIUM', 'SMS');
    podium.injectFault({ ...podium.sendRequests, afterHandling: true, hang: true });
    const input = { to: { conversationId: conversation.id }, body: 'Sent before the crash', idempotencyKey: 'crash-1' };
    const pending = gql<SendAnswer>(SEND, { i: input }, AGENT_KEY).catch(() => null);
    await until(() => podium!.sendCount() === 1, 'the send reached Podium');
    first.child.kill('SIGKILL');
    await pending;

    const second = await startProcess(env);
    const retry = gqlAt(second.url);
    const replay = await retry<SendAnswer>(SEND, { i: input }, AGENT_KEY);
    expect(replay.data!.sendMessage.userErrors).toEqual([]);
    const id = replay.data!.sendMessage.outboundMessage!.id;
    const statusOf = async (): Promise<string> =>
      (await retry<{ node: { status: string } }>('query($id: ID!) { node(id: $id) { ... on OutboundMessage { status } } }', { id }, AGENT_KEY)).data!.node.status;
    // The killed process's lease runs out (5 s + 2 × the upstream timeout), then the worker looks the send up at Podium.
    await until(async () => /^(SENT|DELIVERED)$/.test(await statusOf()), 'the interrupted send settled', 20_000);
    expect(podium.sendCount()).toBe(1);
    second.child.kill('SIGTERM');
  }, 40_000);
});
