import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { HostNotAllowedError, IpBlockedError, type ProtectionService } from '../../protection/index.js';
import { protectionLocals } from './locals.js';

/**
 * The chain's first step (seed: Network Layer). A Host that names no address of this server is
 * refused before anything else, /health included: that is the DNS-rebinding defence, and a page
 * that rebinds a name to 127.0.0.1 must not even learn that a server answers. Then the client
 * address and the IP filter's pre-tenant decision; the tenant's own rules follow authentication.
 */
export function networkGuard(protection: ProtectionService): RequestHandler {
  return function networkGuard(req, res, next) {
    if (!protection.hostAllowed(req.headers.host, req.socket.localPort)) {
      next(new HostNotAllowedError('the Host header does not name this server'));
      return;
    }
    const address = protection.clientAddress({
      peer: req.socket.remoteAddress,
      forwardedFor: req.headers['x-forwarded-for'],
    });
    if (!address) {
      next(new IpBlockedError('the client address is unknown'));
      return;
    }
    const decision = protection.checkIpBeforeTenant(address);
    if (!decision.allowed) {
      next(new IpBlockedError('requests from this address are refused', { reason: decision.reason }));
      return;
    }
    const locals = protectionLocals(res);
    locals.clientAddress = address;
    locals.clientIp = protection.formatAddress(address);
    next();
  };
}

/**
 * The same network checks for a WebSocket upgrade, which bypasses the Express chain: the Host
 * check, the IP filter (its global part before authentication, the tenant's rules after), and one
 * token from the tenant's bucket per connection. Answers the status to refuse with, or undefined.
 */
export function upgradeGuard(
  protection: ProtectionService,
): (req: IncomingMessage, tenantId?: string) => 403 | 429 | undefined {
  return function upgradeGuard(req, tenantId) {
    if (!protection.hostAllowed(req.headers.host, req.socket.localPort)) return 403;
    const address = protection.clientAddress({
      peer: req.socket.remoteAddress,
      forwardedFor: req.headers['x-forwarded-for'],
    });
    if (!address) return 403;
    if (tenantId === undefined) return protection.checkIpBeforeTenant(address).allowed ? undefined : 403;
    if (!protection.checkIp(address, tenantId).allowed) return 403;
    if (protection.rateLimited() && !protection.takeTenant(tenantId, 1).allowed) return 429;
    return undefined;
  };
}
