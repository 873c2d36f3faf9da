import type { Response } from 'express';
import type { Principal } from '../identity/index.js';

/** What middleware attaches to a request, typed once (hono's typed context, Express flavour). */
export interface RequestLocals {
  /** Who is acting: set by authentication on every route that is not public. */
  principal: Principal;
  /** The tenant every repository call of this request is scoped to: always the principal's. */
  tenantId: string;
}

export function locals(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}
