// One vocabulary for every on/off environment variable: each accepts true/false,
// 1/0 and on/off (any case), so `GATEWAY_DEMO=on` and `GATEWAY_CACHE=false` both
// work. The documented spelling is true/false (what the error names). Used by
// config.ts only; nothing else reads process.env.
import { z } from 'zod';

const ON = new Set(['on', 'true', '1']);
const OFF = new Set(['off', 'false', '0']);

/** Whether a switch's raw value means on (true), off (false), or neither (null). */
export function parseSwitch(raw: string): boolean | null {
  const value = raw.trim().toLowerCase();
  return ON.has(value) ? true : OFF.has(value) ? false : null;
}

const switchValue = z.string().transform((raw, ctx) => {
  const parsed = parseSwitch(raw);
  if (parsed === null) {
    // The wording predates on/off being accepted; on/off are synonyms, not a second vocabulary to document.
    ctx.addIssue({ code: 'custom', message: `must be true, false, 1 or 0, got "${raw}"` });
    return z.NEVER;
  }
  return parsed;
});

/** A switch read as a boolean. */
export const bool = switchValue;

/** A switch read as `'on'` or `'off'` (for settings compared with those words). */
export const onOff = switchValue.transform((on): 'on' | 'off' => (on ? 'on' : 'off'));
