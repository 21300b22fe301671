// Screen: settings (server URL, language) and device information.

import type { Lang } from './i18n';
import { backend, ctx, reportError } from './app';
import { toAppError } from './backend';
import { byId, formatTimestamp, h } from './dom';
import { t, type MsgKey } from './i18n';

const state: { saved: boolean } = { saved: false };

/** Called after settings were saved and the info changed (main re-renders). */
export type OnSaved = (lang: Lang) => void;

export function renderSettingsScreen(onSaved: OnSaved): HTMLElement {
  const info = ctx.info;
  const about: [MsgKey, string, string?][] = info
    ? [
        ['settingsVillage', info.village_name],
        ['settingsVillageCode', info.village_code, 'mono'],
        ['settingsRegency', info.regency_name],
        ['settingsDevice', String(info.device_no)],
        ['settingsOperator', info.operator],
        ['settingsDataDir', info.data_dir, 'mono'],
        ['settingsVersion', info.version, 'mono'],
      ]
    : [];
  return h(
    'section',
    { id: 'screen-settings', class: 'screen', 'aria-labelledby': 'settings-heading' },
    h(
      'div',
      { class: 'settings-layout' },
      h(
        'form',
        {
          class: 'panel',
          id: 'settings-form',
          novalidate: true,
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            void save(onSaved);
          },
        },
        h('div', { class: 'panel-head' }, h('h2', { id: 'settings-heading' }, t('settingsTitle'))),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'f-server-url' }, t('settingsServerUrl')),
          h('input', { type: 'text', id: 'f-server-url', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', value: info?.server_url ?? '', 'aria-describedby': 'hint-server-url', oninput: () => clearSaved() }),
          h('div', { class: 'field-hint', id: 'hint-server-url' }, t('settingsServerHint')),
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'f-lang' }, t('settingsLang')),
          h(
            'select',
            { id: 'f-lang', value: info?.lang ?? 'id', onchange: () => clearSaved() },
            h('option', { value: 'id' }, t('langId')),
            h('option', { value: 'en' }, t('langEn')),
          ),
        ),
        h(
          'div',
          { class: 'form-actions' },
          h('span', { id: 'settings-status', class: 'settings-status ok', role: 'status', hidden: !state.saved }, t('settingsSaved')),
          h('button', { type: 'submit', id: 'btn-save-settings', class: 'btn btn-primary' }, t('btnSaveSettings')),
        ),
      ),
      h(
        'div',
        { class: 'panel' },
        h('div', { class: 'panel-head' }, h('h2', null, t('settingsAbout'))),
        info
          ? h(
              'dl',
              { class: 'about-list' },
              about.map(([k, v, cls]) => [h('dt', null, t(k)), h('dd', { class: cls ?? null, id: k === 'settingsDataDir' ? 'settings-data-dir' : k === 'settingsVersion' ? 'settings-version' : null }, v || '—')]),
            )
          : h('p', { class: 'muted' }, '—'),
      ),
      h(
        'form',
        {
          class: 'panel',
          id: 'enroll-form',
          novalidate: true,
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            void enroll();
          },
        },
        h('div', { class: 'panel-head' }, h('h2', null, t('settingsEnroll'))),
        h('p', { id: 'enroll-state', 'data-enrolled': info?.device_enrolled ? 'yes' : 'no' }, enrollStateText()),
        h('p', { class: 'muted' }, t('settingsEnrollHint')),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'enroll-code' }, t('fieldEnrollCode')),
          h('input', { type: 'text', id: 'enroll-code', class: 'mono', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters', placeholder: 'K7QX-M2PD-9R', maxlength: 24 }),
        ),
        h(
          'div',
          { class: 'form-actions' },
          h('span', { id: 'enroll-status', class: 'settings-status', role: 'status', hidden: true }),
          h('button', { type: 'submit', id: 'btn-enroll', class: 'btn' }, t('btnEnroll')),
        ),
      ),
      h(
        'form',
        {
          class: 'panel',
          id: 'usb-form',
          novalidate: true,
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            void exportToUsb();
          },
        },
        h('div', { class: 'panel-head' }, h('h2', null, t('usbTitle'))),
        h('p', { class: 'muted' }, t('usbHint')),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'usb-target' }, t('usbTarget')),
          h('select', { id: 'usb-target' }, h('option', { value: '' }, t('usbTargetDataDir'))),
        ),
        h(
          'div',
          { class: 'form-actions' },
          h('span', { id: 'export-status', class: 'settings-status', role: 'status', hidden: true }),
          h('button', { type: 'button', id: 'btn-usb-refresh', class: 'btn', onclick: () => void loadDrives() }, t('usbRefresh')),
          h('button', { type: 'submit', id: 'btn-export', class: 'btn btn-primary' }, t('usbExport')),
        ),
      ),
      h(
        'form',
        {
          class: 'panel',
          id: 'add-operator-form',
          novalidate: true,
          onsubmit: (ev: Event) => {
            ev.preventDefault();
            void addOperator();
          },
        },
        h('div', { class: 'panel-head' }, h('h2', null, t('settingsOperators'))),
        h('p', { class: 'muted' }, t('settingsOperatorsHint')),
        h('div', { class: 'field' }, h('label', { for: 'op-username' }, t('fieldUsername')), h('input', { type: 'text', id: 'op-username', autocomplete: 'off', spellcheck: 'false' })),
        h('div', { class: 'field' }, h('label', { for: 'op-display' }, t('fieldDisplayName')), h('input', { type: 'text', id: 'op-display', autocomplete: 'off' })),
        h('div', { class: 'field' }, h('label', { for: 'op-password' }, t('fieldPassword')), h('input', { type: 'password', id: 'op-password', autocomplete: 'new-password' }), h('div', { class: 'field-hint' }, t('fieldPasswordHint'))),
        h(
          'div',
          { class: 'form-actions' },
          h('span', { id: 'add-operator-status', class: 'settings-status ok', role: 'status', hidden: true }),
          h('button', { type: 'submit', id: 'btn-add-operator', class: 'btn' }, t('btnAddOperator')),
        ),
      ),
    ),
  );
}

/** Fills the drive list with the mounted USB sticks (the data folder stays the fallback). */
export async function loadDrives(): Promise<void> {
  const select = byId<HTMLSelectElement>('usb-target');
  if (!select) return;
  try {
    const drives = await backend.removableDrives();
    select.replaceChildren(h('option', { value: '' }, t('usbTargetDataDir')), ...drives.map((d) => h('option', { value: d.path }, `${d.label} (${d.path})`)));
    const first = drives[0];
    if (first) select.value = first.path;
  } catch (e) {
    reportError(e);
  }
}

async function exportToUsb(): Promise<void> {
  const [select, btn, status] = [byId<HTMLSelectElement>('usb-target'), byId<HTMLButtonElement>('btn-export'), byId('export-status')];
  if (!status) return;
  if (btn) btn.disabled = true;
  status.hidden = true;
  try {
    const r = await backend.exportBundle(select?.value || null);
    status.textContent = t('usbDone', { apps: r.applications, pages: r.pages, audit: r.audit_entries, path: r.path });
    status.dataset.state = 'ok';
    status.dataset.path = r.path;
    status.className = 'settings-status ok';
  } catch (e) {
    status.textContent = toAppError(e).message;
    status.dataset.state = 'error';
    status.className = 'settings-status error';
  } finally {
    status.hidden = false;
    if (btn && btn.isConnected) btn.disabled = false;
  }
}

async function addOperator(): Promise<void> {
  const get = (id: string): HTMLInputElement | null => byId<HTMLInputElement>(id);
  const [user, display, pw, btn, status] = [get('op-username'), get('op-display'), get('op-password'), byId<HTMLButtonElement>('btn-add-operator'), byId('add-operator-status')];
  if (!user || !display || !pw) return;
  if (btn) btn.disabled = true;
  try {
    const op = await backend.addOperator({ username: user.value.trim(), displayName: display.value.trim(), password: pw.value });
    user.value = '';
    display.value = '';
    pw.value = '';
    if (status) {
      status.textContent = t('operatorAdded', { name: op.display_name });
      status.hidden = false;
    }
  } catch (e) {
    reportError(e);
  } finally {
    if (btn && btn.isConnected) btn.disabled = false;
  }
}

function enrollStateText(): string {
  const info = ctx.info;
  if (info?.device_enrolled && info.enrolled_at) {
    return t('settingsEnrolled', { when: formatTimestamp(info.enrolled_at) });
  }
  return t('settingsNotEnrolled');
}

async function enroll(): Promise<void> {
  const [input, btn, status] = [byId<HTMLInputElement>('enroll-code'), byId<HTMLButtonElement>('btn-enroll'), byId('enroll-status')];
  if (!input || !status) return;
  if (btn) btn.disabled = true;
  status.hidden = true;
  try {
    const result = await backend.enrollDevice(input.value.trim());
    status.textContent = result.message;
    status.dataset.state = result.ok ? 'ok' : 'error';
    status.className = `settings-status ${result.ok ? 'ok' : 'error'}`;
    status.hidden = false;
    if (result.ok) {
      input.value = '';
      ctx.info = await backend.appInfo();
      const state = byId('enroll-state');
      if (state) {
        state.textContent = enrollStateText();
        state.dataset.enrolled = ctx.info.device_enrolled ? 'yes' : 'no';
      }
    }
  } catch (e) {
    reportError(e);
  } finally {
    if (btn && btn.isConnected) btn.disabled = false;
  }
}

function clearSaved(): void {
  state.saved = false;
  const el = byId('settings-status');
  if (el) el.hidden = true;
}

async function save(onSaved: OnSaved): Promise<void> {
  const url = byId<HTMLInputElement>('f-server-url');
  const langSel = byId<HTMLSelectElement>('f-lang');
  const btn = byId<HTMLButtonElement>('btn-save-settings');
  if (!url || !langSel) return;
  const lang: Lang = langSel.value === 'en' ? 'en' : 'id';
  if (btn) btn.disabled = true;
  try {
    ctx.info = await backend.setSettings({ serverUrl: url.value.trim(), lang });
    state.saved = true;
    onSaved(ctx.info.lang === 'en' ? 'en' : 'id');
  } catch (e) {
    reportError(e);
  } finally {
    if (btn && btn.isConnected) btn.disabled = false;
  }
}
