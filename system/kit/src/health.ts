export interface ReadinessCheck {
  name: string;
  /** Throws when the component is down; may resolve to an object of details worth showing (a consumer's lag). */
  check: () => Promise<unknown>;
}

export interface HealthReport {
  status: 'UP' | 'DOWN';
  components: Record<string, { status: 'UP' | 'DOWN'; error?: string; [detail: string]: unknown }>;
}

const CHECK_TIMEOUT_MS = 2000;

export async function readiness(checks: readonly ReadinessCheck[]): Promise<HealthReport> {
  const entries = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const details = await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS}ms`)),
              CHECK_TIMEOUT_MS,
            );
          }),
        ]);
        const shown = typeof details === 'object' && details !== null ? details : {};
        return [name, { status: 'UP' as const, ...shown }] as const;
      } catch (error) {
        return [name, { status: 'DOWN' as const, error: (error as Error).message }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const components = Object.fromEntries(entries);
  const status = entries.every(([, c]) => c.status === 'UP') ? 'UP' : 'DOWN';
  return { status, components };
}
