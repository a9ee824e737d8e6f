// The one check of a URL the gateway will call or hand to a provider: absolute
// and https, or http to this machine when the caller allows it (development).

/** null when `raw` is acceptable; otherwise the reason, naming the field as `name`. */
export function httpsUrlProblem(name: string, raw: string, allowLocalHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${name} must be an absolute https URL, got "${raw.slice(0, 200)}"`;
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'https:' || (allowLocalHttp && local && url.protocol === 'http:')) return null;
  return `${name} must use https, got "${url.protocol}//${url.host}"`;
}
