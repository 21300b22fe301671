// Screen: new KTP-el application + receipt.

import {
  FORM_FIELDS,
  toAppError,
  type ApplicationForm,
  type ApplicationView,
  type CheckView,
  type Finding,
  type FormField,
  type NikInfo,
  type ReceiptPaper,
} from './backend';
import { backend, reportError } from './app';
import { byId, formatTimestamp, h, isoToDisplayDate, normaliseDisplayDate, parseDisplayDate, setChildren } from './dom';
import { t, type MsgKey } from './i18n';

interface RegisterState {
  values: Record<FormField, string>;
  findings: Finding[];
  formMessage: string | null;
  nikInfo: NikInfo | null;
  receipt: ApplicationView | null;
  receiptPdf: string | null;
}

function emptyValues(): Record<FormField, string> {
  return { nik: '', full_name: '', birth_place: '', birth_date: '', sex: '', address: '', phone: '' };
}

const state: RegisterState = {
  values: emptyValues(),
  findings: [],
  formMessage: null,
  nikInfo: null,
  receipt: null,
  receiptPdf: null,
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
  if (state.receipt) {
    section.append(renderForm(true), renderReceipt(state.receipt));
  } else {
    section.append(renderForm(false));
  }
  return section;
}

function renderField(f: FormField): HTMLElement {
  const label = t(LABELS[f]) + (REQUIRED.has(f) ? ' *' : '');
  const hintKey = HINTS[f];
  const common = {
    id: `f-${f}`,
    name: f,
    'aria-describedby': `err-${f}` + (hintKey ? ` hint-${f}` : ''),
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

function renderForm(hidden: boolean): HTMLElement {
  const form = h(
    'form',
    {
      id: 'register-form',
      class: 'register-layout',
      novalidate: true,
      autocomplete: 'off',
      hidden,
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void save();
      },
    },
    h(
      'div',
      { class: 'panel form-panel' },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { id: 'register-heading' }, t('registerTitle')),
        h('span', { class: 'service-tag' }, t('registerService')),
      ),
      h('p', { class: 'muted intro' }, t('registerIntro')),
      h('div', { class: 'form-grid' }, FORM_FIELDS.map(renderField)),
      h(
        'div',
        { class: 'form-actions' },
        h('div', { id: 'form-msg', class: 'form-msg', role: 'alert', hidden: true }),
        h('button', { type: 'submit', id: 'btn-save', class: 'btn btn-primary btn-large' }, t('btnSave')),
      ),
    ),
    h(
      'aside',
      { class: 'panel tips' },
      h('h3', null, t('tipsTitle')),
      h('ul', null, h('li', null, h('kbd', null, 'Enter'), ' ', t('tipEnter').replace(/^Enter\s*/, '')), h('li', null, t('tipNik')), h('li', null, t('tipWarnings'))),
    ),
  );
  // Apply existing state (after a language switch re-render) once attached.
  queueMicrotask(() => {
    showFindings(state.findings);
    showNikInfo();
    showFormMessage();
  });
  return form;
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
  if (ev.key !== 'Enter' || ev.isComposing || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  if (f === 'address' && ev.shiftKey) return; // Shift+Enter: new line in the address
  ev.preventDefault();
  const idx = FORM_FIELDS.indexOf(f);
  const next = FORM_FIELDS[idx + 1];
  if (next) {
    const el = fieldEl(next);
    el?.focus();
    if (el instanceof HTMLInputElement) el.select();
  } else {
    byId('btn-save')?.focus();
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
    const app = await backend.registerApplication(backendForm());
    state.receipt = app;
    state.receiptPdf = null;
    setFindings([]);
    showReceipt();
  } catch (e) {
    const err = toAppError(e);
    if (err.code === 'validation' && err.report) {
      setFindings([...err.report.errors, ...err.report.warnings]);
      if (err.report.nik_info !== undefined) {
        state.nikInfo = err.report.nik_info;
        showNikInfo();
      }
      state.formMessage = err.message || t('formHasErrors');
      showFormMessage();
      const first = FORM_FIELDS.find((f) => err.report?.errors.some((x) => x.field === f));
      const el = first ? fieldEl(first) : null;
      if (el) {
        el.focus();
        if (el instanceof HTMLInputElement) el.select();
      }
    } else {
      reportError(err);
    }
  } finally {
    saving = false;
    if (btn) {
      btn.disabled = false;
      btn.textContent = t('btnSave');
    }
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
  state.values = emptyValues();
  state.findings = [];
  state.formMessage = null;
  state.nikInfo = null;
  state.receipt = null;
  state.receiptPdf = null;
  touched.clear();
  lastCheckedKey = '';
  checkSeq++;
  const section = byId('screen-register');
  if (section) section.replaceWith(renderRegisterScreen());
  focusRegister();
}

/** Called when the register screen becomes visible. */
export function focusRegister(): void {
  if (state.receipt) byId('btn-print-receipt')?.focus();
  else fieldEl('nik')?.focus();
}
