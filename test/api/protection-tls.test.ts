import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from '../support/raw-http.js';
import { startServer, tempDir, type TestServer } from '../support/server.js';

/** Optional TLS (issue 5, item 7): a self-signed certificate made here with the openssl CLI. */

let certDir: string;
let cert: Buffer;
let server: TestServer;

beforeAll(async () => {
  certDir = tempDir('allsource-tls-');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(certDir, 'cert.pem'));
  server = await startServer({
    env: { ALLSOURCE_TLS_CERT_FILE: join(certDir, 'cert.pem'), ALLSOURCE_TLS_KEY_FILE: join(certDir, 'key.pem') },
  });
});

afterAll(async () => {
  await server?.dispose();
  rmSync(certDir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('listens on https with the configured certificate, HSTS and all', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await raw(server.url, { path: '/health', ca: cert });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('healthy');
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    const stats = await raw(server.url, { path: '/api/v1/stats', ca: cert, headers: { 'x-api-key': server.apiKey } });
    expect(stats.status, stats.text).toBe(200);
  });

  it('refuses plain HTTP and clients that do not trust the certificate', async () => {
    await expect(raw(server.url.replace('https:', 'http:'), { path: '/health' })).rejects.toThrow();
    await expect(raw(server.url, { path: '/health' })).rejects.toThrow(/self[- ]signed/);
  });

  it('fails to start, with one line naming the file, when the certificate cannot be read', async () => {
    const missing = join(certDir, 'missing.pem');
    await expect(
      startServer({ env: { ALLSOURCE_TLS_CERT_FILE: missing, ALLSOURCE_TLS_KEY_FILE: join(certDir, 'key.pem') } }),
    ).rejects.toThrow(`the TLS certificate file ${missing} cannot be read (ENOENT)`);
  });
});
