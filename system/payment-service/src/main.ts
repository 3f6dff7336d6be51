import { ConfigError, loadConfig, shutdownOnSignals } from '@reservex/kit';
import { paymentConfigSchema } from './config.ts';
import { createPaymentService } from './service.ts';

try {
  const service = createPaymentService(loadConfig(paymentConfigSchema, process.env));
  shutdownOnSignals(() => service.stop(), service.logger);
  await service.start();
} catch (error) {
  console.error(error instanceof ConfigError ? `payment-service: ${error.message}` : error);
  process.exit(1);
}
