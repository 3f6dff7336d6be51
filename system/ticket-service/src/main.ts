import { ConfigError, loadConfig, shutdownOnSignals } from '@reservex/kit';
import { ticketConfigSchema } from './config.ts';
import { createTicketService } from './service.ts';

try {
  const service = createTicketService(loadConfig(ticketConfigSchema, process.env));
  shutdownOnSignals(() => service.stop(), service.logger);
  await service.start();
} catch (error) {
  console.error(error instanceof ConfigError ? `ticket-service: ${error.message}` : error);
  process.exit(1);
}
