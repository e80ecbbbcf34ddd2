/**
 * The API key: asked for when the API answers 401, kept for the tab (apiKey.ts), and forgotten on
 * request. Only the service's own pages ever see it.
 */
import { forgetApiKey, storeApiKey, storedApiKey } from './apiKey.js';
import { byId } from './dom.js';

export interface KeyPrompt {
  /** Shows the form with `message` and moves focus to it. */
  ask(message: string): void;
}

/** `focusAfter`: where focus goes once a key is given, as the form it was in disappears. */
export function createKeyPrompt({ focusAfter, onKey, onForget }: { focusAfter: HTMLElement; onKey(): void; onForget(): void }): KeyPrompt {
  const panel = byId('key-panel', HTMLElement);
  const form = byId('key-form', HTMLFormElement);
  const input = byId('key-input', HTMLInputElement);
  const message = byId('key-message', HTMLParagraphElement);
  const forget = byId('forget-key', HTMLButtonElement);
  const refreshForget = () => {
    forget.hidden = storedApiKey() === null;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === '') return;
    storeApiKey(key);
    input.value = '';
    panel.hidden = true;
    focusAfter.focus();
    refreshForget();
    onKey();
  });
  forget.addEventListener('click', () => {
    forgetApiKey();
    refreshForget();
    onForget();
  });
  refreshForget();

  return {
    ask(text) {
      message.textContent = text;
      panel.hidden = false;
      input.focus();
    },
  };
}
