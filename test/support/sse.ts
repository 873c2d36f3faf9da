import { adminHeaders } from './server.js';

export interface SseMessage {
  id: string | undefined;
  data: string;
}

export interface SseClient {
  messages: SseMessage[];
  comments: string[];
  status: number;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Resolves once at least `count` messages have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseMessage[]>;
  waitForComment(text: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/**
 * A minimal Server-Sent Events reader over fetch, strict enough to catch malformed frames.
 * Sends the test server's admin key unless `headers` brings a credential.
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const credential = (headers['authorization'] ?? headers['x-api-key']) ? {} : adminHeaders(url);
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...credential, ...headers },
    signal: controller.signal,
  });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());

  let ended: Promise<void> = Promise.resolve();
  if (response.ok && response.body) {
    ended = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id: string | undefined;
            const data: string[] = [];
            for (const line of frame.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length > 0) messages.push({ id, data: data.join('\n') });
          }
          notify();
        }
      } catch {
        // aborted by close()
      }
    })();
  }

  function until(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; have ${messages.length} messages`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  return {
    messages,
    comments,
    status: response.status,
    ended,
    async waitFor(count, timeoutMs = 10_000) {
      await until(() => messages.length >= count, `${count} messages`, timeoutMs);
      return messages;
    },
    waitForComment(text, timeoutMs = 10_000) {
      return until(() => comments.includes(text), `comment "${text}"`, timeoutMs);
    },
    close: () => controller.abort(),
  };
}
