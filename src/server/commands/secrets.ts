import { checkNewPassphrase, WeakPassphraseError } from '../kms/index.js';
import { canPrompt, PromptError, promptHidden } from './prompt.js';

/**
 * The secrets a command may take from its environment. Read once at start and removed from
 * process.env, so that no child process and no crash dump of the environment carries them.
 * Secrets are never taken from flags: argv is visible to every user of the machine (ps).
 */
export interface Secrets {
  passphrase: string | undefined;
  newPassphrase: string | undefined;
}

export function takeSecrets(env: NodeJS.ProcessEnv = process.env): Secrets {
  const take = (name: string) => {
    const value = env[name];
    delete env[name];
    return value === '' ? undefined : value;
  };
  return { passphrase: take('ALLSOURCE_PASSPHRASE'), newPassphrase: take('ALLSOURCE_NEW_PASSPHRASE') };
}

/** The current passphrase: ALLSOURCE_PASSPHRASE, else asked on the terminal. */
export async function currentPassphrase(secrets: Secrets, question = 'Passphrase: '): Promise<string> {
  if (secrets.passphrase !== undefined) return secrets.passphrase;
  if (!canPrompt())
    throw new PromptError(
      'the master key is protected by a passphrase: set ALLSOURCE_PASSPHRASE or run this in a terminal',
    );
  return promptHidden(question);
}

/** A new passphrase: `fromEnv` (checked against the policy), else asked twice on the terminal. */
export async function newPassphrase(fromEnv: string | undefined): Promise<string> {
  if (fromEnv !== undefined) {
    checkNewPassphrase(fromEnv);
    return fromEnv;
  }
  if (!canPrompt()) {
    throw new PromptError('a new passphrase is needed: set ALLSOURCE_NEW_PASSPHRASE or run this in a terminal');
  }
  for (let attempt = 1; ; attempt++) {
    const first = await promptHidden('New passphrase (at least 12 characters): ');
    try {
      checkNewPassphrase(first);
    } catch (error) {
      if (!(error instanceof WeakPassphraseError) || attempt === 3) throw error;
      process.stderr.write(`allsource: ${error.message}\n`);
      continue;
    }
    if ((await promptHidden('Repeat the new passphrase: ')) === first) return first;
    if (attempt === 3) throw new PromptError('the two passphrases differ');
    process.stderr.write('allsource: the two passphrases differ; try again\n');
  }
}
