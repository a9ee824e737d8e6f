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

/** The pid of this process's child named `name`, if any. */
function childPid(name: string): number | undefined {
  const pid = readdirSync('/proc').find((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      return stat.includes(`(${name})`) && Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]) === process.pid;
    } catch {
      return false;
    }
  });
  return pid === undefined ? undefined : Number(pid);
}

let ferretDb: number | undefined | null = null;

/** CPU ms of the FerretDB this script started (startFerretDb); NaN when it did not (MONGODB_URL) or it is gone. */
export function databaseCpuMs(): number {
  if (ferretDb === null) ferretDb = childPid('ferretdb');
  try {
    return ferretDb === undefined ? Number.NaN : procCpuMs(ferretDb);
  } catch {
    return Number.NaN;
  }
}

interface GatewayCpu {
  readonly pubsub: string;
  readonly cpuMsPerWebhook: { readonly gateway: number; readonly database: number };
}

interface DriverCpu {
  readonly cpuMsPerDocument: { readonly database: number; readonly client: number };
}

export function printCpuTable(gateway: GatewayCpu, insertOnly: DriverCpu, withPublish: DriverCpu): void {
  printTable(
    'CPU per webhook or document (ms, user + kernel over the measured run, from /proc; on a shared machine these move less than the rates)',
    ['path', 'database process', 'gateway process', 'driver (this process)'],
    [
      [`gateway webhook POST -> 200 (${gateway.pubsub} pubsub)`, gateway.cpuMsPerWebhook.database, gateway.cpuMsPerWebhook.gateway, ''],
      ['driver insertOne', insertOnly.cpuMsPerDocument.database, '', insertOnly.cpuMsPerDocument.client],
      ['driver insertOne + publish writes', withPublish.cpuMsPerDocument.database, '', withPublish.cpuMsPerDocument.client],
    ],
  );
  console.log('  the gateway figure includes the fan-out to every subscriber; the database figure is NaN with MONGODB_URL (not a child of this script)');
}
