import { DomainError } from '../errors/index.js';

/** The person pressed Ctrl-C or Ctrl-D at a prompt, or there is no terminal to ask. */
export class PromptError extends DomainError {
  readonly code = 'prompt_failed';
}

export function canPrompt(): boolean {
  return process.stdin.isTTY === true && typeof process.stdin.setRawMode === 'function';
}

/**
 * Asks on the terminal without echoing what is typed (raw mode: each key arrives as typed, and
 * nothing is printed back). The question goes to stderr, so stdout stays clean for scripts.
 */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!canPrompt()) return Promise.reject(new PromptError('no terminal to ask for the passphrase'));
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) {
          finish();
          reject(new PromptError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}
