import type { Principal } from './access-token.ts';
import type { Logger } from './logger.ts';

// What the kit's middleware puts on res.locals, typed for every handler.
declare global {
  namespace Express {
    interface Locals {
      requestId: string;
      log: Logger;
      /** Set by authenticate(); absent on routes without it. */
      principal: Principal;
    }
  }
}
