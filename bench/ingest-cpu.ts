// CPU figures of bench:ingest, read from /proc: the database process this
// script started and the driver run's own process, so a run on a shared
// machine can be read by what each webhook or insert cost, not only by rates.
import { readdirSync, readFileSync } from 'node:fs';
import { printTable } from './harness.js';

export function cpuMsOf(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/** User + kernel ms of a process: fields 14 and 15 of /proc/<pid>/stat (after the command name), in clock ticks of 10 ms. */
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The pids of this process's children named `name`. */
function childPids(name: string): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      return stat.includes(`(${name})`) && Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]) === process.pid ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

let ferretDb: number | undefined | null = null;

export interface CpuPerWebhook {
  readonly gateway: number;
  readonly database: number;
  /** The subscriber process (bench/fanout-subscribers.ts): the receiving end of the fan-out. */
  readonly subscribers: number;
  /** This process: making, signing and POSTing the webhooks. */
  readonly sender: number;
}

/** Starts a measured window; calling what it returns ends it, and calling that with the webhook count gives the CPU ms per webhook of each process. */
export function cpuWindow(gatewayPid: number): () => (webhooks: number) => CpuPerWebhook {
  const subscribers = childPids('node').filter((pid) => pid !== gatewayPid);
  const read = (): number[] => [gatewayPid, ...subscribers].map((pid) => {
    try {
      return procCpuMs(pid);
    } catch {
      return Number.NaN;
    }
  });
  const before = read();
  const database = databaseCpuMs();
  const sender = process.cpuUsage();
  return () => {
    const after = read();
    const databaseUsed = databaseCpuMs() - database;
    const senderUsed = cpuMsOf(process.cpuUsage(sender));
    const used = (i: number): number => (after[i] as number) - (before[i] as number);
    return (webhooks) => {
      const per = (ms: number): number => Math.round((ms / webhooks) * 100) / 100;
      return { gateway: per(used(0)), database: per(databaseUsed), subscribers: per(subscribers.reduce((sum, _, i) => sum + used(i + 1), 0)), sender: per(senderUsed) };
    };
  };
}

/** CPU ms of the FerretDB this script started (startFerretDb); NaN when it did not (MONGODB_URL) or it is gone. */
export function databaseCpuMs(): number {
  if (ferretDb === null) ferretDb = childPids('ferretdb')[0];
  try {
    return ferretDb === undefined ? Number.NaN : procCpuMs(ferretDb);
  } catch {
    return Number.NaN;
  }
}

interface GatewayCpu {
  readonly pubsub: string;
  readonly cpuMsPerWebhook: CpuPerWebhook;
}

interface DriverCpu {
  readonly cpuMsPerDocument: { readonly database: number; readonly client: number };
}

export function printCpuTable(gateway: GatewayCpu, insertOnly: DriverCpu, withPublish: DriverCpu): void {
  printTable(
    'CPU per webhook or document (ms, user + kernel over the measured run, from /proc; on a shared machine these move less than the rates)',
    ['path', 'database process', 'gateway process', 'subscribers process', 'this process (sender or driver)', 'all'],
    [
      [`gateway webhook POST -> 200 (${gateway.pubsub} pubsub)`, ...cpuRow([gateway.cpuMsPerWebhook.database, gateway.cpuMsPerWebhook.gateway, gateway.cpuMsPerWebhook.subscribers, gateway.cpuMsPerWebhook.sender])],
      ['driver insertOne', ...cpuRow([insertOnly.cpuMsPerDocument.database, 0, 0, insertOnly.cpuMsPerDocument.client])],
      ['driver insertOne + publish writes', ...cpuRow([withPublish.cpuMsPerDocument.database, 0, 0, withPublish.cpuMsPerDocument.client])],
    ],
  );
  console.log('  the gateway figure includes the fan-out to every subscriber; the database figure is NaN with MONGODB_URL (not a child of this script). "all" over 2 cores bounds the rate an idle machine could reach');
}

function cpuRow(figures: readonly number[]): (number | string)[] {
  return [...figures.map((f) => (f === 0 ? '' : f)), Math.round(figures.reduce((a, b) => a + b, 0) * 100) / 100];
}
