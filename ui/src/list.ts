// Screen: list of applications, sync with the district back office.

import type { AppStatus, ApplicationQuery, ApplicationView, LaneName, LaneProgress, OutboxItem, VerifyView } from './backend';
import { toAppError } from './backend';
import { backend, reportError } from './app';
import { byId, formatTimestamp, h, isoToDisplayDate, parseDisplayDate, setChildren } from './dom';
import { t, type MsgKey } from './i18n';
import { clearVerifyResult, renderVerifyBusy, renderVerifyResult } from './verifyResult';
import { openCorrection } from './register';

interface ListState {
  apps: ApplicationView[] | null;
  loadFailed: boolean;
  syncing: boolean;
  /** Who started the running pass: the operator, or the retry timer. */
  syncKind: 'manual' | 'auto';
  /** The operator asked for a pass while the timer's pass ran: run it right after. */
  pendingManual: boolean;
  sync: { ok: boolean; message: string } | null;
  notice: string | null;
  verify: { view: VerifyView } | null;
  /** Each lane as the last progress event (or the remembered last pass) said. */
  lanes: Map<LaneName, LaneProgress>;
  outbox: OutboxItem[] | null;
  outboxFailed: boolean;
}

const state: ListState = {
  apps: null,
  loadFailed: false,
  syncing: false,
  syncKind: 'manual',
  pendingManual: false,
  sync: null,
  notice: null,
  verify: null,
  lanes: new Map(),
  outbox: null,
  outboxFailed: false,
};
let loadSeq = 0;

const STATUS_ORDER: AppStatus[] = ['queued', 'received', 'returned', 'rejected', 'issued'];
const STATUS_KEYS: Record<AppStatus, MsgKey> = {
  queued: 'statusQueued',
  received: 'statusReceived',
  returned: 'statusReturned',
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
      h('div', { id: 'sync-lanes', class: 'sync-lanes', role: 'group', 'aria-label': t('syncLanesTitle') }, LANES.map(renderLane)),
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
      renderOutboxSection(),
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
  listenToProgress();
  queueMicrotask(() => {
    showSyncStatus();
    showRows();
    showOutbox();
    void refreshOutbox();
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
  // During the timer's pass the button stays usable: a press queues a pass of its own.
  const manual = state.syncing && (state.syncKind === 'manual' || state.pendingManual);
  if (btn) {
    btn.disabled = manual;
    btn.textContent = manual ? t('syncing') : t('btnSync');
  }
  const retryAll = byId<HTMLButtonElement>('btn-retry-all');
  if (retryAll) retryAll.disabled = manual;
  if (!el) return;
  el.dataset.sync = state.syncing ? 'running' : state.sync ? (state.sync.ok ? 'ok' : 'error') : 'never';
  if (state.syncing) {
    el.className = 'sync-status busy';
    el.textContent = state.syncKind === 'auto' ? t('syncAuto') : t('syncing');
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
  const counts: Record<AppStatus, number> = { queued: 0, received: 0, returned: 0, rejected: 0, issued: 0 };
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
    { 'data-id': String(a.id), 'data-tracking': a.tracking_number, 'data-status': a.status, 'data-revision': a.revision },
    h('td', { class: 'mono tracking' }, a.tracking_number, a.revision > 0 && h('div', { class: 'muted revision' }, t('revisionN', { n: a.revision }))),
    h('td', { class: 'name' }, a.full_name),
    h('td', { class: 'mono' }, a.nik),
    h('td', { class: 'nowrap' }, a.service_label),
    h('td', { class: 'nowrap' }, formatTimestamp(a.captured_at)),
    h(
      'td',
      null,
      h('span', { class: 'status', 'data-status': a.status }, a.status_label),
      a.status === 'rejected' && a.reason && h('div', { class: 'reason' }, t('reasonLabel', { reason: a.reason })),
      a.status === 'returned' && a.reason && h('div', { class: 'reason returned-reason' }, t('returnedReasonLabel', { reason: a.reason })),
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
        : a.status === 'returned'
          ? h(
              'div',
              { class: 'row-actions' },
              h('button', { type: 'button', class: 'btn btn-small btn-primary btn-correct', onclick: (ev: Event) => void correct(a, ev.currentTarget as HTMLButtonElement) }, t('btnCorrect')),
            )
          : h('span', { class: 'muted' }, '—'),
    ),
  );
}

/** "Perbaiki": opens the register screen on the returned application, prefilled. */
async function correct(a: ApplicationView, btn: HTMLButtonElement | null): Promise<void> {
  await withButton(btn, async () => {
    await openCorrection(String(a.id));
    byId<HTMLButtonElement>('nav-register')?.click();
  });
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
  void refreshOutbox();
}

/** Completed sync passes in this session; exposed as data-sync-count so tests can wait on it. */
let syncsDone = 0;

async function syncNow(): Promise<void> {
  await runPass('manual');
}

/**
 * One sync pass. The operator's passes count in data-sync-count; the retry timer's do not. A
 * press during the timer's pass runs right after it, so no press is lost.
 */
async function runPass(kind: 'manual' | 'auto'): Promise<void> {
  if (state.syncing) {
    if (kind === 'manual' && !state.pendingManual) {
      state.pendingManual = true;
      showSyncStatus();
    }
    return;
  }
  clearAutoTimer();
  state.syncing = true;
  state.syncKind = kind;
  showSyncStatus();
  let stop = false;
  try {
    const r = await backend.syncNow(kind === 'auto');
    state.sync = { ok: r.ok, message: r.message };
    for (const lane of r.lanes) state.lanes.set(lane.lane, lane);
  } catch (e) {
    const err = toAppError(e);
    if (kind === 'manual') {
      state.sync = { ok: false, message: reportError(e) };
    } else if (err.code === 'locked') {
      // Locked meanwhile: the timer stops quietly; the login screen is main.ts's business.
      stop = true;
    } else {
      state.sync = { ok: false, message: err.message };
    }
  } finally {
    state.syncing = false;
    showSyncStatus();
    showLanes();
  }
  if (!stop) await refreshList();
  if (kind === 'manual') {
    syncsDone += 1;
    const el = byId('sync-status');
    if (el) el.dataset.syncCount = String(syncsDone);
  }
  if (state.pendingManual) {
    state.pendingManual = false;
    await runPass('manual');
  }
}

// ---------------------------------------------------------------------------
// Lanes: one row per lane with its state and a progress bar, fed by `sync-progress` events.

const LANES: LaneName[] = ['reference', 'applications', 'attachments', 'decisions', 'audit'];
const LANE_KEYS: Record<LaneName, MsgKey> = {
  reference: 'laneReference',
  applications: 'laneApplications',
  attachments: 'laneAttachments',
  decisions: 'laneDecisions',
  audit: 'laneAudit',
};
const LANE_STATE_KEYS: Record<LaneProgress['state'], MsgKey> = {
  pending: 'lanePending',
  running: 'laneRunning',
  ok: 'laneOk',
  failed: 'laneFailed',
  skipped: 'laneSkipped',
};

let listening = false;

function listenToProgress(): void {
  if (listening) return;
  listening = true;
  backend
    .onSyncProgress((p) => {
      state.lanes.set(p.lane, p);
      const row = byId(`lane-${p.lane}`);
      if (row) row.replaceWith(renderLane(p.lane));
    })
    .catch(() => {
      listening = false;
    });
}

function renderLane(name: LaneName): HTMLElement {
  const p = state.lanes.get(name);
  const laneState = p?.state ?? 'idle';
  const bar = h('progress', { class: 'lane-progress', 'aria-label': t(LANE_KEYS[name]) });
  // A running lane with an unknown total shows an indeterminate bar (no value).
  if (p && p.total > 0) {
    bar.max = p.total;
    bar.value = Math.min(p.done, p.total);
  } else if (p && p.state !== 'running') {
    bar.max = 1;
    bar.value = p.state === 'ok' ? 1 : 0;
  } else if (!p) {
    bar.max = 1;
    bar.value = 0;
  }
  return h(
    'div',
    { id: `lane-${name}`, class: 'lane', 'data-state': laneState, 'data-done': p?.done ?? 0, 'data-total': p?.total ?? 0 },
    h('span', { class: 'lane-name' }, t(LANE_KEYS[name])),
    bar,
    h('span', { class: 'lane-count mono' }, p && p.total > 0 ? `${p.done}/${p.total}` : p && p.done > 0 ? String(p.done) : ''),
    h('span', { class: 'lane-state', 'data-state': laneState }, p ? t(LANE_STATE_KEYS[p.state]) : t('laneNever')),
    h('span', { class: 'lane-message', title: p?.message ?? '' }, p?.message ?? ''),
  );
}

function showLanes(): void {
  for (const name of LANES) byId(`lane-${name}`)?.replaceWith(renderLane(name));
}

// ---------------------------------------------------------------------------
// Outbox: every application still on its way, its state and why it waits, "Coba sekarang".

function renderOutboxSection(): HTMLElement {
  return h(
    'section',
    { id: 'outbox-section', class: 'outbox-section', 'aria-labelledby': 'outbox-heading' },
    h(
      'div',
      { class: 'outbox-head' },
      h('h3', { id: 'outbox-heading' }, t('outboxHeading')),
      h('button', { type: 'button', id: 'btn-retry-all', class: 'btn btn-small', onclick: (ev: Event) => void retry(undefined, ev.currentTarget as HTMLButtonElement) }, t('btnRetryAll')),
    ),
    h(
      'table',
      { id: 'outbox', class: 'app-table outbox-table' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, t('colTracking')),
          h('th', { scope: 'col' }, t('colName')),
          h('th', { scope: 'col' }, t('colOutboxState')),
          h('th', { scope: 'col' }, t('colAttempts')),
          h('th', { scope: 'col' }, t('colWhy')),
          h('th', { scope: 'col' }, ''),
        ),
      ),
      h('tbody', { id: 'outbox-body' }),
    ),
  );
}

function showOutbox(): void {
  const body = byId('outbox-body');
  const section = byId('outbox-section');
  if (section) section.dataset.count = String(state.outbox?.length ?? 0);
  const retryAll = byId<HTMLButtonElement>('btn-retry-all');
  if (retryAll) retryAll.hidden = !state.outbox || state.outbox.length === 0;
  if (!body) return;
  if (state.outbox === null) {
    const text = state.outboxFailed ? t('outboxLoadFailed') : t('listLoading');
    setChildren(body, h('tr', { class: 'placeholder' }, h('td', { colspan: 6, class: 'muted empty' }, text)));
    return;
  }
  if (state.outbox.length === 0) {
    setChildren(body, h('tr', { class: 'placeholder' }, h('td', { colspan: 6, class: 'muted empty' }, t('outboxEmpty'))));
    return;
  }
  setChildren(body, state.outbox.map(renderOutboxRow));
}

function renderOutboxRow(item: OutboxItem): HTMLElement {
  return h(
    'tr',
    { 'data-id': item.id, 'data-tracking': item.tracking_number, 'data-state': item.state, 'data-attempts': item.attempts },
    h('td', { class: 'mono tracking' }, item.tracking_number),
    h('td', { class: 'name' }, item.full_name, h('div', { class: 'muted outbox-service' }, item.service_label)),
    h('td', null, h('span', { class: 'outbox-state', 'data-state': item.state }, item.state_label)),
    h('td', { class: 'num' }, String(item.attempts)),
    h('td', { class: 'outbox-why', 'data-next-retry': item.next_retry_at ?? '' }, item.why),
    h(
      'td',
      null,
      h('button', { type: 'button', class: 'btn btn-small btn-retry', onclick: (ev: Event) => void retry(item.id, ev.currentTarget as HTMLButtonElement) }, t('btnRetry')),
    ),
  );
}

/** "Coba sekarang": make the item (or every item) due at once, then run a pass. */
async function retry(id: string | undefined, btn: HTMLButtonElement | null): Promise<void> {
  await withButton(btn, async () => {
    await backend.retryNow(id);
  });
  await runPass('manual');
}

let outboxSeq = 0;

/** Reloads the outbox and the lanes' last outcomes, and (re)arms the retry timer. */
export async function refreshOutbox(): Promise<void> {
  if (!backend.available) return;
  const seq = ++outboxSeq;
  try {
    const [items, lanes] = await Promise.all([backend.outboxItems(), backend.syncLanes()]);
    if (seq !== outboxSeq) return;
    state.outbox = items;
    state.outboxFailed = false;
    // Remembered outcomes fill lanes this session has not seen run yet.
    for (const lane of lanes.lanes) {
      if (!state.lanes.has(lane.lane) && lane.at) state.lanes.set(lane.lane, lane);
    }
    armAutoTimer(lanes.auto_at);
  } catch (e) {
    if (seq !== outboxSeq) return;
    state.outboxFailed = state.outbox === null;
    if (toAppError(e).code !== 'locked') reportError(e);
  }
  showOutbox();
  if (!state.syncing) showLanes();
}

// Items and lanes that failed retry by themselves at their (jittered) time; brand-new
// applications wait for the operator's "Sinkronkan".
let autoTimer: ReturnType<typeof setTimeout> | undefined;

function clearAutoTimer(): void {
  if (autoTimer !== undefined) clearTimeout(autoTimer);
  autoTimer = undefined;
}

function armAutoTimer(at: string | null): void {
  clearAutoTimer();
  if (!at || state.syncing) return;
  const when = new Date(at).getTime();
  if (Number.isNaN(when)) return;
  // At least 5 s apart, at most an hour (the longest backoff), whatever the clocks say.
  const delay = Math.min(Math.max(when - Date.now(), 5_000), 3_600_000);
  autoTimer = setTimeout(() => {
    autoTimer = undefined;
    void runPass('auto');
  }, delay);
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
