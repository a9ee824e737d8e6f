// Error text safe to show and log: a driver message may echo the connection
// URL, and a URL may carry `user:password@`.
export function redact(message: string): string {
  return message.replace(/\/\/[^@/\s]*@/g, '//<credentials>@');
}
