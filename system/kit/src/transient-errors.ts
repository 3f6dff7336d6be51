// What "the dependency is away for now" looks like from Node: network errors on the socket, the pools' own
// timeouts, and the SQLSTATEs PostgreSQL uses for a server that is shutting down, starting up, overloaded, or
// that chose this transaction as the loser of a race. Retrying any of these later can succeed.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P04', // database_dropped
  '57P05', // idle_session_timeout
]);

const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Connection is closed/i,
  /Command timed out/i,
  /MaxRetriesPerRequestError|max retries per request/i,
  /Stream isn't writeable/i,
  /the database system is (starting up|shutting down|in recovery)/i,
];

/** True for an error that says a dependency is unreachable or busy right now, rather than that the work is wrong. */
export function isTransientError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // Follow `cause` chains: drivers wrap the socket error they got.
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK_CODES.has(code) || SQLSTATES.has(code)) return true;
    if (code.startsWith('08') || code.startsWith('53')) return true; // connection_exception, insufficient_resources
    if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
    if (Array.isArray(e.errors) && e.errors.some((inner) => isTransientError(inner))) return true;
    current = e.cause;
  }
  return false;
}
