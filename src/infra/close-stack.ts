// Shutdown in reverse order of start-up: each part is closed after everything
// made later (which may still use it), one at a time; a part that fails to
// close is logged by name and the rest still close.
import type { Logger } from 'pino';

export interface CloseStack {
  /** Registers a part to close; parts added later close first. */
  add(name: string, close: () => Promise<unknown> | unknown): void;
  /** Closes every part, last added first. Never rejects: failures are logged. */
  closeAll(): Promise<void>;
}

export function createCloseStack(logger: Logger): CloseStack {
  const parts: Array<{ readonly name: string; readonly close: () => Promise<unknown> | unknown }> = [];
  return {
    add(name, close) {
      parts.push({ name, close });
    },
    async closeAll() {
      for (const part of parts.splice(0).reverse()) {
        try {
          await part.close();
        } catch (err) {
          logger.error({ err, part: part.name }, 'closing a part of the gateway failed');
        }
      }
    },
  };
}
