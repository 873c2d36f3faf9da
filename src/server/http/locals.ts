import type { Response } from 'express';

/** What middleware attaches to a request, typed once (hono's typed context, Express flavour). */
export interface RequestLocals {
  /** The tenant every repository call of this request is scoped to. */
  tenantId: string;
}

export function locals(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}
