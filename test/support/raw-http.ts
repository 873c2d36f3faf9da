import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Sent exactly as given: a Host of our choosing, X-Forwarded-For, Origin, odd content types. */
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** For https servers: the CA (the self-signed certificate) to trust. */
  ca?: Buffer;
}

/**
 * One request with full control of its headers (fetch will not send a Host of our choosing),
 * to the server at `base`. Resolves with status, headers and the body, parsed when JSON.
 */
export function raw(base: string, options: RawRequest): Promise<RawResponse> {
  const url = new URL(options.path, base);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: options.method ?? 'GET',
        headers: { host: url.host, ...options.headers },
        agent: false,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
