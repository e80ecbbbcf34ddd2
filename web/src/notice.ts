/**
 * The message box for every outcome but a customer: loading, not found, bad input, two customers,
 * failures; and the box above the customer that says what an admin action did. Screen readers
 * hear the same words through the status line (main.ts).
 */
import { h } from './dom.js';

/** `done`: an admin action succeeded. */
export type NoticeTone = 'loading' | 'info' | 'error' | 'done';

export interface NoticeAction {
  label: string;
  run(): void;
}

export interface Notice {
  /** `details`: lines listed under the message. */
  show(tone: NoticeTone, title: string, message: string, actions?: readonly NoticeAction[], details?: readonly string[]): void;
  hide(): void;
  /** Moves keyboard focus to the box (after an action whose button is gone). */
  focus(): void;
}

/**
 * `focusAfter`: where focus goes when the box is hidden while it holds focus (one of its buttons
 * was pressed), so keyboard users do not drop back to the top of the page.
 */
export function createNotice(box: HTMLElement, focusAfter: HTMLElement): Notice {
  const holdsFocus = () => box.contains(document.activeElement);
  return {
    show(tone, title, message, actions = [], details = []) {
      const hadFocus = holdsFocus();
      box.dataset.tone = tone;
      const buttons = actions.map((action) => {
        const button = h('button', { type: 'button' }, action.label);
        button.addEventListener('click', () => action.run());
        return button;
      });
      box.replaceChildren(
        h('h2', {}, title),
        h('p', {}, message),
        ...(details.length > 0 ? [h('ul', { class: 'notice-details' }, ...details.map((line) => h('li', {}, line)))] : []),
        ...(buttons.length > 0 ? [h('div', { class: 'actions' }, ...buttons)] : []),
      );
      box.hidden = false;
      if (hadFocus) box.focus();
    },
    hide() {
      const hadFocus = holdsFocus();
      box.hidden = true;
      box.replaceChildren();
      if (hadFocus) focusAfter.focus();
    },
    focus() {
      box.focus();
    },
  };
}
