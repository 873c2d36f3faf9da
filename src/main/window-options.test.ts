import { describe, expect, it } from 'vitest';
import { createBridge } from '../preload/api.js';
import { mainWindowOptions } from './window-options.js';

describe('mainWindowOptions', () => {
  const options = mainWindowOptions({ preload: '/app/out/preload/index.cjs', version: '0.1.0' });

  it('isolates the page from Node', () => {
    expect(options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('stays hidden until the first paint', () => {
    expect(options.show).toBe(false);
  });

  it('hands the version to the preload through argv', () => {
    const bridge = createBridge(['/electron', ...options.webPreferences.additionalArguments], 'linux');
    expect(bridge).toEqual({ version: '0.1.0', platform: 'linux' });
  });

  it('sets the icon only when given one', () => {
    expect('icon' in options).toBe(false);
    expect(mainWindowOptions({ preload: '/p', version: '1.0.0', icon: '/i.png' }).icon).toBe('/i.png');
  });
});
