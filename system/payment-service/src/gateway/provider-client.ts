import { DECLINE_REASONS, type PaymentFailureReason } from '@reservex/contracts';
import type {
  Captured,
  ChargeAnswer,
  Gateway,
  LookupAnswer,
  RefundAnswer,
  Unknown,
  VoidAnswer,
} from './gateway.ts';

export interface ProviderClientOptions {
  url: string;
  apiKey: string;
  /** How long one call may take before its answer counts as unknown. */
  timeoutMs: number;
}

type ReplyBody = { status?: string; reason?: string; error?: string; type?: string; capturedAt?: unknown };
type Reply = { status: number; body: ReplyBody } | Unknown;

/**
 * A decline reason the provider gave, as the saga's contract names it. A reason the contract does not know
 * (a provider-side processing error) is still a decline: the provider says no money moved.
 */
function asFailureReason(reason: string | undefined): PaymentFailureReason {
  return (DECLINE_REASONS as readonly string[]).includes(reason ?? '')
    ? (reason as PaymentFailureReason)
    : 'gateway-timeout';
}

/** The last segment of a problem+json type URI (`…/problems/validation` is `validation`). */
function problemName(type: string | undefined): string | undefined {
  const name = type?.split('/').pop();
  return name === undefined || name === '' ? undefined : name;
}

/**
 * A captured answer, with the provider's time of the capture. An answer without one (a provider older than
 * `capturedAt`), or with one that does not read as a time, gives null: the capture is then stamped when recorded.
 */
function captured(body: ReplyBody): Captured {
  const at = typeof body.capturedAt === 'string' ? new Date(body.capturedAt) : undefined;
  return { kind: 'captured', capturedAt: at === undefined || Number.isNaN(at.getTime()) ? null : at };
}

/** The payment provider over HTTP (system/payment-provider's API), with a deadline on every call. */
export function providerClient(options: ProviderClientOptions): Gateway {
  const authorization = `Bearer ${options.apiKey}`;

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
    try {
      const res = await fetch(`${options.url}${path}`, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await res.text();
      if (res.status >= 500) return { kind: 'unknown', why: `http-${res.status}` };
      try {
        return { status: res.status, body: text === '' ? {} : JSON.parse(text) };
      } catch {
        return { kind: 'unknown', why: 'unreadable-answer' };
      }
    } catch (error) {
      const name = (error as Error).name;
      return {
        kind: 'unknown',
        why: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'connection',
      };
    }
  }

  /** A 4xx the client never expects (bad key, bad request): a bug, reported loudly rather than guessed at. */
  const unexpected = (path: string, reply: { status: number; body: unknown }) =>
    new Error(`provider answered ${reply.status} to ${path}: ${JSON.stringify(reply.body)}`);

  return {
    async charge(key, amount, currency): Promise<ChargeAnswer> {
      const reply = await call('POST', '/v1/charges', { idempotencyKey: key, amount, currency });
      if ('kind' in reply) return reply;
      if (reply.status === 200 && reply.body.status === 'captured') return captured(reply.body);
      if (reply.status === 402) return { kind: 'declined', reason: asFailureReason(reply.body.reason) };
      if (reply.status === 409 && reply.body.status === 'voided')
        return { kind: 'declined', reason: 'gateway-timeout' };
      // Another request under this key is still in flight: its outcome is not known yet.
      if (reply.status === 409 && reply.body.status === 'pending') return { kind: 'unknown', why: 'pending' };
      throw unexpected('/v1/charges', reply);
    },

    async lookup(key): Promise<LookupAnswer> {
      const path = `/v1/charges/${encodeURIComponent(key)}`;
      const reply = await call('GET', path);
      if ('kind' in reply) return reply;
      if (reply.status === 404) return { kind: 'none' };
      if (reply.status === 200) {
        switch (reply.body.status) {
          case 'captured':
            return captured(reply.body);
          case 'declined':
            return { kind: 'declined', reason: asFailureReason(reply.body.reason) };
          case 'voided':
            return { kind: 'voided' };
          case 'pending':
            return { kind: 'pending' };
        }
      }
      throw unexpected(path, reply);
    },

    async void(key): Promise<VoidAnswer> {
      const path = `/v1/charges/${encodeURIComponent(key)}/void`;
      const reply = await call('POST', path);
      if ('kind' in reply) return reply;
      if (reply.body.status === 'voided') return { kind: 'voided' };
      if (reply.body.status === 'captured') return captured(reply.body);
      if (reply.body.status === 'declined')
        return { kind: 'declined', reason: asFailureReason(reply.body.reason) };
      throw unexpected(path, reply);
    },

    async refund(key, chargeKey, amount): Promise<RefundAnswer> {
      const reply = await call('POST', '/v1/refunds', { idempotencyKey: key, chargeKey, amount });
      if ('kind' in reply) return reply;
      if (reply.status === 200 && reply.body.status === 'refunded') return { kind: 'refunded' };
      // The provider judged this refund and said no: no capture under the charge key, more than is left of it
      // (422), or a request it will not take, such as an amount of 0 (400, problem+json). Asking again under the
      // same key gets the same answer, so it is final. A 401 or 403 is about our key, not this refund: thrown.
      if (reply.status === 400 || reply.status === 422)
        return {
          kind: 'rejected',
          why: reply.body.error ?? problemName(reply.body.type) ?? `http-${reply.status}`,
        };
      throw unexpected('/v1/refunds', reply);
    },
  };
}
