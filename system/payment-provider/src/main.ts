import { ConfigError, loadConfig, shutdownOnSignals } from '@reservex/kit';
import { providerConfigSchema } from './config.ts';
import { createPaymentProvider } from './service.ts';

try {
  const provider = createPaymentProvider(loadConfig(providerConfigSchema, process.env));
  shutdownOnSignals(() => provider.stop(), provider.logger);
  await provider.start();
} catch (error) {
  console.error(error instanceof ConfigError ? `payment-provider: ${error.message}` : error);
  process.exit(1);
}
