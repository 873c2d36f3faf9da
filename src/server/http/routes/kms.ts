import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { InvalidRequestError } from '../../errors/index.js';
import { can } from '../../identity/index.js';
import type { Keyring } from '../../kms/index.js';
import { audited, auditedWrite, noteAudit, recordNow } from '../audit.js';
import { denyPermission, requirePermission } from '../auth.js';
import { parseBody } from '../body-schema.js';
import { locals } from '../locals.js';

/** The largest plaintext encrypt takes, decoded (Vault transit's spirit: small secrets, not files). */
export const MAX_PLAINTEXT_BYTES = 64 * 1024;
/** The largest context (associated data), decoded. */
export const MAX_CONTEXT_BYTES = 4 * 1024;
/** Ciphertexts: `as:v<N>:` plus the base64 of nonce, the largest plaintext and the tag, with room to spare. */
const MAX_CIPHERTEXT_CHARS = 100_000;

const base64Chars = (bytes: number): number => Math.ceil(bytes / 3) * 4;

/** Canonical standard base64 with padding: anything else (URL-safe, whitespace, loose bits) is refused. */
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isCanonicalBase64(text: string): boolean {
  // The round trip refuses non-zero padding bits ("QQ==" decodes like "QR==", which is not canonical).
  return CANONICAL_BASE64.test(text) && Buffer.from(text, 'base64').toString('base64') === text;
}

const base64Field = (maxBytes: number) =>
  z
    .string()
    .max(base64Chars(maxBytes), `must decode to at most ${maxBytes} bytes`)
    .refine(isCanonicalBase64, 'must be standard base64 with padding')
    .transform((text) => Buffer.from(text, 'base64'))
    .refine((bytes) => bytes.length <= maxBytes, `must decode to at most ${maxBytes} bytes`);

const context = base64Field(MAX_CONTEXT_BYTES).optional();
const ciphertext = z.string().min(1).max(MAX_CIPHERTEXT_CHARS);

const createSchema = z.object({ name: z.string().max(256) }).strict();
const destroySchema = z.object({ confirm: z.string().max(256) }).strict();
const configSchema = z
  .object({
    min_decryption_version: z.number().int().min(1).optional(),
    min_encryption_version: z.number().int().min(1).optional(),
  })
  .strict();
const encryptSchema = z
  .object({ plaintext: base64Field(MAX_PLAINTEXT_BYTES), context, key_version: z.number().int().min(1).optional() })
  .strict();
const decryptSchema = z.object({ ciphertext, context }).strict();
const dataKeySchema = z.object({ wrapped_only: z.boolean().optional(), context }).strict();
const emptySchema = z.object({}).strict();

const nameOf = (params: Record<string, unknown>): string => String(params['name']);

/**
 * /api/v1/kms: the tenant's Vault-transit style keyring (DESIGN.md, "KMS, protection, audit").
 * Mounted after the blanket authenticate + body + rejectForeignTenant chain; every call is scoped
 * to the credential's tenant. Key administration, encrypt, rewrap and data keys need manage_keys;
 * anything that hands out plaintext (decrypt, a data key with its plaintext) needs decrypt.
 */
export function kmsRoutes({ keyring }: { keyring: Keyring }): Router {
  const router = Router();
  const manage: RequestHandler = requirePermission('manage_keys');
  const decrypt: RequestHandler = requirePermission('decrypt');

  // Every KMS operation leaves one record naming the key (and version figures); never a
  // plaintext, a ciphertext, a context or a data key.
  router.post('/kms/keys', audited('kms_create_key'), manage, (req, res) => {
    const { name } = parseBody(createSchema, req.body);
    res.status(201).json(
      auditedWrite(
        req,
        res,
        () => keyring.createKey(locals(res).tenantId, name),
        () => ({ resource: name }),
      ),
    );
  });
  router.get('/kms/keys', audited('kms_list_keys'), manage, (req, res) => {
    const keys = keyring.listKeys(locals(res).tenantId);
    recordNow(req, res, { metadata: { count: keys.length } });
    res.json({ keys });
  });
  router.get('/kms/keys/:name', audited('kms_read_key'), manage, (req, res) => {
    const key = keyring.getKey(locals(res).tenantId, nameOf(req.params));
    recordNow(req, res);
    res.json(key);
  });
  router.delete('/kms/keys/:name', audited('kms_destroy_key'), manage, (req, res) => {
    const name = nameOf(req.params);
    // Checks the key exists (404 before 400) and the name is valid, before looking at the body.
    keyring.getKey(locals(res).tenantId, name);
    if (req.body === undefined) {
      throw new InvalidRequestError('to destroy a key, send {"confirm": "<its name>"}', [
        { path: '/confirm', problem: 'is required' },
      ]);
    }
    const { confirm } = parseBody(destroySchema, req.body);
    if (confirm !== name) {
      throw new InvalidRequestError('to destroy a key, confirm by giving its name', [
        { path: '/confirm', problem: 'must equal the key name' },
      ]);
    }
    res.json(auditedWrite(req, res, () => keyring.destroy(locals(res).tenantId, name, confirm)));
  });
  router.post('/kms/keys/:name/rotate', audited('kms_rotate'), manage, (req, res) => {
    parseBody(emptySchema, req.body);
    res.json(auditedWrite(req, res, () => keyring.rotate(locals(res).tenantId, nameOf(req.params))));
  });
  router.put('/kms/keys/:name/config', audited('kms_configure_key'), manage, (req, res) => {
    const config = parseBody(configSchema, req.body);
    noteAudit(res, { ...config });
    res.json(
      auditedWrite(req, res, () =>
        keyring.configure(locals(res).tenantId, nameOf(req.params), {
          ...(config.min_decryption_version === undefined
            ? {}
            : { min_decryption_version: config.min_decryption_version }),
          ...(config.min_encryption_version === undefined
            ? {}
            : { min_encryption_version: config.min_encryption_version }),
        }),
      ),
    );
  });
  router.post('/kms/keys/:name/disable', audited('kms_disable_key'), manage, (req, res) => {
    parseBody(emptySchema, req.body);
    res.json(auditedWrite(req, res, () => keyring.disable(locals(res).tenantId, nameOf(req.params))));
  });
  router.post('/kms/keys/:name/enable', audited('kms_enable_key'), manage, (req, res) => {
    parseBody(emptySchema, req.body);
    res.json(auditedWrite(req, res, () => keyring.enable(locals(res).tenantId, nameOf(req.params))));
  });

  router.post('/kms/keys/:name/encrypt', audited('kms_encrypt'), manage, (req, res) => {
    const body = parseBody(encryptSchema, req.body);
    try {
      const { tenantId } = locals(res);
      noteAudit(res, {
        bytes: body.plaintext.length,
        ...(body.key_version === undefined ? {} : { key_version: body.key_version }),
      });
      const ciphertext = auditedWrite(req, res, () =>
        keyring.encrypt(tenantId, nameOf(req.params), body.plaintext, body.context, body.key_version),
      );
      res.json({ ciphertext });
    } finally {
      body.plaintext.fill(0);
    }
  });
  // Recorded before the plaintext is computed and sent: no record, no plaintext.
  router.post('/kms/keys/:name/decrypt', audited('kms_decrypt'), decrypt, (req, res) => {
    const body = parseBody(decryptSchema, req.body);
    const plaintext = auditedWrite(req, res, () =>
      keyring.decrypt(locals(res).tenantId, nameOf(req.params), body.ciphertext, body.context),
    );
    try {
      res.json({ plaintext: plaintext.toString('base64') });
    } finally {
      plaintext.fill(0);
    }
  });
  router.post('/kms/keys/:name/rewrap', audited('kms_rewrap'), manage, (req, res) => {
    const body = parseBody(decryptSchema, req.body);
    const ciphertext = auditedWrite(req, res, () =>
      keyring.rewrap(locals(res).tenantId, nameOf(req.params), body.ciphertext, body.context),
    );
    res.json({ ciphertext });
  });
  router.post('/kms/keys/:name/datakey', audited('kms_datakey'), manage, (req, res, next) => {
    const body = parseBody(dataKeySchema, req.body);
    const wrappedOnly = body.wrapped_only === true;
    if (!wrappedOnly && !can(locals(res).principal, 'decrypt')) {
      // The plaintext data key is plaintext: it needs decrypt as well (checked before any key is made).
      denyPermission(req, res, next, 'decrypt');
      return;
    }
    noteAudit(res, { wrapped_only: wrappedOnly });
    const result = auditedWrite(req, res, () =>
      keyring.dataKey(locals(res).tenantId, nameOf(req.params), {
        wrappedOnly,
        ...(body.context === undefined ? {} : { context: body.context }),
      }),
    );
    if (result.plaintext === undefined) {
      res.json({ ciphertext: result.ciphertext });
      return;
    }
    try {
      res.json({ ciphertext: result.ciphertext, plaintext: result.plaintext.toString('base64') });
    } finally {
      result.plaintext.fill(0);
    }
  });
  return router;
}
