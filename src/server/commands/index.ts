export { KeysCommandError, keysChangePassphrase, keysProtect, keysRotateMaster, keysStatus } from './keys.js';
export type { KeysContext } from './keys.js';
export { canPrompt, PromptError, promptHidden } from './prompt.js';
export { currentPassphrase, newPassphrase, takeSecrets } from './secrets.js';
export type { Secrets } from './secrets.js';
