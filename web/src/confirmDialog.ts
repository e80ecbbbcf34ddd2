/**
 * The confirmation before an admin action: a native modal `<dialog>`, so the page behind it is
 * inert, Tab stays inside it and Escape cancels. Focus starts on Cancel (the safe choice for an
 * action that cannot be undone) and goes back to the button that opened it, or to `fallback` when
 * that button is gone.
 */
import type { Confirmation } from './adminText.js';
import { byId, h } from './dom.js';

export interface ConfirmDialog {
  /** Resolves true only when the person presses the confirm button. */
  ask(confirmation: Confirmation, opener: HTMLElement | null): Promise<boolean>;
}

export function createConfirmDialog(fallback: HTMLElement): ConfirmDialog {
  const dialog = byId('confirm-dialog', HTMLDialogElement);
  const title = byId('confirm-title', HTMLHeadingElement);
  const body = byId('confirm-body', HTMLDivElement);
  const cancel = byId('confirm-cancel', HTMLButtonElement);
  const confirm = byId('confirm-ok', HTMLButtonElement);
  let settle: ((confirmed: boolean) => void) | null = null;
  let opener: HTMLElement | null = null;

  cancel.addEventListener('click', () => dialog.close('cancel'));
  confirm.addEventListener('click', () => dialog.close('confirm'));
  dialog.addEventListener('close', () => {
    const confirmed = dialog.returnValue === 'confirm';
    const done = settle;
    settle = null;
    (opener?.isConnected ? opener : fallback).focus();
    opener = null;
    done?.(confirmed);
  });

  return {
    ask(confirmation, from) {
      if (dialog.open) dialog.close('cancel');
      title.textContent = confirmation.title;
      body.replaceChildren(...confirmation.paragraphs.map((text) => h('p', {}, text)));
      confirm.textContent = confirmation.confirmLabel;
      dialog.returnValue = '';
      opener = from;
      const answer = new Promise<boolean>((resolve) => (settle = resolve));
      dialog.showModal();
      cancel.focus();
      return answer;
    },
  };
}
