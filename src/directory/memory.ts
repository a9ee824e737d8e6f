// The in-process directory (the embedded store of development and single-instance tests).
import type { ProviderName } from '../model.js';
import { decodeDirectoryCursor, encodeDirectoryCursor, isAfter, isoTime } from './cursor.js';
import type { Directory, DirectoryEntry, DirectoryKind, Sighting } from './types.js';

interface Row {
  id: string;
  contactRef: string | null;
  activityAt: string;
}

export function createMemoryDirectory(options: { readonly now?: () => number } = {}): Directory {
  const now = options.now ?? Date.now;
  const lists = new Map<string, Map<string, Row>>();
  const listOf = (provider: ProviderName, account: string, kind: DirectoryKind): Map<string, Row> => {
    const key = `${provider}\u0000${account}\u0000${kind}`;
    let rows = lists.get(key);
    if (!rows) lists.set(key, (rows = new Map()));
    return rows;
  };

  return {
    async record(provider, account, sightings) {
      for (const s of sightings) apply(listOf(provider, account, s.kind), s, new Date(now()).toISOString());
    },
    async list(provider, account, kind, request) {
      const after = request.after === null ? null : decodeDirectoryCursor(request.after);
      const sorted = [...listOf(provider, account, kind).values()]
        .filter((r) => after === null || isAfter(r, after))
        .sort((a, b) => (a.activityAt === b.activityAt ? (a.id < b.id ? 1 : -1) : a.activityAt < b.activityAt ? 1 : -1));
      const entries: DirectoryEntry[] = sorted.slice(0, request.limit).map((r) => ({ ...r, cursor: encodeDirectoryCursor(r) }));
      const last = entries[entries.length - 1];
      return { entries, nextCursor: sorted.length > request.limit && last ? last.cursor : null };
    },
    async close() {},
  };
}

function apply(rows: Map<string, Row>, s: Sighting, nowIso: string): void {
  const row = rows.get(s.id);
  const activityAt = isoTime(s.activityAt);
  if (!row) {
    rows.set(s.id, { id: s.id, contactRef: s.contactRef ?? null, activityAt: activityAt ?? isoTime(s.knownSince) ?? nowIso });
    return;
  }
  if (s.contactRef) row.contactRef = s.contactRef;
  if (activityAt && activityAt > row.activityAt) row.activityAt = activityAt;
}
