import { once } from 'node:events';
import type { Response } from 'express';

/** Above this many buffered characters the body is flushed to the socket (and drained). */
const FLUSH_AT = 256 * 1024;

/**
 * Writes a JSON body piece by piece with bounded memory: small answers leave in one
 * `end()` with a Content-Length, large ones are flushed as they grow and wait for the
 * socket to drain. Resolves false when the client went away.
 */
export class StreamedJson {
  private parts: string[] = [];
  private size = 0;
  private started = false;

  constructor(private readonly res: Response) {}

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  async push(text: string): Promise<boolean> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size < FLUSH_AT) return !this.closed;
    return this.flush();
  }

  private async flush(): Promise<boolean> {
    if (this.closed) return false;
    if (!this.started) {
      this.res.status(200).type('application/json');
      this.started = true;
    }
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.res.write(chunk)) {
      await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
    }
    return !this.closed;
  }

  end(text = ''): void {
    if (this.closed) return;
    this.parts.push(text);
    const body = this.parts.join('');
    if (this.started) this.res.end(body);
    else this.res.status(200).type('application/json').send(body);
  }
}
