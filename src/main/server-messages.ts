import { isLoopbackHttpUrl } from './urls.js';

/**
 * The messages between Electron's main process and the server's utility process.
 * Both sides parse what they receive: a message is data from another process, not a trusted value.
 */

/** Server → main. */
export type ServerMessage = { type: 'ready'; url: string } | { type: 'error'; message: string } | { type: 'stopped' };

/** Main → server. */
export type ControlMessage = { type: 'stop' };

/** Longest error text passed on to a dialog. */
export const MAX_ERROR_LENGTH = 2000;

/** Returns the message, or undefined for anything malformed (including a non-loopback URL). */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
  if (!isRecord(data)) return undefined;
  switch (data['type']) {
    case 'ready': {
      const url = data['url'];
      return typeof url === 'string' && isLoopbackHttpUrl(url) ? { type: 'ready', url } : undefined;
    }
    case 'error': {
      const message = data['message'];
      return typeof message === 'string' && message.length > 0
        ? { type: 'error', message: message.slice(0, MAX_ERROR_LENGTH) }
        : undefined;
    }
    case 'stopped':
      return { type: 'stopped' };
    default:
      return undefined;
  }
}

export function parseControlMessage(data: unknown): ControlMessage | undefined {
  return isRecord(data) && data['type'] === 'stop' ? { type: 'stop' } : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
