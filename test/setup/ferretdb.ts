// Starts private, throwaway servers for the tests: FerretDB (MongoDB wire
// protocol, SQLite backend) and redis-server, each on its own port with its own
// temporary data directory, removed on stop. Binaries come from
// scripts/install-ferretdb.sh and scripts/install-redis.sh; a missing one is an
// error saying how to install it, never a reason to skip tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunningService {
  /** Connection URL (`mongodb://…` or `redis://…`). */
  readonly url: string;
  /** Stops the server and deletes its data; calling it twice is harmless. */
  stop(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** How long a server may take from spawn to accepting connections. */
const START_TIMEOUT_MS = 30_000;
/** How long a server may take to exit on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

interface BinarySpec {
  readonly name: string;
  readonly envVar: string;
  readonly installScript: string;
}

const FERRETDB: BinarySpec = { name: 'ferretdb', envVar: 'FERRETDB_BIN', installScript: 'scripts/install-ferretdb.sh' };
const REDIS: BinarySpec = { name: 'redis-server', envVar: 'REDIS_SERVER_BIN', installScript: 'scripts/install-redis.sh' };

/** A FerretDB on a port of its own choosing (it reports the port it bound). */
export async function startFerretDb(): Promise<RunningService> {
  const binary = findBinary(FERRETDB);
  const dataDir = await mkdtemp(join(tmpdir(), 'gateway-ferretdb-'));
  try {
    const { child, match } = await startProcess(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        '--listen-addr=127.0.0.1:0',
        // Without these it takes port 8088 and writes state.json into the cwd.
        '--debug-addr=-',
        '--state-dir=-',
        '--telemetry=disable',
      ],
      /Listening on TCP 127\.0\.0\.1:(\d+)/,
    );
    return { url: `mongodb://127.0.0.1:${match[1]}/`, stop: stopper(child, dataDir) };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** A redis-server without persistence on a free port. */
export async function startRedis(): Promise<RunningService> {
  const binary = findBinary(REDIS);
  const dataDir = await mkdtemp(join(tmpdir(), 'gateway-redis-'));
  try {
    // redis-server cannot bind port 0 and report it, so we pick a free port;
    // another process may take it in between, hence the retries.
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      try {
        const { child } = await startProcess(
          binary,
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dataDir],
          /Ready to accept connections/,
        );
        return { url: `redis://127.0.0.1:${port}`, stop: stopper(child, dataDir) };
      } catch (error) {
        if (attempt >= 3 || !/address already in use/i.test(String(error))) throw error;
      }
    }
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function findBinary(spec: BinarySpec): string {
  const hint = `Install it with \`bash ${spec.installScript}\` (from the repository root), or set ${spec.envVar} to its path.`;
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new Error(`Expected ${spec.envVar} to name an executable ${spec.name}, but ${fromEnv} is not one. ${hint}`);
  }
  const local = join(REPO_ROOT, '.test-services', 'bin', spec.name);
  if (isExecutable(local)) return local;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, spec.name);
    if (dir !== '' && isExecutable(candidate)) return candidate;
  }
  throw new Error(
    `The tests need ${spec.name}, but it is neither in $${spec.envVar}, in .test-services/bin/ nor on PATH. ${hint}`,
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`Expected a TCP address from a server on port 0, received ${String(address)}`));
      });
    });
  });
}

/** Children still running, killed if the test runner exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns `binary` and resolves once a line of its output matches `ready`. */
function startProcess(
  binary: string,
  args: readonly string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    const output: string[] = [];
    let settled = false;

    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${binary} ${args.join(' ')}: ${reason}\n${output.slice(-30).join('\n')}`));
    };
    const timer = setTimeout(() => fail(`expected it to accept connections within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);

    const onLine = (line: string): void => {
      output.push(line);
      if (output.length > 200) output.shift();
      const match = settled ? null : ready.exec(line);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    // Both streams are read for as long as the child runs: a full pipe would block it.
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        lines.forEach(onLine);
      });
    }
    child.once('error', (error) => fail(`could not start: ${error.message}`));
    child.once('exit', (code, signal) => fail(`exited before accepting connections (code ${code}, signal ${signal})`));
  });
}

function stopper(child: ChildProcess, dataDir: string): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
}
