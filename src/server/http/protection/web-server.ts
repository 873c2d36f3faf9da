import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { TlsConfigError } from '../../protection/index.js';

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TlsConfigError(`the TLS ${what} file ${file} cannot be read (${code})`);
  }
}

/**
 * The HTTP server, or HTTPS with the configured certificate and key (PEM files). With TLS,
 * HSTS means something: browsers ignore it over plain HTTP.
 */
export function createWebServer(
  tls: { certFile: string; keyFile: string } | undefined,
  listener: RequestListener,
): Server {
  if (!tls) return createServer(listener);
  const options = { cert: readPem(tls.certFile, 'certificate'), key: readPem(tls.keyFile, 'key') };
  try {
    return createHttpsServer(options, listener);
  } catch (error) {
    throw new TlsConfigError(`the TLS certificate or key cannot be used: ${(error as Error).message}`);
  }
}
