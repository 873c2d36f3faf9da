import { describe, expect, it } from 'vitest';
import { MAX_ERROR_LENGTH, parseControlMessage, parseServerMessage } from './server-messages.js';

describe('parseServerMessage', () => {
  it('reads ready, error and stopped', () => {
    expect(parseServerMessage({ type: 'ready', url: 'http://127.0.0.1:8080' })).toEqual({
      type: 'ready',
      url: 'http://127.0.0.1:8080',
    });
    expect(parseServerMessage({ type: 'error', message: 'port 8080 is in use' })).toEqual({
      type: 'error',
      message: 'port 8080 is in use',
    });
    expect(parseServerMessage({ type: 'stopped' })).toEqual({ type: 'stopped' });
  });

  it('refuses a ready message whose URL is not loopback http', () => {
    expect(parseServerMessage({ type: 'ready', url: 'http://10.0.0.2:8080' })).toBeUndefined();
    expect(parseServerMessage({ type: 'ready', url: 'file:///tmp/x' })).toBeUndefined();
    expect(parseServerMessage({ type: 'ready' })).toBeUndefined();
  });

  it('refuses malformed messages', () => {
    for (const data of [
      undefined,
      null,
      'ready',
      42,
      [],
      {},
      { type: 'nope' },
      { type: 'error' },
      { type: 'error', message: '' },
    ]) {
      expect(parseServerMessage(data)).toBeUndefined();
    }
  });

  it('caps the error text', () => {
    const parsed = parseServerMessage({ type: 'error', message: 'x'.repeat(MAX_ERROR_LENGTH * 2) });
    expect(parsed).toEqual({ type: 'error', message: 'x'.repeat(MAX_ERROR_LENGTH) });
  });

  it('keeps only the known fields', () => {
    expect(parseServerMessage({ type: 'stopped', extra: 'ignored' })).toEqual({ type: 'stopped' });
  });
});

describe('parseControlMessage', () => {
  it('reads stop and nothing else', () => {
    expect(parseControlMessage({ type: 'stop' })).toEqual({ type: 'stop' });
    expect(parseControlMessage({ type: 'start' })).toBeUndefined();
    expect(parseControlMessage('stop')).toBeUndefined();
    expect(parseControlMessage(null)).toBeUndefined();
  });
});
