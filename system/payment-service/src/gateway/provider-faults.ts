import { ProblemError, ServiceUnavailableProblem } from '@reservex/kit';

export interface ProviderFaultsOptions {
  url: string;
  apiKey: string;
  timeoutMs: number;
}

/** The provider's fault profile, as an admin sees and changes it through payment-service (docs/web.md). */
export interface ProviderFaults {
  get(): Promise<unknown>;
  change(body: unknown): Promise<unknown>;
}

/**
 * The provider's /v1/faults, called with the merchant key that only payment-service holds: an admin's browser
 * never sees that key. The provider validates the profile; its 400 comes back to the admin as it was given.
 */
export function providerFaults(options: ProviderFaultsOptions): ProviderFaults {
  async function call(method: 'GET' | 'PUT', body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${options.url}/v1/faults`, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch {
      throw new ServiceUnavailableProblem(2, 'The payment provider does not answer; try again shortly');
    }
    const answer = (await res.json().catch(() => ({}))) as { detail?: string; errors?: unknown };
    if (res.status === 200) return answer;
    if (res.status === 400 || res.status === 422)
      throw new ProblemError(
        400,
        'invalid-fault-profile',
        'Invalid fault profile',
        answer.detail ?? 'refused',
        {
          extensions: Array.isArray(answer.errors) ? { errors: answer.errors } : {},
        },
      );
    throw new ServiceUnavailableProblem(2, `The payment provider answered ${res.status}; try again shortly`);
  }
  return { get: () => call('GET'), change: (body) => call('PUT', body) };
}
