// Screen: a new application for any catalogue service — applicant, service fields, the
// requirement checklist with scans — and its receipt. The same form corrects an application the
// district returned (`openCorrection`): prefilled, service locked, saved as the next revision.

import {
  FORM_FIELDS,
  toAppError,
  type ApplicationCheckView,
  type ApplicationForm,
  type ApplicationView,
  type CatalogueField,
  type CatalogueService,
  type CatalogueView,
  type CheckView,
  type Finding,
  type FormField,
  type FullApplicationForm,
  type NikInfo,
  type ReceiptPaper,
  type Resident,
} from './backend';
import { backend, reportError } from './app';
import { captureFromCamera } from './camera';
import { byId, formatTimestamp, h, isoToDisplayDate, normaliseDisplayDate, parseDisplayDate, readAsBase64, setChildren } from './dom';
import { getLang, t, type MsgKey } from './i18n';

/** Service shown first; the operator changes it with the picker (Alt+L). */
const DEFAULT_SERVICE = 'ktp_el_baru';

/** One requirement slot's attached scan, as the checklist shows it. */
interface AttachedScan {
  pages: string[];
  name: string;
  thumbnail: string;
  storedBytes: number;
  originalBytes: number;
}

interface RegisterState {
  catalogue: CatalogueView | null;
  service: string;
  /** Service fields by catalogue id; dates as typed (DD-MM-YYYY). */
  fields: Record<string, string>;
  scans: Map<string, AttachedScan>;
  checks: Set<string>;
  /** Slots currently being processed (file read, compression). */
  busySlots: Set<string>;
  check: ApplicationCheckView | null;
  values: Record<FormField, string>;
  findings: Finding[];
  formMessage: string | null;
  nikInfo: NikInfo | null;
  receipt: ApplicationView | null;
  receiptPdf: string | null;
  /** Set while correcting an application the district returned. */
  correction: Correction | null;
}

/** The returned application being corrected. */
interface Correction {
  id: string;
  tracking: string;
  reason: string;
  /** The revision the correction will become. */
  nextRevision: number;
}

function emptyValues(): Record<FormField, string> {
  return { nik: '', full_name: '', birth_place: '', birth_date: '', sex: '', address: '', phone: '' };
}

const state: RegisterState = {
  catalogue: null,
  service: DEFAULT_SERVICE,
  fields: {},
  scans: new Map(),
  checks: new Set(),
  busySlots: new Set(),
  check: null,
  values: emptyValues(),
  findings: [],
  formMessage: null,
  nikInfo: null,
  receipt: null,
  receiptPdf: null,
  correction: null,
};

const touched = new Set<FormField>();
let checkSeq = 0;
let lastCheckedKey = '';
let saving = false;
let printing = false;

const LABELS: Record<FormField, MsgKey> = {
  nik: 'fieldNik',
  full_name: 'fieldFullName',
  birth_place: 'fieldBirthPlace',
  birth_date: 'fieldBirthDate',
  sex: 'fieldSex',
  address: 'fieldAddress',
  phone: 'fieldPhone',
};

const HINTS: Partial<Record<FormField, MsgKey>> = {
  nik: 'hintNik',
  birth_date: 'hintBirthDate',
  address: 'hintAddress',
  phone: 'hintPhone',
};

const REQUIRED: ReadonlySet<FormField> = new Set<FormField>(['nik', 'full_name', 'birth_place', 'birth_date', 'sex', 'address']);

/** The form as sent to the backend: the date converted to YYYY-MM-DD ("" if unparsable). */
function backendForm(): ApplicationForm {
  const v = state.values;
  return {
    nik: v.nik.trim(),
    full_name: v.full_name.trim(),
    birth_place: v.birth_place.trim(),
    birth_date: parseDisplayDate(v.birth_date),
    sex: v.sex,
    address: v.address.trim(),
    phone: v.phone.trim(),
  };
}

function fieldEl(f: FormField): HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null {
  return byId(`f-${f}`) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
}

// ---------------------------------------------------------------------------
// Rendering

export function renderRegisterScreen(): HTMLElement {
  const section = h('section', { id: 'screen-register', class: 'screen', 'aria-labelledby': 'register-heading' });
  if (!state.catalogue) {
    section.append(h('p', { class: 'muted' }, t('loading')));
    void loadCatalogue();
    return section;
  }
  if (state.receipt) {
    section.append(renderForm(true), renderReceipt(state.receipt));
  } else {
    section.append(renderForm(false));
  }
  return section;
}

async function loadCatalogue(): Promise<void> {
  try {
    state.catalogue = await backend.catalogue();
  } catch (e) {
    reportError(e);
    return;
  }
  if (!state.catalogue.services.some((x) => x.code === state.service)) {
    state.service = state.catalogue.services[0]?.code ?? '';
  }
  const section = byId('screen-register');
  if (section) section.replaceWith(renderRegisterScreen());
  scheduleCheck();
  focusRegister();
}

/** Reloads the catalogue (after a language switch or a newer one arrived with sync). */
export function invalidateCatalogue(): void {
  state.catalogue = null;
}

function currentService(): CatalogueService | null {
  return state.catalogue?.services.find((x) => x.code === state.service) ?? null;
}

function renderField(f: FormField): HTMLElement {
  const label = t(LABELS[f]) + (REQUIRED.has(f) ? ' *' : '');
  const hintKey = HINTS[f];
  const common = {
    id: `f-${f}`,
    name: f,
    'aria-describedby': `err-${f}` + (hintKey ? ` hint-${f}` : ''),
    'data-nav': '1',
    oninput: (ev: Event) => onInput(f, ev),
    onblur: () => onBlur(f),
    onkeydown: (ev: Event) => onKeyDown(f, ev as KeyboardEvent),
  };
  let control: HTMLElement;
  if (f === 'sex') {
    control = h(
      'select',
      { ...common, onchange: (ev: Event) => onInput(f, ev), value: state.values.sex },
      h('option', { value: '' }, t('sexChoose')),
      h('option', { value: 'male' }, t('sexMale')),
      h('option', { value: 'female' }, t('sexFemale')),
    );
  } else if (f === 'address') {
    control = h('textarea', { ...common, rows: 2, value: state.values.address });
  } else {
    const extra: Record<string, string | number> = {};
    if (f === 'nik') Object.assign(extra, { inputmode: 'numeric', maxlength: 16, autocomplete: 'off', class: 'mono' });
    if (f === 'birth_date') Object.assign(extra, { placeholder: t('datePlaceholder'), inputmode: 'numeric', maxlength: 10, autocomplete: 'off' });
    if (f === 'phone') Object.assign(extra, { inputmode: 'tel', autocomplete: 'off' });
    if (f === 'full_name' || f === 'birth_place') Object.assign(extra, { autocomplete: 'off', autocapitalize: 'characters' });
    control = h('input', { ...common, ...extra, type: 'text', value: state.values[f] });
  }
  return h(
    'div',
    { class: `field field-${f}` },
    h('label', { for: `f-${f}` }, label),
    control,
    h('div', { id: `err-${f}`, class: 'field-msg', 'aria-live': 'polite' }),
    f === 'nik' && h('div', { id: 'nik-region', class: 'nik-region', 'aria-live': 'polite', hidden: true }),
    hintKey && h('div', { class: 'field-hint', id: `hint-${f}` }, t(hintKey)),
  );
}

function renderServicePicker(): HTMLElement {
  const services = state.catalogue?.services ?? [];
  const service = currentService();
  return h(
    'div',
    { class: 'service-picker' },
    h('label', { for: 'f-service' }, t('serviceLabel'), ' ', h('kbd', null, 'Alt+L')),
    h(
      'select',
      {
        id: 'f-service',
        'aria-keyshortcuts': 'Alt+L',
        // A correction keeps its service; another service is a new application.
        disabled: state.correction !== null,
        value: state.service,
        onchange: (ev: Event) => changeService((ev.target as HTMLSelectElement).value),
      },
      services.map((x) => h('option', { value: x.code }, x.name)),
    ),
    service &&
      h(
        'p',
        { id: 'service-meta', class: 'muted service-meta' },
        t('serviceMeta', { basis: service.legal_basis, days: service.sla_working_days }),
        state.catalogue ? ` · ${t('catalogueVersion', { version: state.catalogue.version })}` : '',
      ),
  );
}

function changeService(code: string): void {
  if (code === state.service) return;
  state.service = code;
  // Fields and documents belong to the service; the applicant stays.
  state.fields = {};
  state.scans.clear();
  state.checks.clear();
  state.check = null;
  state.formMessage = null;
  const section = byId('screen-register');
  if (section) section.replaceWith(renderRegisterScreen());
  scheduleCheck();
  byId('f-service')?.focus();
}

function renderResidentPicker(): HTMLElement {
  return h(
    'div',
    { class: 'resident-picker' },
    h('label', { for: 'resident-search' }, t('residentSearch'), ' ', h('kbd', null, 'Alt+P')),
    h('input', {
      id: 'resident-search',
      type: 'search',
      autocomplete: 'off',
      'aria-keyshortcuts': 'Alt+P',
      placeholder: t('residentSearchPlaceholder'),
      oninput: (ev: Event) => void searchResidents((ev.target as HTMLInputElement).value, 'resident-results', fillApplicant),
      onkeydown: (ev: Event) => onPickerKey(ev as KeyboardEvent, 'resident-results'),
    }),
    h('ul', { id: 'resident-results', class: 'pick-list', role: 'listbox', hidden: true }),
  );
}

function renderServiceField(f: CatalogueField): HTMLElement {
  const id = `sf-${f.id}`;
  const common = {
    id,
    name: f.id,
    'data-nav': '1',
    'aria-describedby': `err-${id}`,
    oninput: (ev: Event) => onServiceInput(f, ev),
    onblur: () => onServiceBlur(f),
    onfocus: () => {
      if (f.kind === 'nik') void offerHousehold(f.id);
    },
    onkeydown: (ev: Event) => {
      const k = ev as KeyboardEvent;
      if (f.kind === 'nik' && (k.key === 'ArrowDown' || k.key === 'Escape')) onPickerKey(k, `pick-${f.id}`);
      else onNavKey(k);
    },
  };
  let control: HTMLElement;
  const value = state.fields[f.id] ?? '';
  if (f.kind === 'select') {
    control = h(
      'select',
      { ...common, onchange: (ev: Event) => onServiceInput(f, ev), value },
      h('option', { value: '' }, t('sexChoose')),
      f.options.map(([v, label]) => h('option', { value: v }, label)),
    );
  } else {
    const extra: Record<string, string | number> = { autocomplete: 'off' };
    if (f.kind === 'nik' || f.kind === 'nomor_kk') Object.assign(extra, { inputmode: 'numeric', maxlength: 16, class: 'mono' });
    if (f.kind === 'region_code') Object.assign(extra, { inputmode: 'numeric', maxlength: 13, class: 'mono' });
    if (f.kind === 'date') Object.assign(extra, { placeholder: t('datePlaceholder'), inputmode: 'numeric', maxlength: 10 });
    if (f.kind === 'number') Object.assign(extra, { inputmode: 'numeric' });
    if (f.kind === 'phone') Object.assign(extra, { inputmode: 'tel' });
    if (f.kind === 'email') Object.assign(extra, { inputmode: 'email' });
    control = h('input', { ...common, ...extra, type: 'text', value });
  }
  // A NIK field of a family member offers the people known on this laptop.
  const picker =
    f.kind === 'nik' &&
    h('ul', { id: `pick-${f.id}`, class: 'pick-list', role: 'listbox', hidden: true });
  return h(
    'div',
    { class: `field sfield sfield-${f.kind}`, 'data-field': f.id },
    h('label', { for: id }, f.label + (f.required ? ' *' : '')),
    control,
    picker,
    h('div', { id: `err-${id}`, class: 'field-msg', 'aria-live': 'polite' }),
    f.kind === 'date' && h('div', { class: 'field-hint' }, t('hintDate')),
    f.kind === 'nik' && h('div', { class: 'field-hint' }, t('hintFamilyNik')),
  );
}

/** The slot names of one document need: `kk`, or `witness#1`, `witness#2`… */
function slotNames(documentId: string, count: number): string[] {
  if (count <= 1) return [documentId];
  return Array.from({ length: count }, (_, k) => `${documentId}#${k + 1}`);
}

function slotDomId(slot: string): string {
  return `slot-${slot.replace(/[^a-z0-9_]/gi, '-')}`;
}

function formatKb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function renderSlot(reqId: string, slot: string, label: string, kind: 'scan' | 'check'): HTMLElement {
  // A document can serve two requirements (two witnesses for both SPTJMs): one slot, two boxes.
  const domId = slotDomId(`${reqId}-${slot}`);
  if (kind === 'check') {
    return h(
      'div',
      { class: 'slot slot-check', 'data-slot': slot, id: domId },
      h(
        'label',
        { class: 'check-label' },
        h('input', {
          type: 'checkbox',
          class: 'slot-check-box',
          checked: state.checks.has(slot),
          onchange: (ev: Event) => {
            if ((ev.target as HTMLInputElement).checked) state.checks.add(slot);
            else state.checks.delete(slot);
            scheduleCheck();
          },
        }),
        ' ',
        label,
      ),
    );
  }
  const scan = state.scans.get(slot);
  const busy = state.busySlots.has(slot);
  const fileInput = h('input', {
    type: 'file',
    class: 'slot-file visually-hidden',
    tabindex: -1,
    accept: '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png',
    onchange: (ev: Event) => {
      const input = ev.target as HTMLInputElement;
      const file = input.files?.[0];
      input.value = '';
      if (file) void attachFile(slot, file);
    },
  });
  const el = h(
    'div',
    {
      class: 'slot slot-scan' + (scan ? ' attached' : '') + (busy ? ' busy' : ''),
      'data-slot': slot,
      'data-attached': scan ? 'true' : 'false',
      id: domId,
      ondragover: (ev: Event) => {
        ev.preventDefault();
        el.classList.add('drag-over');
      },
      ondragleave: () => el.classList.remove('drag-over'),
      ondrop: (ev: Event) => {
        ev.preventDefault();
        el.classList.remove('drag-over');
        const file = (ev as DragEvent).dataTransfer?.files?.[0];
        if (file) void attachFile(slot, file);
      },
    },
    scan ? h('img', { class: 'slot-thumb', src: scan.thumbnail, alt: t('scanThumbAlt', { label }) }) : h('div', { class: 'slot-thumb empty', 'aria-hidden': 'true' }, '⎙'),
    h(
      'div',
      { class: 'slot-body' },
      h('div', { class: 'slot-label' }, label),
      h(
        'div',
        { class: 'slot-status', 'aria-live': 'polite' },
        busy
          ? t('scanProcessing')
          : scan
            ? t('scanAttached', { name: scan.name, pages: scan.pages.length, size: formatKb(scan.storedBytes), original: formatKb(scan.originalBytes) })
            : t('scanDropHint'),
      ),
      h(
        'div',
        { class: 'slot-actions' },
        fileInput,
        h('button', { type: 'button', class: 'btn btn-small slot-pick', disabled: busy, onclick: () => fileInput.click() }, scan ? t('scanReplace') : t('scanPick')),
        h('button', { type: 'button', class: 'btn btn-small slot-camera', disabled: busy, onclick: () => void attachFromCamera(slot) }, t('scanCamera')),
        scan &&
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small btn-link slot-remove',
              onclick: () => {
                state.scans.delete(slot);
                rerenderChecklist();
                scheduleCheck();
              },
            },
            t('scanRemove'),
          ),
      ),
    ),
  );
  return el;
}

function renderChecklist(): HTMLElement {
  const service = currentService();
  const box = h('div', { id: 'checklist', class: 'checklist' });
  if (!service) return box;
  const states = new Map((state.check?.requirements ?? []).map((r) => [r.id, r]));
  for (const req of service.requirements) {
    const st = states.get(req.id);
    const satisfied = st?.satisfied ?? false;
    const alts = req.alternatives.map((alt, i) =>
      h(
        'div',
        { class: 'alt' },
        i > 0 && h('div', { class: 'alt-or' }, t('altOr')),
        alt.map((need) =>
          slotNames(need.document_id, need.count).map((slot, k) =>
            renderSlot(req.id, slot, need.count > 1 ? `${need.label} ${k + 1}` : need.label, need.kind),
          ),
        ),
      ),
    );
    box.append(
      h(
        'div',
        { class: 'req' + (satisfied ? ' ok' : ' missing'), 'data-req': req.id, 'data-satisfied': satisfied ? 'true' : 'false' },
        h(
          'div',
          { class: 'req-head' },
          h('span', { class: 'req-state', 'aria-hidden': 'true' }, satisfied ? '✓' : '○'),
          h('span', { class: 'req-label' }, req.label),
          h('span', { class: 'req-badge' }, satisfied ? t('reqMet') : t('reqMissing')),
        ),
        req.alternatives.length > 1 && h('div', { class: 'muted req-how' }, st?.how ?? ''),
        alts,
      ),
    );
  }
  if (service.extra_documents.length) {
    box.append(
      h(
        'div',
        { class: 'req extra', 'data-req': '', 'data-extra': 'true' },
        h('div', { class: 'req-head' }, h('span', { class: 'req-state', 'aria-hidden': 'true' }, '+'), h('span', { class: 'req-label' }, t('extraDocuments'))),
        h('div', { class: 'muted req-how' }, t('extraDocumentsHint')),
        h('div', { class: 'alt' }, service.extra_documents.map((d) => renderSlot('extra', d.document_id, d.label, d.kind))),
      ),
    );
  }
  const problems = state.check?.slot_problems ?? [];
  if (problems.length) {
    box.append(h('div', { class: 'msg error' }, problems.map(([slot, why]) => h('div', null, `${slot}: ${why}`))));
  }
  return box;
}

function rerenderChecklist(): void {
  byId('checklist')?.replaceWith(renderChecklist());
}

function renderForm(hidden: boolean): HTMLElement {
  const service = currentService();
  const form = h(
    'form',
    {
      id: 'register-form',
      class: 'register-layout',
      novalidate: true,
      autocomplete: 'off',
      hidden,
      'data-service': state.service,
      'data-correction': state.correction?.id ?? null,
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void save();
      },
    },
    h(
      'div',
      { class: 'panel form-panel' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'register-heading' }, t('registerTitle'))),
      state.correction && renderCorrectionBanner(state.correction),
      renderServicePicker(),
      h('p', { class: 'muted intro' }, t('registerIntro')),
      h('h3', { class: 'form-section' }, t('sectionApplicant')),
      renderResidentPicker(),
      h('div', { class: 'form-grid' }, FORM_FIELDS.map(renderField)),
      service &&
        service.fields.length > 0 &&
        h('h3', { class: 'form-section' }, t('sectionService', { service: service.name })),
      service && h('div', { id: 'service-fields', class: 'form-grid' }, service.fields.map(renderServiceField)),
      h('h3', { class: 'form-section' }, t('sectionRequirements')),
      h('p', { class: 'muted' }, t('requirementsIntro')),
      renderChecklist(),
      h(
        'div',
        { class: 'form-actions' },
        h('div', { id: 'form-msg', class: 'form-msg', role: 'alert', hidden: true }),
        h('div', { id: 'missing-summary', class: 'missing-summary', 'aria-live': 'polite' }),
        h('button', { type: 'submit', id: 'btn-save', class: 'btn btn-primary btn-large', 'aria-keyshortcuts': 'Control+Enter' }, saveLabel()),
      ),
    ),
    h(
      'aside',
      { class: 'panel tips' },
      h('h3', null, t('tipsTitle')),
      h(
        'ul',
        null,
        h('li', null, h('kbd', null, 'Enter'), ' ', t('tipEnter').replace(/^Enter\s*/, '')),
        h('li', null, h('kbd', null, 'Ctrl+Enter'), ' ', t('tipSave')),
        h('li', null, h('kbd', null, 'Alt+L'), ' ', t('tipService')),
        h('li', null, h('kbd', null, 'Alt+P'), ' ', t('tipPicker')),
        h('li', null, t('tipNik')),
        h('li', null, t('tipScans')),
        h('li', null, t('tipWarnings')),
      ),
    ),
  );
  // Apply existing state (after a language switch re-render) once attached.
  queueMicrotask(() => {
    showFindings(state.findings);
    showNikInfo();
    showFormMessage();
    showCheck();
  });
  return form;
}

function saveLabel(): string {
  return state.correction ? t('btnSaveCorrection') : t('btnSave');
}

function renderCorrectionBanner(c: Correction): HTMLElement {
  return h(
    'div',
    { id: 'correction-banner', class: 'banner banner-warning correction-banner', role: 'status', 'data-id': c.id },
    h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '✎'),
    h(
      'div',
      { class: 'banner-text' },
      h('strong', null, t('correctionBanner', { tracking: c.tracking, reason: c.reason })),
      h('div', { class: 'muted' }, t('correctionHint', { revision: c.nextRevision })),
    ),
    h('button', { type: 'button', id: 'btn-cancel-correction', class: 'btn btn-small btn-ghost', onclick: () => newApplication() }, t('btnCancelCorrection')),
  );
}

/**
 * Opens the form on an application the district returned for correction: service (locked),
 * applicant, fields and scans as they were sent, and the reason on top. Saving sends it as the
 * next revision under the same tracking number.
 */
export async function openCorrection(id: string): Promise<void> {
  if (!state.catalogue) state.catalogue = await backend.catalogue();
  const stored = await backend.applicationForm(id);
  const service = state.catalogue.services.find((x) => x.code === stored.service) ?? null;
  const scans = new Map<string, AttachedScan>();
  const checks = new Set<string>();
  for (const p of stored.provided) {
    if (p.pages.length === 0) {
      checks.add(p.slot);
      continue;
    }
    const thumbnail = await backend.scanThumbnail(p.pages[0] ?? '');
    scans.set(p.slot, {
      pages: p.pages,
      name: t('scanPrevious'),
      thumbnail,
      storedBytes: p.stored_bytes,
      originalBytes: p.stored_bytes,
    });
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(stored.fields)) {
    const kind = service?.fields.find((f) => f.id === key)?.kind;
    fields[key] = kind === 'date' ? isoToDisplayDate(value) : value;
  }
  newApplication();
  state.service = stored.service;
  state.values = { ...stored.applicant, birth_date: isoToDisplayDate(stored.applicant.birth_date) };
  state.fields = fields;
  state.scans = scans;
  state.checks = checks;
  state.correction = {
    id: stored.id,
    tracking: stored.tracking_number,
    reason: stored.reason ?? '—',
    nextRevision: stored.revision + 1,
  };
  for (const f of FORM_FIELDS) touched.add(f);
  for (const key of Object.keys(fields)) touchedService.add(key);
  const section = byId('screen-register');
  if (section) section.replaceWith(renderRegisterScreen());
  void checkNik();
  scheduleCheck();
}

function renderReceipt(app: ApplicationView): HTMLElement {
  const pathEl = h('p', { id: 'receipt-pdf-path', class: 'pdf-path', hidden: !state.receiptPdf }, state.receiptPdf ? t('pdfPath', { path: state.receiptPdf }) : '');
  if (state.receiptPdf) pathEl.dataset.path = state.receiptPdf;
  return h(
    'div',
    { id: 'receipt', class: 'panel receipt', 'aria-labelledby': 'receipt-heading' },
    h('h2', { id: 'receipt-heading' }, t('receiptTitle')),
    h('p', { class: 'receipt-accepted' }, t('receiptAccepted')),
    h(
      'div',
      { class: 'tracking-box' },
      h('div', { class: 'tracking-label' }, t('receiptTrackingLabel')),
      h('div', { id: 'receipt-tracking', class: 'tracking-number' }, app.tracking_number),
    ),
    h(
      'dl',
      { class: 'receipt-details' },
      h('dt', null, t('receiptName')),
      h('dd', { id: 'receipt-name' }, app.full_name),
      h('dt', null, t('receiptNik')),
      h('dd', { id: 'receipt-nik', class: 'mono' }, app.nik),
      h('dt', null, t('receiptService')),
      h('dd', { id: 'receipt-service' }, app.service_label),
      app.revision > 0 && [h('dt', null, t('receiptRevision')), h('dd', { id: 'receipt-revision', 'data-revision': app.revision }, String(app.revision))],
      app.details.map(([label, value]) => [h('dt', null, label), h('dd', null, value)]),
      h('dt', null, t('receiptDocuments')),
      h(
        'dd',
        { id: 'receipt-documents' },
        app.provided.length
          ? app.provided.map(([label, pages]) => h('div', null, pages > 0 ? t('docWithPages', { label, pages }) : t('docChecked', { label })))
          : '—',
      ),
      h('dt', null, t('receiptStatus')),
      h('dd', null, h('span', { class: 'status', 'data-status': app.status }, app.status_label)),
      h('dt', null, t('receiptCaptured')),
      h('dd', null, formatTimestamp(app.captured_at)),
    ),
    h(
      'div',
      { class: 'receipt-actions' },
      h('button', { type: 'button', id: 'btn-print-receipt', class: 'btn btn-primary btn-large', onclick: () => void printReceipt('office') }, t('btnPrintReceipt')),
      h('button', { type: 'button', id: 'btn-print-thermal', class: 'btn', onclick: () => void printReceipt('thermal58') }, t('btnPrintThermal')),
      h('button', { type: 'button', id: 'btn-new', class: 'btn btn-large', onclick: () => newApplication() }, t('btnNew')),
    ),
    pathEl,
  );
}

// ---------------------------------------------------------------------------
// Messages

function showFindings(findings: Finding[]): void {
  for (const f of FORM_FIELDS) {
    const el = byId(`err-${f}`);
    const input = fieldEl(f);
    if (!el) continue;
    const errs = findings.filter((x) => x.field === f && x.severity === 'error');
    const warns = findings.filter((x) => x.field === f && x.severity !== 'error');
    el.className = 'field-msg' + (errs.length ? ' error' : warns.length ? ' warning' : '');
    setChildren(
      el,
      errs.map((x) => h('div', { class: 'msg error', 'data-code': x.code }, x.message)),
      warns.map((x) => h('div', { class: 'msg warning', 'data-code': x.code }, x.message)),
    );
    if (input) {
      input.classList.toggle('has-error', errs.length > 0);
      input.classList.toggle('has-warning', errs.length === 0 && warns.length > 0);
      if (errs.length) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }
}

function setFindings(findings: Finding[]): void {
  state.findings = findings;
  showFindings(findings);
}

function clearFieldFindings(f: FormField): void {
  if (state.findings.some((x) => x.field === f)) setFindings(state.findings.filter((x) => x.field !== f));
}

function showNikInfo(): void {
  const el = byId('nik-region');
  if (!el) return;
  const info = state.nikInfo;
  if (!info) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  const region = [info.kecamatan_name, info.regency_name, info.province_name].filter((x): x is string => !!x && x.trim() !== '').join(', ');
  el.hidden = false;
  el.textContent = t('nikRegion', { region });
}

function showFormMessage(): void {
  const el = byId('form-msg');
  if (!el) return;
  el.hidden = !state.formMessage;
  el.textContent = state.formMessage ?? '';
}

// ---------------------------------------------------------------------------
// Events

function onInput(f: FormField, ev: Event): void {
  const target = ev.target as HTMLInputElement;
  state.values[f] = target.value;
  clearFieldFindings(f);
  scheduleCheck();
  if (state.formMessage) {
    state.formMessage = null;
    showFormMessage();
  }
  if (f === 'nik') {
    const nik = target.value.trim();
    if (/^\d{16}$/.test(nik)) {
      void checkNik();
    } else if (state.nikInfo) {
      state.nikInfo = null;
      showNikInfo();
    }
  }
}

function onBlur(f: FormField): void {
  touched.add(f);
  if (f === 'birth_date') {
    const el = fieldEl('birth_date');
    const normalised = normaliseDisplayDate(state.values.birth_date);
    if (el && normalised !== state.values.birth_date) {
      el.value = normalised;
      state.values.birth_date = normalised;
    }
  }
  if (f === 'nik' && /^\d{16}$/.test(state.values.nik.trim())) void checkNik();
}

function onKeyDown(f: FormField, ev: KeyboardEvent): void {
  if (f === 'address' && ev.key === 'Enter' && ev.shiftKey) return; // Shift+Enter: new line
  onNavKey(ev);
}

/** Enter moves to the next field of the form, in screen order; after the last, to Save. */
function onNavKey(ev: KeyboardEvent): void {
  if (ev.key !== 'Enter' || ev.isComposing || ev.altKey || ev.metaKey) return;
  ev.preventDefault();
  if (ev.ctrlKey) {
    void save();
    return;
  }
  const controls = Array.from(document.querySelectorAll<HTMLElement>('#register-form [data-nav]'));
  const idx = controls.indexOf(ev.target as HTMLElement);
  const next = controls[idx + 1];
  if (next) {
    next.focus();
    if (next instanceof HTMLInputElement) next.select();
  } else {
    byId('btn-save')?.focus();
  }
}

// ---------------------------------------------------------------------------
// Service fields, residents, scans and the live check

function onServiceInput(f: CatalogueField, ev: Event): void {
  const target = ev.target as HTMLInputElement;
  state.fields[f.id] = target.value;
  touchedService.add(f.id);
  if (f.kind === 'nik') {
    const text = target.value.trim();
    if (text.length >= 3 && !/^\d{16}$/.test(text)) {
      void searchResidents(text, `pick-${f.id}`, (r) => fillFamilyMember(f.id, r));
    } else {
      hidePicker(`pick-${f.id}`);
    }
  }
  if (state.formMessage) {
    state.formMessage = null;
    showFormMessage();
  }
  scheduleCheck();
}

function onServiceBlur(f: CatalogueField): void {
  if (f.kind === 'date') {
    const el = byId<HTMLInputElement>(`sf-${f.id}`);
    const normalised = normaliseDisplayDate(state.fields[f.id] ?? '');
    if (el && normalised !== (state.fields[f.id] ?? '')) {
      el.value = normalised;
      state.fields[f.id] = normalised;
    }
  }
  // Let a click on a suggestion land before the list goes.
  if (f.kind === 'nik') setTimeout(() => hidePicker(`pick-${f.id}`), 200);
  touchedService.add(f.id);
  scheduleCheck();
}

const touchedService = new Set<string>();
let checkTimer: number | undefined;
let liveSeq = 0;

/** Checks the whole application shortly after the operator stops typing. */
function scheduleCheck(): void {
  if (checkTimer !== undefined) window.clearTimeout(checkTimer);
  checkTimer = window.setTimeout(() => void runCheck(), 250);
}

function fullForm(): FullApplicationForm {
  const service = currentService();
  const fields: Record<string, string> = {};
  for (const f of service?.fields ?? []) {
    const raw = (state.fields[f.id] ?? '').trim();
    if (raw === '') continue;
    // Dates are typed day first; an unreadable one goes as typed so the rule can name it.
    fields[f.id] = f.kind === 'date' ? parseDisplayDate(raw) || raw : raw;
  }
  const provided = [
    ...[...state.scans.entries()].map(([slot, scan]) => ({ slot, pages: scan.pages })),
    ...[...state.checks].map((slot) => ({ slot, pages: [] })),
  ];
  return { service: state.service, applicant: backendForm(), fields, provided };
}

async function runCheck(): Promise<void> {
  if (!currentService() || state.receipt) return;
  const seq = ++liveSeq;
  try {
    const view = await backend.checkApplication(fullForm());
    if (seq !== liveSeq || state.receipt) return;
    state.check = view;
    showCheck();
  } catch (e) {
    if (seq === liveSeq) reportError(e);
  }
}

/** Shows the live check: service-field messages, requirement states, what is still missing. */
function showCheck(showAll = false): void {
  const view = state.check;
  const service = currentService();
  if (!service) return;
  for (const f of service.fields) {
    const el = byId(`err-sf-${f.id}`);
    const input = byId(`sf-${f.id}`);
    if (!el) continue;
    const visible = showAll || touchedService.has(f.id);
    const errs = visible ? (view?.findings ?? []).filter((x) => x.field === f.id && x.severity === 'error') : [];
    const warns = [...(view?.findings ?? []).filter((x) => x.field === f.id && x.severity !== 'error'), ...(view?.rule_warnings ?? []).filter((x) => x.field === f.id)];
    el.className = 'field-msg' + (errs.length ? ' error' : warns.length ? ' warning' : '');
    setChildren(
      el,
      errs.map((x) => h('div', { class: 'msg error' }, x.message)),
      warns.map((x) => h('div', { class: 'msg warning' }, x.message)),
    );
    input?.classList.toggle('has-error', errs.length > 0);
    if (errs.length) input?.setAttribute('aria-invalid', 'true');
    else input?.removeAttribute('aria-invalid');
  }
  // Soft rules about applicant fields (e.g. age for a KTP-el) show beside those fields.
  const applicantWarnings = (view?.rule_warnings ?? []).filter((w) => (FORM_FIELDS as readonly string[]).includes(w.field));
  for (const w of applicantWarnings) {
    const el = byId(`err-${w.field}`);
    if (el && !el.querySelector('.msg.rule')) {
      el.append(h('div', { class: 'msg warning rule' }, w.message));
      if (!el.classList.contains('error')) el.classList.add('warning');
    }
  }
  const states = new Map((view?.requirements ?? []).map((r) => [r.id, r]));
  document.querySelectorAll<HTMLElement>('#checklist .req:not(.extra)').forEach((el) => {
    const st = states.get(el.dataset.req ?? '');
    const ok = st?.satisfied ?? false;
    el.dataset.satisfied = ok ? 'true' : 'false';
    el.classList.toggle('ok', ok);
    el.classList.toggle('missing', !ok);
    const mark = el.querySelector('.req-state');
    if (mark) mark.textContent = ok ? '✓' : '○';
    const badge = el.querySelector('.req-badge');
    if (badge) badge.textContent = ok ? t('reqMet') : t('reqMissing');
  });
  const summary = byId('missing-summary');
  if (summary) {
    const missing = (view?.requirements ?? []).filter((r) => !r.satisfied).map((r) => r.label);
    summary.textContent = missing.length ? t('stillMissing', { list: missing.join(', ') }) : view ? t('allRequirementsMet') : '';
    summary.className = 'missing-summary' + (missing.length ? ' pending' : ' complete');
    summary.dataset.canSubmit = view?.can_submit ? 'true' : 'false';
  }
}


function setSlotError(slot: string, message: string): void {
  document.querySelectorAll<HTMLElement>(`#checklist .slot[data-slot="${CSS.escape(slot)}"]`).forEach((el) => {
    const status = el.querySelector('.slot-status');
    if (status) {
      status.textContent = message;
      status.classList.add('error');
    }
    el.dataset.error = 'true';
  });
}

async function attachBlob(slot: string, name: string, blob: Blob): Promise<void> {
  if (state.busySlots.has(slot)) return;
  state.busySlots.add(slot);
  rerenderChecklist();
  try {
    const b64 = await readAsBase64(blob);
    const view = await backend.attachScan(name, b64);
    state.scans.set(slot, {
      pages: view.pages,
      name,
      thumbnail: view.thumbnail,
      storedBytes: view.stored_bytes,
      originalBytes: view.original_bytes,
    });
    state.busySlots.delete(slot);
    rerenderChecklist();
    scheduleCheck();
  } catch (e) {
    state.busySlots.delete(slot);
    rerenderChecklist();
    // A bad file changes nothing: the slot keeps what it had, and says why.
    const err = toAppError(e);
    if (err.code === 'locked') reportError(e);
    else setSlotError(slot, err.message);
  }
}

function attachFile(slot: string, file: File): Promise<void> {
  return attachBlob(slot, file.name, file);
}

async function attachFromCamera(slot: string): Promise<void> {
  const bytes = await captureFromCamera(document.body, getLang());
  if (!bytes) return;
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  await attachBlob(slot, `kamera-${stamp}.jpg`, new Blob([bytes as BlobPart], { type: 'image/jpeg' }));
}

let residentSeq = 0;

async function searchResidents(text: string, listId: string, onPick: (r: Resident) => void): Promise<void> {
  const seq = ++residentSeq;
  const list = byId(listId);
  if (!list) return;
  if (text.trim().length < 2) {
    hidePicker(listId);
    return;
  }
  let found: Resident[];
  try {
    found = await backend.findResidents(text);
  } catch (e) {
    reportError(e);
    return;
  }
  if (seq !== residentSeq) return;
  showPicker(listId, found, onPick);
}

function showPicker(listId: string, found: Resident[], onPick: (r: Resident) => void): void {
  const list = byId(listId);
  if (!list) return;
  setChildren(
    list,
    found.length === 0
      ? h('li', { class: 'muted pick-empty' }, t('residentNone'))
      : found.map((r) =>
          h(
            'li',
            {
              role: 'option',
              tabindex: -1,
              class: 'pick-item',
              'data-nik': r.nik,
              onmousedown: (ev: Event) => ev.preventDefault(),
              onclick: () => {
                onPick(r);
                hidePicker(listId);
              },
              onkeydown: (ev: Event) => {
                const k = ev as KeyboardEvent;
                if (k.key === 'Enter') {
                  k.preventDefault();
                  onPick(r);
                  hidePicker(listId);
                } else {
                  onPickerKey(k, listId);
                }
              },
            },
            h('span', { class: 'pick-name' }, r.full_name),
            h('span', { class: 'pick-nik mono' }, r.nik),
            r.nomor_kk && h('span', { class: 'pick-kk muted' }, `KK ${r.nomor_kk}`),
          ),
        ),
  );
  list.hidden = false;
}

function hidePicker(listId: string): void {
  const list = byId(listId);
  if (list) list.hidden = true;
}

/** Arrow keys walk the suggestions; Escape closes them. */
function onPickerKey(ev: KeyboardEvent, listId: string): void {
  const list = byId(listId);
  if (!list || list.hidden) return;
  const items = Array.from(list.querySelectorAll<HTMLElement>('.pick-item'));
  const idx = items.indexOf(document.activeElement as HTMLElement);
  if (ev.key === 'ArrowDown') {
    ev.preventDefault();
    items[Math.min(idx + 1, items.length - 1)]?.focus();
  } else if (ev.key === 'ArrowUp') {
    ev.preventDefault();
    if (idx <= 0) byId('resident-search')?.focus();
    else items[idx - 1]?.focus();
  } else if (ev.key === 'Escape') {
    hidePicker(listId);
  }
}

function setApplicant(f: FormField, value: string): void {
  state.values[f] = value;
  const el = fieldEl(f);
  if (el) el.value = value;
  touched.add(f);
  clearFieldFindings(f);
}

/** Fills the applicant from a resident known on this laptop; every field stays editable. */
function fillApplicant(r: Resident): void {
  setApplicant('nik', r.nik);
  setApplicant('full_name', r.full_name);
  if (r.birth_place) setApplicant('birth_place', r.birth_place);
  if (r.birth_date) setApplicant('birth_date', isoToDisplayDate(r.birth_date));
  if (r.sex) setApplicant('sex', r.sex);
  if (r.address) setApplicant('address', r.address);
  if (r.phone) setApplicant('phone', r.phone);
  if (r.nomor_kk && currentService()?.fields.some((f) => f.id === 'nomor_kk') && !state.fields.nomor_kk) {
    state.fields.nomor_kk = r.nomor_kk;
    const kk = byId<HTMLInputElement>('sf-nomor_kk');
    if (kk) kk.value = r.nomor_kk;
  }
  const search = byId<HTMLInputElement>('resident-search');
  if (search) search.value = '';
  void checkNik();
  scheduleCheck();
  fieldEl('full_name')?.focus();
}

/** Fills a family member's NIK field and the name field beside it (`mother_nik` → `mother_name`). */
function fillFamilyMember(nikField: string, r: Resident): void {
  const set = (id: string, value: string): void => {
    state.fields[id] = value;
    touchedService.add(id);
    const el = byId<HTMLInputElement>(`sf-${id}`);
    if (el) el.value = value;
  };
  set(nikField, r.nik);
  const nameField = nikField.replace(/_nik$/, '_name');
  if (currentService()?.fields.some((f) => f.id === nameField)) set(nameField, r.full_name);
  scheduleCheck();
}

/** On focus of an empty family NIK field, offer the household of the KK already typed. */
async function offerHousehold(nikField: string): Promise<void> {
  const kk = (state.fields.nomor_kk ?? '').trim();
  if (!/^\d{16}$/.test(kk) || (state.fields[nikField] ?? '').trim() !== '') return;
  try {
    const members = await backend.household(kk);
    if (members.length && (state.fields[nikField] ?? '').trim() === '') {
      showPicker(`pick-${nikField}`, members, (r) => fillFamilyMember(nikField, r));
    }
  } catch (e) {
    reportError(e);
  }
}

/** NIK complete: ask the backend what it knows about it. */
async function checkNik(): Promise<void> {
  const form = backendForm();
  const key = JSON.stringify(form);
  if (key === lastCheckedKey) return;
  lastCheckedKey = key;
  const seq = ++checkSeq;
  let view: CheckView;
  try {
    view = await backend.checkForm(form);
  } catch (e) {
    if (seq === checkSeq) {
      lastCheckedKey = '';
      reportError(e);
    }
    return;
  }
  if (seq !== checkSeq || state.receipt) return;
  // The operator may have kept typing; only apply if the NIK is unchanged.
  if (state.values.nik.trim() !== form.nik) return;

  state.nikInfo = view.nik_info;
  showNikInfo();
  if (view.nik_info) {
    const bd = fieldEl('birth_date');
    if (state.values.birth_date.trim() === '' && bd && view.nik_info.birth_date) {
      state.values.birth_date = isoToDisplayDate(view.nik_info.birth_date);
      bd.value = state.values.birth_date;
    }
    const sex = fieldEl('sex');
    if (state.values.sex === '' && sex && (view.nik_info.sex === 'male' || view.nik_info.sex === 'female')) {
      state.values.sex = view.nik_info.sex;
      sex.value = view.nik_info.sex;
    }
  }
  // Show NIK findings, plus findings for fields the operator has already filled in.
  const relevant = (x: Finding): boolean => x.field === 'nik' || (touched.has(x.field) && form[x.field] !== '');
  const others = state.findings.filter((x) => x.field !== 'nik' && !touched.has(x.field));
  setFindings([...view.errors.filter(relevant), ...view.warnings.filter(relevant), ...others]);
}

async function save(): Promise<void> {
  if (saving) return;
  const btn = byId<HTMLButtonElement>('btn-save');
  // Normalise the date the operator typed before sending.
  const bd = fieldEl('birth_date');
  if (bd) {
    state.values.birth_date = normaliseDisplayDate(state.values.birth_date);
    bd.value = state.values.birth_date;
  }
  saving = true;
  if (btn) {
    btn.disabled = true;
    btn.textContent = t('saving');
  }
  state.formMessage = null;
  showFormMessage();
  try {
    const correction = state.correction;
    const app = correction ? await backend.correctApplication(correction.id, fullForm()) : await backend.submitApplication(fullForm());
    state.correction = null;
    state.receipt = app;
    state.receiptPdf = null;
    setFindings([]);
    showReceipt();
  } catch (e) {
    const err = toAppError(e);
    if (err.code === 'validation' && err.check) {
      const check = err.check;
      state.check = check;
      for (const f of FORM_FIELDS) touched.add(f);
      setFindings([...check.applicant.errors, ...check.applicant.warnings]);
      if (check.applicant.nik_info !== undefined) {
        state.nikInfo = check.applicant.nik_info;
        showNikInfo();
      }
      showCheck(true);
      state.formMessage = err.message || t('formHasErrors');
      showFormMessage();
      focusFirstProblem(check);
    } else if (err.code === 'validation') {
      state.formMessage = err.message;
      showFormMessage();
    } else {
      reportError(err);
    }
  } finally {
    saving = false;
    if (btn) {
      btn.disabled = false;
      btn.textContent = saveLabel();
    }
  }
}

/** Puts the cursor where the operator has to act first: a red field, else a missing document. */
function focusFirstProblem(check: ApplicationCheckView): void {
  const applicantField = FORM_FIELDS.find((f) => check.applicant.errors.some((x) => x.field === f));
  const serviceField = currentService()?.fields.find((f) => check.findings.some((x) => x.field === f.id && x.severity === 'error'));
  const el: HTMLElement | null = applicantField
    ? fieldEl(applicantField)
    : serviceField
      ? byId(`sf-${serviceField.id}`)
      : document.querySelector<HTMLElement>('#checklist .req.missing .slot-pick, #checklist .req.missing .slot-check-box');
  if (el) {
    el.focus();
    if (el instanceof HTMLInputElement && el.type === 'text') el.select();
    el.scrollIntoView({ block: 'center' });
  }
}

function showReceipt(): void {
  const section = byId('screen-register');
  const form = byId('register-form');
  if (!section || !state.receipt) return;
  byId('receipt')?.remove();
  if (form) form.hidden = true;
  section.append(renderReceipt(state.receipt));
  byId('btn-print-receipt')?.focus();
}

async function printReceipt(paper: ReceiptPaper): Promise<void> {
  const app = state.receipt;
  if (!app || printing) return;
  const btn = byId<HTMLButtonElement>(paper === 'office' ? 'btn-print-receipt' : 'btn-print-thermal');
  const label = paper === 'office' ? t('btnPrintReceipt') : t('btnPrintThermal');
  const pathEl = byId('receipt-pdf-path');
  printing = true;
  if (btn) {
    btn.disabled = true;
    btn.textContent = t('printing');
  }
  try {
    const { pdf_path } = await backend.renderReceipt(app.id, paper);
    state.receiptPdf = pdf_path;
    if (pathEl) {
      pathEl.hidden = false;
      pathEl.textContent = t('pdfPath', { path: pdf_path });
      pathEl.dataset.path = pdf_path;
    }
    await backend.openPath(pdf_path);
  } catch (e) {
    reportError(e);
  } finally {
    printing = false;
    if (btn) {
      btn.disabled = false;
      btn.textContent = label;
    }
  }
}

function newApplication(): void {
  state.fields = {};
  state.scans.clear();
  state.checks.clear();
  state.busySlots.clear();
  state.check = null;
  touchedService.clear();
  state.values = emptyValues();
  state.findings = [];
  state.formMessage = null;
  state.nikInfo = null;
  state.receipt = null;
  state.receiptPdf = null;
  state.correction = null;
  touched.clear();
  lastCheckedKey = '';
  checkSeq++;
  const section = byId('screen-register');
  if (section) section.replaceWith(renderRegisterScreen());
  scheduleCheck();
  focusRegister();
}

/** Called when the register screen becomes visible. */
export function focusRegister(): void {
  if (state.receipt) byId('btn-print-receipt')?.focus();
  else fieldEl('nik')?.focus();
}
