import { describe, expect, it } from 'vitest';
import { isLoopbackHttpUrl, isSameOrigin, navigationDecision, pageUrl } from './urls.js';

describe('isLoopbackHttpUrl', () => {
  it.each([
    'http://127.0.0.1:8080',
    'http://127.0.0.1:8080/',
    'http://localhost:5173',
    'http://[::1]:8080',
    'http://127.1.2.3',
  ])('accepts %s', (url) => expect(isLoopbackHttpUrl(url)).toBe(true));

  it.each([
    'https://127.0.0.1:8080',
    'http://192.168.1.10:8080',
    'http://example.com',
    'http://127.0.0.1.example.com',
    'http://user:pw@127.0.0.1:8080',
    'file:///etc/passwd',
    'not a url',
    '',
  ])('refuses %s', (url) => expect(isLoopbackHttpUrl(url)).toBe(false));
});

describe('isSameOrigin', () => {
  it('compares scheme, host and port', () => {
    expect(isSameOrigin('http://127.0.0.1:8080/x?y', 'http://127.0.0.1:8080')).toBe(true);
    expect(isSameOrigin('http://127.0.0.1:8081/', 'http://127.0.0.1:8080')).toBe(false);
    expect(isSameOrigin('http://localhost:8080/', 'http://127.0.0.1:8080')).toBe(false);
    expect(isSameOrigin('https://127.0.0.1:8080/', 'http://127.0.0.1:8080')).toBe(false);
  });

  it('never matches opaque origins or garbage', () => {
    expect(isSameOrigin('file:///a', 'file:///a')).toBe(false);
    expect(isSameOrigin('data:text/html,hi', 'data:text/html,hi')).toBe(false);
    expect(isSameOrigin('nope', 'nope')).toBe(false);
  });
});

describe('navigationDecision', () => {
  const origin = 'http://127.0.0.1:8080';

  it('keeps the app origin in the window', () => {
    expect(navigationDecision('http://127.0.0.1:8080/#/tenants', origin)).toBe('allow');
  });

  it('sends web links to the browser', () => {
    expect(navigationDecision('https://github.com/allsource', origin)).toBe('open-external');
    expect(navigationDecision('http://127.0.0.1:9999/', origin)).toBe('open-external');
  });

  it('refuses other schemes and links with credentials', () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'https://a:b@evil.test/']) {
      expect(navigationDecision(url, origin)).toBe('deny');
    }
  });

  it('allows nothing in the window before the app origin is known', () => {
    expect(navigationDecision('http://127.0.0.1:8080/', undefined)).toBe('open-external');
  });
});

describe('pageUrl', () => {
  const serverUrl = 'http://127.0.0.1:8080';

  it('loads the embedded server by default', () => {
    expect(pageUrl({ serverUrl, devRendererUrl: undefined, packaged: false })).toBe(serverUrl);
  });

  it('loads the dev server while developing', () => {
    expect(pageUrl({ serverUrl, devRendererUrl: 'http://localhost:5173', packaged: false })).toBe(
      'http://localhost:5173',
    );
  });

  it('ignores a dev server URL in a packaged app or off this machine', () => {
    expect(pageUrl({ serverUrl, devRendererUrl: 'http://localhost:5173', packaged: true })).toBe(serverUrl);
    expect(pageUrl({ serverUrl, devRendererUrl: 'http://evil.test:5173', packaged: false })).toBe(serverUrl);
  });
});
