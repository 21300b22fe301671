// Screen: list of applications, sync with the district back office.

import type { AppStatus, ApplicationQuery, ApplicationView, VerifyView } from './backend';
import { backend, reportError } from './app';
import { byId, formatTimestamp, h, isoToDisplayDate, parseDisplayDate, setChildren } from './dom';
import { t, type MsgKey } from './i18n';
import { clearVerifyResult, renderVerifyBusy, renderVerifyResult } from './verifyResult';

interface ListState {
  apps: ApplicationView[] | null;
  loadFailed: boolean;
  syncing: boolean;
  sync: { ok: boolean; message: string } | null;
  notice: string | null;
  verify: { view: VerifyView } | null;
}

const state: ListState = { apps: null, loadFailed: false, syncing: false, sync: null, notice: null, verify: null };
let loadSeq = 0;

const STATUS_ORDER: AppStatus[] = ['queued', 'received', 'rejected', 'issued'];
const STATUS_KEYS: Record<AppStatus, MsgKey> = {
  queued: 'statusQueued',
  received: 'statusReceived',
  rejected: 'statusRejected',
  issued: 'statusIssued',
};

export function renderListScreen(): HTMLElement {
  const section = h(
    'section',
    { id: 'screen-list', class: 'screen', 'aria-labelledby': 'list-heading' },
    h(
      'div',
      { class: 'panel' },
      h(
        'div',
        { class: 'panel-head list-head' },
        h('h2', { id: 'list-heading' }, t('listTitle')),
        h(
          'div',
          { class: 'sync-box' },
          h('span', { id: 'sync-status', class: 'sync-status', role: 'status', 'aria-live': 'polite' }),
          h('button', { type: 'button', id: 'btn-sync', class: 'btn btn-primary', onclick: () => void syncNow() }, t('btnSync')),
        ),
      ),
      h(
        'div',
        { class: 'search-bar', role: 'search' },
        h('input', {
          type: 'text',
          id: 'search-text',
          placeholder: t('searchPlaceholder'),
          'aria-label': t('searchPlaceholder'),
          oninput: () => scheduleSearch(),
        }),
        h(
          'select',
          { id: 'search-status', 'aria-label': t('colStatus'), onchange: () => void refreshList() },
          h('option', { value: '' }, t('searchAllStatuses')),
          ...STATUS_ORDER.map((st) => h('option', { value: st }, t(STATUS_KEYS[st]))),
        ),
        serviceFilter(),
        h('input', {
          type: 'text',
          id: 'search-from',
          class: 'date-filter',
          placeholder: t('searchFrom'),
          'aria-label': t('searchFrom'),
          oninput: () => scheduleSearch(),
        }),
        h('input', {
          type: 'text',
          id: 'search-to',
          class: 'date-filter',
          placeholder: t('searchTo'),
          'aria-label': t('searchTo'),
          oninput: () => scheduleSearch(),
        }),
      ),
      h('div', { id: 'outbox-summary', class: 'outbox-summary', 'aria-label': t('outboxTitle') }),
      h('p', { id: 'list-notice', class: 'notice', role: 'status', hidden: true }),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'applications', class: 'app-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, t('colTracking')),
              h('th', { scope: 'col' }, t('colName')),
              h('th', { scope: 'col' }, t('colNik')),
              h('th', { scope: 'col' }, t('colService')),
              h('th', { scope: 'col' }, t('colCaptured')),
              h('th', { scope: 'col' }, t('colStatus')),
              h('th', { scope: 'col' }, t('colDocument')),
            ),
          ),
          h('tbody', { id: 'applications-body' }),
        ),
      ),
    ),
    h('div', { id: 'list-verify-result', class: 'verify-result', 'aria-live': 'polite', tabindex: -1, hidden: true }),
  );
  queueMicrotask(() => {
    showSyncStatus();
    showRows();
    showNotice();
    const el = byId('list-verify-result');
    if (el && state.verify) renderVerifyResult(el, state.verify.view);
  });
  return section;
}

// ---------------------------------------------------------------------------

function showSyncStatus(): void {
  const el = byId('sync-status');
  const btn = byId<HTMLButtonElement>('btn-sync');
  if (btn) {
    btn.disabled = state.syncing;
    btn.textContent = state.syncing ? t('syncing') : t('btnSync');
  }
  if (!el) return;
  el.dataset.sync = state.syncing ? 'running' : state.sync ? (state.sync.ok ? 'ok' : 'error') : 'never';
  if (state.syncing) {
    el.className = 'sync-status busy';
    el.textContent = t('syncing');
  } else if (state.sync) {
    el.className = `sync-status ${state.sync.ok ? 'ok' : 'error'}`;
    el.textContent = state.sync.message;
  } else {
    el.className = 'sync-status muted';
    el.textContent = t('syncNever');
  }
}

function showNotice(): void {
  const el = byId('list-notice');
  if (!el) return;
  el.hidden = !state.notice;
  el.textContent = state.notice ?? '';
}

function showSummary(): void {
  const el = byId('outbox-summary');
  if (!el) return;
  const apps = state.apps ?? [];
  const counts: Record<AppStatus, number> = { queued: 0, received: 0, rejected: 0, issued: 0 };
  for (const a of apps) if (a.status in counts) counts[a.status]++;
  setChildren(
    el,
    h('span', { class: 'summary-item summary-total' }, t('total'), ': ', h('strong', null, String(apps.length))),
    STATUS_ORDER.map((s) =>
      h(
        'span',
        { class: 'summary-item', 'data-status': s, 'data-count': counts[s] },
        h('span', { class: 'status', 'data-status': s }, t(STATUS_KEYS[s])),
        ' ',
        h('strong', null, String(counts[s])),
      ),
    ),
  );
}

function showRows(): void {
  const body = byId('applications-body');
  showSummary();
  if (!body) return;
  if (state.apps === null) {
    const text = state.loadFailed ? t('listLoadFailed') : t('listLoading');
    setChildren(body, h('tr', { class: 'placeholder' }, h('td', { colspan: 7, class: 'muted empty' }, text)));
    return;
  }
  if (state.apps.length === 0) {
    const filtered = Object.keys(currentQuery()).length > 0;
    setChildren(
      body,
      h('tr', { class: 'placeholder' }, h('td', { colspan: 7, class: 'muted empty' }, t(filtered ? 'emptySearch' : 'emptyList'))),
    );
    return;
  }
  setChildren(body, state.apps.map(renderRow));
}

function renderRow(a: ApplicationView): HTMLElement {
  const doc = a.status === 'issued' && a.document ? a.document : null;
  return h(
    'tr',
    { 'data-id': String(a.id), 'data-tracking': a.tracking_number, 'data-status': a.status },
    h('td', { class: 'mono tracking' }, a.tracking_number),
    h('td', { class: 'name' }, a.full_name),
    h('td', { class: 'mono' }, a.nik),
    h('td', { class: 'nowrap' }, a.service_label),
    h('td', { class: 'nowrap' }, formatTimestamp(a.captured_at)),
    h(
      'td',
      null,
      h('span', { class: 'status', 'data-status': a.status }, a.status_label),
      a.status === 'rejected' && a.reason && h('div', { class: 'reason' }, t('reasonLabel', { reason: a.reason })),
    ),
    h(
      'td',
      { class: 'doc-cell' },
      doc
        ? [
            h('div', { class: 'doc-number' }, h('span', { class: 'mono' }, t('docNumber', { number: doc.doc_number })), doc.issued_on ? ` · ${t('docIssuedOn', { date: isoToDisplayDate(doc.issued_on) })}` : ''),
            h(
              'div',
              { class: 'row-actions' },
              h('button', { type: 'button', class: 'btn btn-small btn-document', onclick: (ev: Event) => void printDocument(a, ev.currentTarget as HTMLButtonElement) }, t('btnDocument')),
              h('button', { type: 'button', class: 'btn btn-small btn-verify', onclick: (ev: Event) => void verifyDocument(a, ev.currentTarget as HTMLButtonElement) }, t('btnVerify')),
            ),
          ]
        : h('span', { class: 'muted' }, '—'),
    ),
  );
}

// ---------------------------------------------------------------------------
// Actions

let searchTimer: ReturnType<typeof setTimeout> | undefined;

/** The service filter; its options arrive from the catalogue in the operator's language. */
function serviceFilter(): HTMLSelectElement {
  const select = h(
    'select',
    { id: 'search-service', 'aria-label': t('searchService'), onchange: () => void refreshList() },
    h('option', { value: '' }, t('searchAllServices')),
  );
  backend
    .catalogue()
    .then((cat) => {
      for (const svc of cat.services) select.append(h('option', { value: svc.code }, svc.name));
    })
    .catch(() => {
      // Without the catalogue the list still works, unfiltered by service.
    });
  return select;
}

/** Searches 250 ms after the operator stops typing, so each keystroke does not query. */
function scheduleSearch(): void {
  if (searchTimer !== undefined) clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void refreshList(), 250);
}

function currentQuery(): ApplicationQuery {
  const text = byId<HTMLInputElement>('search-text')?.value.trim() ?? '';
  const status = byId<HTMLSelectElement>('search-status')?.value ?? '';
  const query: ApplicationQuery = {};
  if (text) query.text = text;
  if (status) query.status = status as AppStatus;
  const service = byId<HTMLSelectElement>('search-service')?.value ?? '';
  if (service) query.service = service;
  // Dates are typed DD-MM-YYYY like everywhere else; a half-typed date filters nothing yet.
  const from = parseDisplayDate(byId<HTMLInputElement>('search-from')?.value ?? '');
  const to = parseDisplayDate(byId<HTMLInputElement>('search-to')?.value ?? '');
  if (from) query.from = from;
  if (to) query.to = to;
  return query;
}

export async function refreshList(): Promise<void> {
  const seq = ++loadSeq;
  try {
    const apps = await backend.listApplications(currentQuery());
    if (seq !== loadSeq) return;
    state.apps = apps;
    state.loadFailed = false;
  } catch (e) {
    if (seq !== loadSeq) return;
    state.loadFailed = true;
    reportError(e);
    showRows();
    return;
  }
  showRows();
}

/** Completed sync passes in this session; exposed as data-sync-count so tests can wait on it. */
let syncsDone = 0;

async function syncNow(): Promise<void> {
  if (state.syncing) return;
  state.syncing = true;
  showSyncStatus();
  try {
    const r = await backend.syncNow();
    state.sync = { ok: r.ok, message: r.message };
  } catch (e) {
    state.sync = { ok: false, message: reportError(e) };
  } finally {
    state.syncing = false;
    showSyncStatus();
  }
  await refreshList();
  syncsDone += 1;
  const el = byId('sync-status');
  if (el) el.dataset.syncCount = String(syncsDone);
}

async function withButton(btn: HTMLButtonElement | null, fn: () => Promise<void>): Promise<void> {
  if (btn) btn.disabled = true;
  try {
    await fn();
  } catch (e) {
    reportError(e);
  } finally {
    if (btn) btn.disabled = false;
  }
}

async function printDocument(a: ApplicationView, btn: HTMLButtonElement | null): Promise<void> {
  await withButton(btn, async () => {
    const { pdf_path } = await backend.renderDocument(a.id);
    state.notice = t('openedPdf', { path: pdf_path });
    showNotice();
    await backend.openPath(pdf_path);
  });
}

async function verifyDocument(a: ApplicationView, btn: HTMLButtonElement | null): Promise<void> {
  const el = byId('list-verify-result');
  if (!el) return;
  state.verify = null;
  renderVerifyBusy(el, t('verifyingShort'));
  await withButton(btn, async () => {
    try {
      const view = await backend.verifyApplicationDocument(a.id);
      state.verify = { view };
      renderVerifyResult(el, view);
      el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    } catch (e) {
      clearVerifyResult(el);
      throw e;
    }
  });
}
