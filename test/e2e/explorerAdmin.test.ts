/**
 * The explorer's admin actions in headless Chromium, against the real service on a socket over a
 * scratch database (as explorerHistory.test.ts does), with ADMIN_API_KEYS set: no admin control
 * without an admin key, erasing a contact behind a confirmation, the service refusing a wrong key
 * (401) or running with the admin API disabled (403), and undoing a merge from the history.
 * Customers are made through POST /identify; each test works on customers of its own.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildExplorer } from '../../web/build.js';
import { browserSkipReason, freshPagePerTest, launchBrowser, screenshotPath } from '../support/browser.js';
import { openScratchPglite, type ScratchDatabase } from '../support/databases.js';
import { identifyOver, listenOnRandomPort, type LiveApp } from '../support/liveApp.js';

const ADMIN_KEY = 'explorer-admin-key-0123456789';
/** Answers under these paths are the tests' business (401s, 404s on purpose), not page problems. */
const API_PATH = /^\/(customers|contacts|admin)\//;

/**
 * Customer 1: marty's email with 555111 (#1) and with 555222 (#2), and jennifer with 555222 (#3):
 * #2 is the bridge, so erasing it forgets marty@… and 555222 and leaves customers 1 and 3.
 * Customer 4: george (#4) and biffsucks (#5) with biff (#6, sharing 717171), joined by a request
 * carrying george's email and biff's phone: one logged merge, and nothing else joins the sides.
 * Customer 7 (made in `before`): lorraine (#7, #8) and mcfly (#9) share 333555; blocked, it split
 * them, a request joined them by a merge, and unblocked it holds them together again, so undoing
 * that merge is refused with STILL_LINKED (as in test/integration/unmerge.test.ts).
 */
const SEED = [
  { email: 'marty@hillvalley.edu', phoneNumber: '555111' },
  { email: 'marty@hillvalley.edu', phoneNumber: '555222' },
  { email: 'jennifer@hillvalley.edu', phoneNumber: '555222' },
  { email: 'george@hillvalley.edu', phoneNumber: '919191' },
  { email: 'biffsucks@hillvalley.edu', phoneNumber: '717171' },
  { email: 'biff@hillvalley.edu', phoneNumber: '717171' },
  { email: 'george@hillvalley.edu', phoneNumber: '717171' },
];

describe('the explorer’s admin actions in headless Chromium', { skip: browserSkipReason() }, () => {
  let scratch: ScratchDatabase;
  let bundleDir: string;
  let browser: Browser;
  let context: BrowserContext;
  let live: LiveApp;
  /** The same table, served with no admin keys (and ADMIN_API_OPEN unset): the admin API answers 403. */
  let disabled: LiveApp;
  let page: Page;

  before(async () => {
    bundleDir = await mkdtemp(join(tmpdir(), 'explorer-bundle-'));
    [scratch, browser] = await Promise.all([openScratchPglite(), launchBrowser(), buildExplorer(bundleDir)]);
    live = await listenOnRandomPort({ db: scratch.db, explorerDir: bundleDir, http: { adminApiKeys: [ADMIN_KEY] } });
    disabled = await listenOnRandomPort({ db: scratch.db, explorerDir: bundleDir });
    for (const request of SEED) await identifyOver(live.baseUrl, request);
    for (const phoneNumber of ['333111', '333555']) await identifyOver(live.baseUrl, { email: 'lorraine@hillvalley.edu', phoneNumber });
    await identifyOver(live.baseUrl, { email: 'mcfly@hillvalley.edu', phoneNumber: '333555' });
    const { rule } = (await asAdmin('POST', '/admin/blocked', { field: 'phoneNumber', value: '333555', reason: 'explorer test' })) as {
      rule: { id: number };
    };
    await identifyOver(live.baseUrl, { email: 'mcfly@hillvalley.edu', phoneNumber: '333111' });
    await asAdmin('DELETE', `/admin/blocked/${rule.id}`);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await live?.app.close();
    await disabled?.app.close();
    await scratch?.dispose();
    if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
  });

  freshPagePerTest(
    () => context,
    API_PATH,
    (fresh) => (page = fresh),
  );

  /** An admin request straight to the service (the page is not involved); rejects unless it succeeds. */
  async function asAdmin(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${live.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  }

  /** The id of the customer's one logged merge, as its history lists it. */
  async function mergeEventOf(primaryContactId: number): Promise<number> {
    const response = await fetch(`${live.baseUrl}/customers/${primaryContactId}/history`);
    const { history } = (await response.json()) as { history: { events: { id: number; type: string }[] } };
    const merges = history.events.filter((event) => event.type === 'customer.merged');
    assert.equal(merges.length, 1, `customer ${primaryContactId} has one logged merge`);
    return (merges[0] as { id: number }).id;
  }

  async function open(baseUrl: string, hash: string, primaryContactId: number): Promise<void> {
    await page.goto(`${baseUrl}/#${hash}`);
    await customerShown(primaryContactId);
  }

  async function customerShown(primaryContactId: number): Promise<void> {
    await page.getByRole('heading', { name: `Customer ${primaryContactId}`, exact: true }).waitFor();
  }

  /** Gives the admin key as a person does: the header's button, the dialog's field, Enter. */
  async function giveAdminKey(key: string): Promise<void> {
    await page.getByRole('button', { name: /^(Admin key…|Change admin key…)$/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Admin key' });
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'admin-key-input', 'focus moves to the key field');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
  }

  async function chooseContact(id: number): Promise<void> {
    await page.locator(`#contacts-body tr[data-contact-id="${id}"] td`).first().click();
  }

  function tableRows() {
    return page.locator('#contacts-body tr').evaluateAll((rows) =>
      rows.map((row) => {
        const cells = [...(row as HTMLTableRowElement).cells].map((cell) => cell.innerText.trim());
        return { id: (row as HTMLElement).dataset.contactId, email: cells[1], phone: cells[2] };
      }),
    );
  }

  async function adminNotice(title: string): Promise<{ message: string; details: string[] }> {
    const box = page.locator('#admin-notice');
    await box.getByRole('heading', { name: title, exact: true }).waitFor();
    return { message: await box.locator('p').innerText(), details: await box.locator('li').allInnerTexts() };
  }

  const status = () => page.getByRole('status').textContent();
  /** The dialog's close event, and what follows it, come a task after the dialog is hidden. */
  const statusSays = (text: string) =>
    page.waitForFunction((expected) => document.getElementById('status')?.textContent === expected, text);
  const focusMovesTo = (id: string) => page.waitForFunction((expected) => document.activeElement?.id === expected, id);
  const activeId = () => page.evaluate(() => document.activeElement?.id ?? null);
  const storedAdminKey = () => page.evaluate(() => sessionStorage.getItem('identity-explorer.adminKey'));

  async function contactLives(id: number): Promise<boolean> {
    const response = await fetch(`${live.baseUrl}/customers/${id}`);
    return response.status === 200;
  }

  it('shows no erase or unmerge control without an admin key, and forgets the key on request', async () => {
    await open(live.baseUrl, 'id=4', 4);
    await page.locator('#history-status', { hasText: 'oldest first' }).waitFor();
    await chooseContact(5);
    assert.equal(await page.getByRole('button', { name: /^Erase/ }).count(), 0, 'no erase button');
    assert.equal(await page.getByRole('button', { name: /^Unmerge/ }).count(), 0, 'no unmerge button');
    assert.equal(await page.locator('#history-events .event-actions button').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Forget admin key' }).isHidden(), true);

    await giveAdminKey(ADMIN_KEY);
    assert.equal(await storedAdminKey(), ADMIN_KEY, 'kept in sessionStorage');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'never in localStorage');
    assert.doesNotMatch(page.url(), /admin/, 'never in the URL');
    assert.equal(await status(), 'Admin key given: erase and unmerge are offered.');
    assert.equal(await page.getByRole('button', { name: 'Erase contact #5…' }).isVisible(), true);
    assert.equal(await page.getByRole('button', { name: /^Unmerge event \d+…$/ }).count(), 1, 'one merge in the history, one button');

    await page.getByRole('button', { name: 'Forget admin key' }).click();
    assert.equal(await storedAdminKey(), null);
    assert.equal(await status(), 'The admin key is forgotten.');
    assert.equal(await activeId(), 'admin-key-button', 'focus goes to the button that gives a key');
    assert.equal(await page.getByRole('button', { name: /^Erase/ }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Unmerge/ }).count(), 0);
  });

  it('erases a contact only after an explicit confirmation: Escape and Cancel leave it, Erase forgets it and shows the split', async () => {
    await open(live.baseUrl, 'email=marty%40hillvalley.edu', 1);
    await giveAdminKey(ADMIN_KEY);
    await chooseContact(2);
    const eraseButton = page.getByRole('button', { name: 'Erase contact #2…' });
    const dialog = page.getByRole('dialog', { name: 'Erase contact #2?' });

    // Escape cancels; focus returns to the button that opened the dialog.
    await eraseButton.click();
    await dialog.waitFor();
    assert.equal(await activeId(), 'confirm-cancel', 'focus starts on Cancel');
    const said = await dialog.innerText();
    assert.match(said, /email marty@hillvalley\.edu and phone number 555222 are forgotten everywhere/);
    assert.match(said, /The customer may split/);
    assert.match(said, /This cannot be undone\./);
    await page.screenshot({ path: await screenshotPath('explorer', 'admin-erase-confirm') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await focusMovesTo('erase-button'); // focus returns to the button that opened the dialog
    await statusSays('Nothing was erased.');

    // Cancel, with the keyboard alone.
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await focusMovesTo('erase-button');
    assert.equal(await contactLives(2), true, 'the contact is still there');
    assert.equal((await tableRows()).length, 3);

    // Confirm.
    await eraseButton.click();
    await dialog.getByRole('button', { name: 'Erase contact #2', exact: true }).click();
    const { message } = await adminNotice('Contact 2 erased');
    assert.equal(message, 'Contact 2 erased; customers left: 1, 3. Customer 1 split into customers 1 and 3.');
    await page.waitForFunction(() => location.hash === '#id=1');
    await customerShown(1);
    assert.deepEqual(await tableRows(), [{ id: '1', email: '—', phone: '555111' }], 'marty@… is forgotten in contact 1 too');
    assert.equal(await activeId(), 'admin-notice', 'focus moves to what happened');
    assert.equal(
      await status(),
      'Contact 2 erased; customers left: 1, 3. Customer 1 split into customers 1 and 3. Customer 1: 1 contact, 0 emails, 1 phone number.',
    );
    assert.equal(await contactLives(2), false);
    await page.locator('#history-status', { hasText: 'oldest first' }).waitFor();
    assert.deepEqual((await page.locator('#history-events li strong').allInnerTexts()).slice(-2), ['Contact erased', 'Customer split']);
    await page.screenshot({ path: await screenshotPath('explorer', 'admin-erased'), fullPage: true });

    await page.locator('#admin-notice').getByRole('button', { name: 'Open customer #3' }).click();
    await customerShown(3);
    assert.deepEqual(await tableRows(), [{ id: '3', email: 'jennifer@hillvalley.edu', phone: '—' }]);

    // Any other search clears the notice.
    await page.locator('#search-input').fill('#1');
    await page.locator('#search-input').press('Enter');
    await page.waitForFunction(() => location.hash === '#id=1');
    await customerShown(1);
    await page.locator('#admin-notice').waitFor({ state: 'hidden' });
  });

  it('says the admin key was not accepted (401), erases nothing, and offers to type another', async () => {
    await open(live.baseUrl, 'id=4', 4);
    await giveAdminKey('not-the-admin-key-0123456789');
    await chooseContact(6);
    await page.getByRole('button', { name: 'Erase contact #6…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Erase contact #6', exact: true }).click();
    const { message } = await adminNotice('Admin key not accepted');
    assert.equal(
      message,
      'The service did not accept the admin key (The API key is not valid.) Type another with “Change admin key…”, or forget it.',
    );
    assert.match((await status()) ?? '', /^Admin key not accepted\. /);
    assert.equal(await contactLives(6), true);
    assert.equal((await tableRows()).length, 3, 'the customer is still shown');

    await page.locator('#admin-notice').getByRole('button', { name: 'Change admin key…' }).click();
    await page.getByRole('dialog', { name: 'Admin key' }).waitFor();
    await page.keyboard.press('Escape');
    assert.equal(await storedAdminKey(), 'not-the-admin-key-0123456789', 'Escape keeps the key there was');
  });

  it('says when the admin API is disabled (403 ADMIN_DISABLED)', async () => {
    await open(disabled.baseUrl, 'id=4', 4);
    await giveAdminKey(ADMIN_KEY);
    await chooseContact(6);
    await page.getByRole('button', { name: 'Erase contact #6…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Erase contact #6', exact: true }).click();
    const { message } = await adminNotice('Admin actions are disabled');
    assert.equal(message, 'The admin API is disabled: set ADMIN_API_KEYS (or ADMIN_API_OPEN=true on a private network).');
    assert.equal(await contactLives(6), true);
  });

  it('undoes a merge from the history only after a confirmation, and shows the two customers apart', async () => {
    await open(live.baseUrl, 'id=4', 4);
    await giveAdminKey(ADMIN_KEY);
    const mergeId = await mergeEventOf(4);
    const unmergeButton = page.getByRole('button', { name: `Unmerge event ${mergeId}…` });
    const dialog = page.getByRole('dialog', { name: `Undo merge ${mergeId}?` });
    const focusedText = () => page.evaluate(() => document.activeElement?.textContent ?? null);

    await unmergeButton.click();
    await dialog.waitFor();
    const said = await dialog.innerText();
    assert.match(said, /Customer #5 joined customer #4: a request carried george@hillvalley\.edu and 717171, which belonged to both\./);
    assert.match(said, /become two customers again, and a separation keeps later requests from joining them/);
    await page.screenshot({ path: await screenshotPath('explorer', 'admin-unmerge-confirm') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await statusSays('Nothing was unmerged.');
    assert.equal(await focusedText(), `Unmerge event ${mergeId}…`, 'focus returns to the button');
    assert.equal((await tableRows()).length, 3, 'nothing was unmerged');

    await unmergeButton.click();
    await dialog.getByRole('button', { name: 'Unmerge', exact: true }).click();
    const { message } = await adminNotice(`Merge ${mergeId} undone`);
    assert.match(
      message,
      new RegExp(
        `^Merge ${mergeId} undone: customers 4 and 5 are apart again\\. Separation \\d+ keeps requests from joining them again\\.$`,
      ),
    );
    await page.waitForFunction(() => document.querySelectorAll('#contacts-body tr').length === 1);
    await customerShown(4);
    assert.deepEqual(
      (await tableRows()).map((row) => row.id),
      ['4'],
    );
    assert.match((await status()) ?? '', new RegExp(`^Merge ${mergeId} undone: .* Customer 4: 1 contact, 1 email, 1 phone number\\.$`));
    // The history keeps the merge, says what undid it, and offers it no more.
    await page.locator('#history-status', { hasText: 'oldest first' }).waitFor();
    const merge = page.locator('#history-events li[data-type="customer.merged"]');
    const undone = page.locator('#history-events li[data-type="customer.unmerged"]');
    const undoneMeta = await undone.locator('.event-meta').innerText();
    const undoneId = /· event (\d+)/.exec(undoneMeta)?.[1];
    assert.equal(await merge.locator('.event-undone').innerText(), `Undone by event ${undoneId}.`);
    assert.equal(await page.getByRole('button', { name: /^Unmerge/ }).count(), 0);
    assert.match(
      await undone.locator('p').nth(1).innerText(),
      new RegExp(
        `^Merge ${mergeId} was undone: customers #4, #5 are apart again, and requests may not join them \\(separation \\d+\\)\\.$`,
      ),
    );
    await page.screenshot({ path: await screenshotPath('explorer', 'admin-unmerged'), fullPage: true });

    await page.locator('#admin-notice').getByRole('button', { name: 'Open customer #5' }).click();
    await customerShown(5);
    assert.deepEqual(
      (await tableRows()).map((row) => row.id),
      ['5', '6'],
    );
  });

  it('says what still joins the two sides when the service refuses an unmerge (409 STILL_LINKED), and changes nothing', async () => {
    await open(live.baseUrl, 'id=9', 7);
    await giveAdminKey(ADMIN_KEY);
    const mergeId = await mergeEventOf(7);
    await page.getByRole('button', { name: `Unmerge event ${mergeId}…` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Unmerge', exact: true }).click();
    const { message, details } = await adminNotice('Still linked: nothing was unmerged');
    assert.match(message, /^Contacts 7 and 9 are still one customer without that merge: .*; nothing was written\. What still joins them:$/);
    assert.deepEqual(details, ['email of #7 and #8', 'phone number of #8 and #9']);
    assert.match(
      (await status()) ?? '',
      /^Still linked: nothing was unmerged\. Contacts 7 and 9 .* email of #7 and #8 phone number of #8 and #9$/,
    );
    assert.deepEqual(
      (await tableRows()).map((row) => row.id),
      ['7', '8', '9'],
      'the customer is still shown, whole',
    );
    await page.screenshot({ path: await screenshotPath('explorer', 'admin-still-linked'), fullPage: true });
  });
});
