import { describe, expect, it } from 'vitest';
import { createBridge, versionArgument } from './api.js';

describe('createBridge', () => {
  it('exposes the version and platform, frozen', () => {
    const bridge = createBridge(['/electron', '--type=renderer', versionArgument('1.2.3-beta.1')], 'darwin');
    expect(bridge).toEqual({ version: '1.2.3-beta.1', platform: 'darwin' });
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('says unknown when the argument is missing or odd', () => {
    expect(createBridge(['/electron'], 'linux').version).toBe('unknown');
    expect(createBridge([versionArgument('<script>')], 'linux').version).toBe('unknown');
    expect(createBridge([versionArgument('')], 'linux').version).toBe('unknown');
  });

  it('exposes no functions', () => {
    const bridge = createBridge([versionArgument('1.0.0')], 'win32');
    expect(Object.values(bridge).every((value) => typeof value === 'string')).toBe(true);
  });
});
