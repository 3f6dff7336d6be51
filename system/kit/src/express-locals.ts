import type { Logger } from './logger.ts';
import type { Principal } from './principal.ts';

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
