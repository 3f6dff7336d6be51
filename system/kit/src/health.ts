export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface HealthReport {
  status: 'UP' | 'DOWN';
  components: Record<string, { status: 'UP' | 'DOWN'; error?: string }>;
}

const CHECK_TIMEOUT_MS = 2000;

export async function readiness(checks: readonly ReadinessCheck[]): Promise<HealthReport> {
  const entries = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS}ms`)),
              CHECK_TIMEOUT_MS,
            );
          }),
        ]);
        return [name, { status: 'UP' as const }] as const;
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
