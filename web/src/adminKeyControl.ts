/**
 * The admin key: typed in a small dialog opened from the page header, kept for the tab like the
 * API key (apiKey.ts), sent only with admin requests, and forgotten on request. The page offers
 * its admin actions (erase, unmerge) only while one is kept.
 */
import { forgetAdminKey, storeAdminKey, storedAdminKey } from './apiKey.js';
import { byId } from './dom.js';

export interface AdminKeyControl {
  /** Opens the dialog to type a key (another one, after the service refused it). */
  ask(): void;
}

export function createAdminKeyControl({ onChange }: { onChange(hasKey: boolean, how: 'given' | 'forgotten'): void }): AdminKeyControl {
  const open = byId('admin-key-button', HTMLButtonElement);
  const forget = byId('forget-admin-key', HTMLButtonElement);
  const dialog = byId('admin-key-dialog', HTMLDialogElement);
  const form = byId('admin-key-form', HTMLFormElement);
  const input = byId('admin-key-input', HTMLInputElement);
  const cancel = byId('admin-key-cancel', HTMLButtonElement);
  let returnFocus: HTMLElement = open;

  const refresh = () => {
    const hasKey = storedAdminKey() !== null;
    open.textContent = hasKey ? 'Change admin key…' : 'Admin key…';
    forget.hidden = !hasKey;
  };
  const ask = (from: HTMLElement) => {
    returnFocus = from;
    input.value = '';
    dialog.showModal();
    input.focus();
  };

  open.addEventListener('click', () => ask(open));
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    input.value = '';
    (returnFocus.isConnected && !returnFocus.hidden ? returnFocus : open).focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === '') return;
    storeAdminKey(key);
    dialog.close();
    refresh();
    onChange(true, 'given');
  });
  forget.addEventListener('click', () => {
    forgetAdminKey();
    refresh();
    open.focus(); // the button pressed is gone
    onChange(false, 'forgotten');
  });
  refresh();

  return {
    ask() {
      ask(document.activeElement instanceof HTMLElement ? document.activeElement : open);
    },
  };
}
