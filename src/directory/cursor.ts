// Directory cursors: the (activity time, id) of the entry to resume after, so a
// cursor keeps its place when newer activity arrives at the front of the list.
import { userInputError } from '../errors.js';

export interface Position {
  readonly activityAt: string;
  readonly id: string;
}

export function encodeDirectoryCursor(position: Position): string {
  return `d1:${position.activityAt}:${position.id}`;
}

export function decodeDirectoryCursor(cursor: string): Position {
  const match = /^d1:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z):(.+)$/.exec(cursor);
  if (!match) throw userInputError(`"after" is not a directory cursor this gateway issued: "${cursor.slice(0, 80)}"`);
  return { activityAt: match[1] as string, id: match[2] as string };
}

/** Whether an entry comes after the position in the list's order (newest activity first, then id descending). */
export function isAfter(entry: Position, position: Position): boolean {
  return entry.activityAt < position.activityAt || (entry.activityAt === position.activityAt && entry.id < position.id);
}

/** Any parseable time as the directory stores it (ISO 8601 with milliseconds, UTC); null when unparseable. */
export function isoTime(value: string | null | undefined): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
