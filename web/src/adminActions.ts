/**
 * The admin actions, each behind a confirmation: erase a contact, undo a merge. The admin key
 * goes with these requests only. What an action did (or why the service refused it, in its own
 * words) goes to the admin notice above the customer and to the status line, and keyboard focus
 * moves there, as the button pressed may be gone once the customer is shown again.
 */
import { eraseContact, unmergeMerge } from './adminApi.js';
import {
  customerAfterErasure,
  eraseConfirmation,
  erasedMessage,
  failureMessage,
  unmergeConfirmation,
  unmergedMessage,
  type AdminFailure,
  type AdminMessage,
} from './adminText.js';
import { storedAdminKey } from './apiKey.js';
import type { ConfirmDialog } from './confirmDialog.js';
import type { Notice, NoticeAction } from './notice.js';
import type { Contact, ContactEvent, CustomerDetails } from './types.js';

export interface AdminActions {
  erase(contact: Contact, customer: CustomerDetails, button: HTMLButtonElement): Promise<void>;
  unmerge(event: ContactEvent, primaryContactId: number, button: HTMLButtonElement): Promise<void>;
}

export interface AdminActionsOptions {
  confirm: ConfirmDialog;
  /** The box above the customer (#admin-notice). */
  notice: Notice;
  announce(text: string): void;
  /**
   * Shows the customer of contact `contactId` afresh (null: none is left), leaving the admin
   * notice in place; `said` goes before the status line's words about the customer.
   */
  reload(contactId: number | null, said: string): void;
  /** Opens the admin key dialog (after the service refused the key). */
  askAdminKey(): void;
}

export function createAdminActions({ confirm, notice, announce, reload, askAdminKey }: AdminActionsOptions): AdminActions {
  const open = (id: number): NoticeAction => ({ label: `Open customer #${id}`, run: () => reload(id, '') });

  function report(tone: 'done' | 'error', text: AdminMessage, actions: NoticeAction[] = []): void {
    notice.show(tone, text.title, text.message, actions, text.details);
    notice.focus();
  }

  function refuse(action: 'erasure' | 'unmerge', failure: AdminFailure, retryReload: () => void): void {
    const text = failureMessage(action, failure);
    const actions: NoticeAction[] =
      failure.status === 401
        ? [{ label: 'Change admin key…', run: askAdminKey }]
        : failure.status === 404
          ? [{ label: 'Show the customer again', run: retryReload }]
          : [];
    report('error', text, actions);
    announce([`${text.title}.`, text.message, ...text.details].join(' '));
  }

  /** Runs `request` with the button disabled, so one press sends one request. */
  async function pressed<T>(button: HTMLButtonElement, request: () => Promise<T>): Promise<T> {
    button.disabled = true;
    try {
      return await request();
    } finally {
      button.disabled = false;
    }
  }

  return {
    async erase(contact, customer, button) {
      const adminKey = storedAdminKey();
      if (adminKey === null) return;
      if (!(await confirm.ask(eraseConfirmation(contact), button))) return announce(`Nothing was erased.`);
      announce(`Erasing contact #${contact.id}…`);
      const answer = await pressed(button, () => eraseContact(contact.id, adminKey));
      if (!answer.ok) return refuse('erasure', answer.failure, () => reload(customer.primaryContactId, ''));
      const text = erasedMessage(answer.value);
      const shown = customerAfterErasure(answer.value, customer.primaryContactId);
      const others = answer.value.customers.map((ids) => ids[0]).filter((id): id is number => id !== undefined && id !== shown);
      report('done', text, others.map(open));
      reload(shown, text.message);
    },

    async unmerge(event, primaryContactId, button) {
      const adminKey = storedAdminKey();
      if (adminKey === null) return;
      if (!(await confirm.ask(unmergeConfirmation(event), button))) return announce('Nothing was unmerged.');
      announce(`Undoing merge ${event.id}…`);
      const answer = await pressed(button, () => unmergeMerge(primaryContactId, event.id, adminKey));
      if (!answer.ok) return refuse('unmerge', answer.failure, () => reload(primaryContactId, ''));
      const text = unmergedMessage(answer.value);
      // The shown customer's primary keeps its side; the other side is a customer of its own now.
      const others = answer.value.into.filter((id) => id !== primaryContactId);
      report('done', text, others.map(open));
      reload(primaryContactId, text.message);
    },
  };
}
