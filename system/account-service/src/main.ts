import { ConfigError, loadConfig, shutdownOnSignals } from '@reservex/kit';
import { accountConfigSchema } from './config.ts';
import { createAccountService } from './service.ts';

try {
  const service = createAccountService(loadConfig(accountConfigSchema, process.env));
  shutdownOnSignals(() => service.stop(), service.logger);
  await service.start();
} catch (error) {
  console.error(error instanceof ConfigError ? `account-service: ${error.message}` : error);
  process.exit(1);
}
