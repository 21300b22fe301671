// Screens shown instead of the app while the store is locked: the first-run form (creates the
// first operator, and with it the encrypted store) and the login form. Passwords go straight to
// Rust; the database key never reaches this side.

import { backend } from './app';
import { toAppError, type SessionInfo } from './backend';
import { byId, h, setChildren, type Attrs } from './dom';
import { t, type MsgKey } from './i18n';

type OnUnlocked = (session: SessionInfo) => void;

function field(id: string, label: MsgKey, type: string, extra: Attrs = {}, hint?: MsgKey): HTMLElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, t(label)),
    h('input', { id, type, spellcheck: 'false', autocapitalize: 'off', ...extra, ...(hint ? { 'aria-describedby': `${id}-hint` } : {}) }),
    hint ? h('div', { class: 'field-hint', id: `${id}-hint` }, t(hint)) : null,
  );
}

function value(id: string): string {
  return byId<HTMLInputElement>(id)?.value ?? '';
}

function showFormError(id: string, message: string | null): void {
  const el = byId(id);
  if (!el) return;
  el.hidden = message === null;
  el.textContent = message ?? '';
}

async function submitting(btnId: string, work: () => Promise<void>): Promise<void> {
  const btn = byId<HTMLButtonElement>(btnId);
  if (btn) {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
  }
  try {
    await work();
  } finally {
    if (btn && btn.isConnected) {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  }
}

/** Names the village code as it is typed, so a wrong code is seen before it is fixed for good. */
async function nameVillage(): Promise<void> {
  const code = value('fr-village').replace(/\D/g, '');
  const el = byId('fr-village-name');
  if (!el) return;
  const name = code.length === 10 ? await backend.villageName(code).catch(() => null) : null;
  el.textContent = name ?? (code.length === 10 ? t('villageUnknown') : t('villageCodeHint'));
  el.classList.toggle('error', code.length === 10 && !name);
}

/** Full-screen first-run form: sets the village, creates the first operator and unlocks. */
export function renderFirstRun(root: HTMLElement, session: SessionInfo, onUnlocked: OnUnlocked): void {
  const submit = (ev: Event): void => {
    ev.preventDefault();
    const password = value('fr-password');
    if (password.length < 8) return showFormError('first-run-error', t('passwordTooShort'));
    if (password !== value('fr-password2')) return showFormError('first-run-error', t('passwordsDiffer'));
    showFormError('first-run-error', null);
    void submitting('btn-first-run', async () => {
      try {
        const next = await backend.createFirstOperator({
          username: value('fr-username').trim(),
          displayName: value('fr-display').trim(),
          password,
          villageCode: value('fr-village').replace(/\D/g, ''),
          deviceNo: Number(value('fr-device')) || 1,
        });
        onUnlocked(next);
      } catch (e) {
        showFormError('first-run-error', toAppError(e).message);
      }
    });
  };
  setChildren(
    root,
    h(
      'div',
      { class: 'session-screen' },
      h(
        'form',
        { id: 'first-run', class: 'panel session-panel', novalidate: true, onsubmit: submit },
        h('div', { class: 'panel-head' }, h('h2', null, t('firstRunTitle'))),
        h('p', { class: 'muted' }, t('firstRunIntro')),
        field('fr-village', 'fieldVillageCode', 'text', { inputmode: 'numeric', maxlength: 13, value: session.village_code, oninput: () => void nameVillage() }),
        h('div', { id: 'fr-village-name', class: 'field-hint', 'aria-live': 'polite' }, session.village_name),
        field('fr-device', 'fieldDeviceNo', 'text', { inputmode: 'numeric', maxlength: 3, value: String(session.device_no) }, 'fieldDeviceNoHint'),
        field('fr-username', 'fieldUsername', 'text', { autocomplete: 'username', value: 'operator' }, 'fieldUsernameHint'),
        field('fr-display', 'fieldDisplayName', 'text', { autocomplete: 'name', value: session.default_display_name }),
        field('fr-password', 'fieldPassword', 'password', { autocomplete: 'new-password' }, 'fieldPasswordHint'),
        field('fr-password2', 'fieldPassword2', 'password', { autocomplete: 'new-password' }),
        h('div', { id: 'first-run-error', class: 'session-error', role: 'alert', hidden: true }),
        h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'btn-first-run', class: 'btn btn-primary' }, t('btnFirstRun'))),
      ),
    ),
  );
  byId<HTMLInputElement>('fr-username')?.select();
  byId('fr-username')?.focus();
}

/** Full-screen login form. */
export function renderLogin(root: HTMLElement, lastUser: string | null, onUnlocked: OnUnlocked): void {
  const submit = (ev: Event): void => {
    ev.preventDefault();
    showFormError('login-error', null);
    void submitting('btn-login', async () => {
      try {
        const next = await backend.login(value('login-username').trim(), value('login-password'));
        onUnlocked(next);
      } catch (e) {
        const pw = byId<HTMLInputElement>('login-password');
        if (pw) {
          pw.value = '';
          pw.focus();
        }
        showFormError('login-error', toAppError(e).message);
      }
    });
  };
  setChildren(
    root,
    h(
      'div',
      { class: 'session-screen' },
      h(
        'form',
        { id: 'login', class: 'panel session-panel', novalidate: true, onsubmit: submit },
        h('div', { class: 'panel-head' }, h('h2', null, t('loginTitle'))),
        h('p', { class: 'muted' }, t('loginIntro')),
        field('login-username', 'fieldUsername', 'text', { autocomplete: 'username', value: lastUser ?? '' }),
        field('login-password', 'fieldPassword', 'password', { autocomplete: 'current-password' }),
        h('div', { id: 'login-error', class: 'session-error', role: 'alert', hidden: true }),
        h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'btn-login', class: 'btn btn-primary' }, t('btnLogin'))),
      ),
    ),
  );
  byId(lastUser ? 'login-password' : 'login-username')?.focus();
}
