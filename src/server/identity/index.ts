export { createIdentityService } from './identity-service.js';
export type { IdentityDependencies } from './identity-service.js';
export type { BootstrapResult, CreatedApiKey, IdentityService, RegisterInput, WriteHook } from './service.js';
export { PERMISSIONS, PLATFORM_TENANT, ROLES } from './types.js';
export type * from './types.js';
export { can, mayGrant } from './rbac.js';
export {
  ConflictError,
  ForbiddenError,
  IdentityConfigError,
  InvalidRequestError,
  NotFoundError,
  TenantSuspendedError,
  UnauthorizedError,
} from './errors.js';
export { jwtSecretFrom, MIN_JWT_SECRET_LENGTH } from './jwt-secret.js';
export type { JwtSecret } from './jwt-secret.js';
export { ARGON2_OPTIONS, createArgon2Hasher } from './hasher.js';
export type { SecretHasher } from './hasher.js';
export { API_KEY_PREFIX, generateApiKey, parseApiKey } from './api-key-format.js';
export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.js';
export { DEFAULT_TOKEN_LIFETIME_SECONDS, TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens.js';
