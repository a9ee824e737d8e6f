// One HTTP exchange on undici's dispatcher, its whole body read as text under
// one timeout. undici's request() wraps every call in an AsyncResource, a
// Readable stream for the body and an AbortSignal timer; an inbox query makes
// 111 upstream calls, and those layers were a third of their client-side cost
// (bench:query). The dispatcher and its connection pools are the same.
import { getGlobalDispatcher, type Dispatcher } from 'undici';

export interface ExchangeResult {
  readonly status: number;
  /** The Retry-After header when it came once, else null. */
  readonly retryAfter: string | null;
  readonly text: string;
}

export interface ExchangeRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Rejects with the dispatcher's error on a network failure, and with a
 * `TimeoutError` (the DOMException AbortSignal.timeout gives) when headers and
 * body did not both arrive within `timeoutMs`.
 */
export function exchange(url: string, req: ExchangeRequest, timeoutMs: number): Promise<ExchangeResult> {
  // Parsed as undici's request() parses it, so the path sent is the same.
  const parsed = new URL(url);
  const path = parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname;
  return new Promise((resolve, reject) => {
    let settled = false;
    let abort: ((err: Error) => void) | null = null;
    let status = 0;
    let retryAfter: string | null = null;
    const chunks: Buffer[] = [];
    let length = 0;

    const finish = (err: Error | null, result?: ExchangeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result as ExchangeResult);
    };
    const timer = setTimeout(() => {
      const err = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      finish(err);
      abort?.(err);
    }, timeoutMs);

    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        if (settled) abortRequest(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
        else abort = abortRequest;
      },
      onHeaders(statusCode, rawHeaders) {
        status = statusCode;
        retryAfter = retryAfterOf(rawHeaders as unknown as ReadonlyArray<Buffer | string>);
        return true;
      },
      onData(chunk) {
        chunks.push(chunk);
        length += chunk.length;
        return true;
      },
      onComplete() {
        finish(null, { status, retryAfter, text: decode(chunks, length) });
      },
      onError(err) {
        finish(err);
      },
    };
    getGlobalDispatcher().dispatch({ origin: parsed.origin, path, method: req.method as Dispatcher.HttpMethod, headers: req.headers, body: req.body }, handler);
  });
}

/** As undici's request() reads it: a header that came twice is an array there, so no usable value. */
function retryAfterOf(rawHeaders: ReadonlyArray<Buffer | string>): string | null {
  let value: string | null = null;
  let seen = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as Buffer | string;
    if (name.length !== 11 || name.toString('latin1').toLowerCase() !== 'retry-after') continue;
    seen++;
    value = (rawHeaders[i + 1] as Buffer | string).toString('latin1');
  }
  return seen === 1 ? value : null;
}

/** UTF-8, a leading byte-order mark skipped (as undici's body.text() does). */
function decode(chunks: readonly Buffer[], length: number): string {
  if (length === 0) return '';
  const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
  const start = buffer.length > 2 && buffer[0] === UTF8_BOM[0] && buffer[1] === UTF8_BOM[1] && buffer[2] === UTF8_BOM[2] ? 3 : 0;
  return buffer.toString('utf8', start);
}
