// The single gateway from the UI to the Loket core. Everything the UI needs
// goes through the `Backend` interface so that an HTTP implementation can be
// added later next to the Tauri one.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { t, type Lang } from './i18n';

// ---------------------------------------------------------------------------
// Types (Rust returns snake_case fields)

export type AppId = string | number;

export interface AppInfo {
  village_code: string;
  village_name: string;
  regency_name: string;
  device_no: number;
  server_url: string;
  operator: string;
  version: string;
  lang: Lang;
  data_dir: string;
  /** Whether this laptop holds an enrolled device key; sync needs one. */
  device_enrolled: boolean;
  /** When the back office enrolled it (RFC 3339), if it did. */
  enrolled_at: string | null;
}

export type SessionState = 'first_run' | 'locked' | 'unlocked';

export interface OperatorInfo {
  username: string;
  display_name: string;
}

/** Whether the window may show the app; the database key itself never reaches the UI. */
export interface SessionInfo {
  state: SessionState;
  operator?: OperatorInfo;
  lang: Lang;
  default_display_name: string;
  idle_minutes: number;
  village_code: string;
  village_name: string;
  device_no: number;
}

export interface NewOperator {
  username: string;
  displayName: string;
  password: string;
  /** First run only: the village this laptop serves and its device number. */
  villageCode?: string;
  deviceNo?: number;
}

export interface Settings {
  serverUrl: string;
  lang: Lang;
}

export const FORM_FIELDS = [
  'nik',
  'full_name',
  'birth_place',
  'birth_date',
  'sex',
  'address',
  'phone',
] as const;

export type FormField = (typeof FORM_FIELDS)[number];

/** The application form as the backend expects it (birth_date is YYYY-MM-DD or ""). */
export type ApplicationForm = Record<FormField, string>;

export interface Finding {
  field: FormField;
  code: string;
  severity: 'error' | 'warning';
  message: string;
}

export interface NikInfo {
  birth_date: string;
  sex: 'male' | 'female';
  province_name: string;
  regency_name: string | null;
  kecamatan_name: string | null;
}

export interface CheckView {
  ok: boolean;
  errors: Finding[];
  warnings: Finding[];
  nik_info: NikInfo | null;
}

/** A mounted USB stick a bundle can be written to. */
export interface Drive {
  path: string;
  label: string;
}

/** A bundle written for the trip to the district office. */
export interface ExportView {
  path: string;
  applications: number;
  pages: number;
  audit_entries: number;
  bytes: number;
}

export type AppStatus = 'queued' | 'received' | 'rejected' | 'issued' | 'returned';

export type FieldKind = 'text' | 'date' | 'nik' | 'nomor_kk' | 'select' | 'number' | 'person_name' | 'phone' | 'email' | 'region_code';

/** A catalogue form field, labelled in the operator's language. */
export interface CatalogueField {
  id: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  /** [value, label] pairs for select fields. */
  options: [string, string][];
}

export interface DocumentNeed {
  document_id: string;
  label: string;
  kind: 'scan' | 'check';
  count: number;
}

export interface CatalogueRequirement {
  id: string;
  label: string;
  /** Each alternative is a set of documents that are all needed. */
  alternatives: DocumentNeed[][];
}

export interface CatalogueService {
  code: string;
  name: string;
  legal_basis: string;
  sla_working_days: number;
  fields: CatalogueField[];
  requirements: CatalogueRequirement[];
  /** Papers only a warning asks for (e.g. a child's photos from age 5); optional. */
  extra_documents: DocumentNeed[];
}

export interface CatalogueView {
  version: string;
  applicant_fields: CatalogueField[];
  services: CatalogueService[];
}

/** A provided requirement slot (`kk`, `witness#2`) with the hashes of its stored pages. */
export interface SlotForm {
  slot: string;
  pages: string[];
}

/** Everything entered for one application. */
export interface FullApplicationForm {
  service: string;
  applicant: ApplicationForm;
  fields: Record<string, string>;
  provided: SlotForm[];
}

export interface FieldFinding {
  field: string;
  severity: 'error' | 'warning';
  message: string;
}

export interface RequirementState {
  id: string;
  label: string;
  satisfied: boolean;
  how: string;
}

export interface ApplicationCheckView {
  can_submit: boolean;
  applicant: CheckView;
  findings: FieldFinding[];
  requirements: RequirementState[];
  rule_warnings: FieldFinding[];
  slot_problems: [string, string][];
}

export interface ScanView {
  pages: string[];
  stored_bytes: number;
  original_bytes: number;
  thumbnail: string;
  skew_degrees: number;
}

export interface Resident {
  nik: string;
  full_name: string;
  birth_place: string | null;
  birth_date: string | null;
  sex: 'male' | 'female' | null;
  address: string | null;
  phone: string | null;
  nomor_kk: string | null;
}

export interface ApplicationView {
  id: AppId;
  tracking_number: string;
  service: string;
  service_label: string;
  catalogue_version: string;
  /** The service's own fields as [label, value]. */
  details: [string, string][];
  /** Provided documents as [label, pages]. */
  provided: [string, number][];
  nik: string;
  full_name: string;
  birth_place: string;
  birth_date: string;
  sex_label: string;
  address: string;
  phone: string;
  status: AppStatus;
  status_label: string;
  reason: string | null;
  captured_at: string;
  document: null | { doc_number: string; issued_on: string };
  /** 0 for the original, n after the n-th correction. */
  revision: number;
}

/** A provided slot of a saved application: its page hashes (none for in-person checks). */
export interface StoredSlot {
  slot: string;
  pages: string[];
  stored_bytes: number;
}

/** A saved application in the register form's shape, to prefill a correction. */
export interface StoredForm {
  id: string;
  tracking_number: string;
  revision: number;
  status: AppStatus;
  /** Why the district returned it. */
  reason: string | null;
  service: string;
  catalogue_version: string;
  /** birth_date is YYYY-MM-DD. */
  applicant: ApplicationForm;
  /** Service fields as stored (dates YYYY-MM-DD). */
  fields: Record<string, string>;
  provided: StoredSlot[];
}

/** The list screen's search: text matches tracking number, NIK or name; the rest filter. */
export interface ApplicationQuery {
  text?: string;
  status?: AppStatus;
  service?: string;
  from?: string;
  to?: string;
}

/** Paper the receipt is laid out for: office printer (A5) or a 58 mm thermal roll. */
export type ReceiptPaper = 'office' | 'thermal58';

export interface PdfPath {
  pdf_path: string;
}

export interface SyncResult {
  ok: boolean;
  message: string;
  sent: number;
  updated: number;
  documents: number;
  /** Each lane's end, in pass order. */
  lanes: LaneProgress[];
  /** Items still to be sent after the pass, and items refused for good. */
  waiting: number;
  held: number;
}

/** The independent parts of a sync pass, in the order they run. */
export type LaneName = 'reference' | 'applications' | 'attachments' | 'decisions' | 'audit';
export type LaneState = 'pending' | 'running' | 'ok' | 'failed' | 'skipped';

/** One lane's progress (`sync-progress` event) or end (in `SyncResult.lanes`). */
export interface LaneProgress {
  lane: LaneName;
  state: LaneState;
  done: number;
  /** 0 while unknown. */
  total: number;
  message: string | null;
  /** Translated lane name (absent in progress events). */
  label?: string;
  /** When a remembered lane last ended (RFC 3339). */
  at?: string | null;
}

/** The lanes' last outcomes and when the window should run an automatic pass. */
export interface SyncLanes {
  lanes: LaneProgress[];
  /** RFC 3339, or null when nothing retries by itself. */
  auto_at: string | null;
}

export type OutboxState = 'queued' | 'sending' | 'failed_permanent';

/** One application still on its way to the back office. */
export interface OutboxItem {
  id: string;
  tracking_number: string;
  full_name: string;
  service_label: string;
  state: OutboxState;
  state_label: string;
  attempts: number;
  next_retry_at: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  /** Why it waits, in the operator's language. */
  why: string;
  can_retry: boolean;
}

/** The outcome of entering an enrollment code, in the operator's words. */
export interface EnrollResult {
  ok: boolean;
  message: string;
}

export type Verdict = 'valid' | 'invalid' | 'unreadable';

export interface VerifyFields {
  doc_type: string;
  doc_number: string;
  holder_name: string;
  nik: string;
  birth_date: string;
  issued_on: string;
  district: string;
  key_id: string;
  revision: string | number;
}

export interface VerifyView {
  verdict: Verdict;
  title: string;
  reason: string | null;
  fields: VerifyFields | null;
}

/** Shape of every rejected backend promise. */
export interface AppError {
  code: string;
  message: string;
  report?: CheckView;
  check?: ApplicationCheckView;
}

// ---------------------------------------------------------------------------
// Interface

export interface Backend {
  /** false when no backend is reachable (e.g. page opened in a plain browser). */
  readonly available: boolean;
  sessionState(): Promise<SessionInfo>;
  createFirstOperator(op: NewOperator): Promise<SessionInfo>;
  login(username: string, password: string): Promise<SessionInfo>;
  logout(): Promise<SessionInfo>;
  addOperator(op: NewOperator): Promise<OperatorInfo>;
  appInfo(): Promise<AppInfo>;
  setSettings(settings: Settings): Promise<AppInfo>;
  checkForm(form: ApplicationForm): Promise<CheckView>;
  catalogue(): Promise<CatalogueView>;
  checkApplication(form: FullApplicationForm): Promise<ApplicationCheckView>;
  submitApplication(form: FullApplicationForm): Promise<ApplicationView>;
  /** Saves a returned application's correction as its next revision. */
  correctApplication(id: AppId, form: FullApplicationForm): Promise<ApplicationView>;
  applicationForm(id: AppId): Promise<StoredForm>;
  /** A stored page's thumbnail as a data URL ("" when the laptop no longer holds it). */
  scanThumbnail(sha256: string): Promise<string>;
  attachScan(name: string, bytesBase64: string): Promise<ScanView>;
  findResidents(text: string): Promise<Resident[]>;
  household(nomorKk: string): Promise<Resident[]>;
  villageName(code: string): Promise<string | null>;
  removableDrives(): Promise<Drive[]>;
  exportBundle(target: string | null): Promise<ExportView>;
  listApplications(query?: ApplicationQuery): Promise<ApplicationView[]>;
  renderReceipt(id: AppId, paper?: ReceiptPaper): Promise<PdfPath>;
  renderDocument(id: AppId): Promise<PdfPath>;
  openPath(path: string): Promise<void>;
  syncNow(automatic?: boolean): Promise<SyncResult>;
  /** Calls `cb` with every lane progress event until the returned function is called. */
  onSyncProgress(cb: (p: LaneProgress) => void): Promise<() => void>;
  outboxItems(): Promise<OutboxItem[]>;
  /** "Retry now" for one item, or every waiting item without `id`; returns how many changed. */
  retryNow(id?: string): Promise<number>;
  syncLanes(): Promise<SyncLanes>;
  enrollDevice(code: string): Promise<EnrollResult>;
  verifyApplicationDocument(id: AppId): Promise<VerifyView>;
  verifyBytes(name: string, bytesBase64: string): Promise<VerifyView>;
}

// ---------------------------------------------------------------------------
// Error normalisation: whatever comes back, callers get an AppError.

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function toAppError(e: unknown): AppError {
  if (isRecord(e)) {
    const message = typeof e.message === 'string' && e.message.trim() !== '' ? e.message : t('unknownError');
    const code = typeof e.code === 'string' ? e.code : 'error';
    const err: AppError = { code, message };
    if (isRecord(e.check) && Array.isArray(e.check.requirements)) {
      err.check = e.check as unknown as ApplicationCheckView;
    }
    const report = e.report;
    if (isRecord(report) && Array.isArray(report.errors) && Array.isArray(report.warnings)) {
      err.report = report as unknown as CheckView;
    }
    return err;
  }
  if (typeof e === 'string' && e.trim() !== '') {
    return { code: 'error', message: e };
  }
  return { code: 'error', message: t('unknownError') };
}

// ---------------------------------------------------------------------------
// Tauri implementation

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export class TauriBackend implements Backend {
  readonly available = true;

  sessionState(): Promise<SessionInfo> {
    return call('session_state');
  }
  createFirstOperator(op: NewOperator): Promise<SessionInfo> {
    return call('create_first_operator', { ...op });
  }
  login(username: string, password: string): Promise<SessionInfo> {
    return call('login', { username, password });
  }
  logout(): Promise<SessionInfo> {
    return call('logout');
  }
  addOperator(op: NewOperator): Promise<OperatorInfo> {
    return call('add_operator', { ...op });
  }
  appInfo(): Promise<AppInfo> {
    return call('app_info');
  }
  setSettings(settings: Settings): Promise<AppInfo> {
    return call('set_settings', { serverUrl: settings.serverUrl, lang: settings.lang });
  }
  checkForm(form: ApplicationForm): Promise<CheckView> {
    return call('check_form', { form });
  }
  catalogue(): Promise<CatalogueView> {
    return call('catalogue_view');
  }
  checkApplication(form: FullApplicationForm): Promise<ApplicationCheckView> {
    return call('check_application', { form });
  }
  submitApplication(form: FullApplicationForm): Promise<ApplicationView> {
    return call('submit_application', { form });
  }
  correctApplication(id: AppId, form: FullApplicationForm): Promise<ApplicationView> {
    return call('correct_application', { id: String(id), form });
  }
  applicationForm(id: AppId): Promise<StoredForm> {
    return call('application_form', { id: String(id) });
  }
  scanThumbnail(sha256: string): Promise<string> {
    return call('scan_thumbnail', { sha256 });
  }
  attachScan(name: string, bytesBase64: string): Promise<ScanView> {
    return call('attach_scan', { name, bytesBase64 });
  }
  findResidents(text: string): Promise<Resident[]> {
    return call('find_residents', { text });
  }
  household(nomorKk: string): Promise<Resident[]> {
    return call('household', { nomorKk });
  }
  villageName(code: string): Promise<string | null> {
    return call('village_name', { code });
  }
  removableDrives(): Promise<Drive[]> {
    return call('removable_drives');
  }
  exportBundle(target: string | null): Promise<ExportView> {
    return call('export_bundle', { target });
  }
  listApplications(query: ApplicationQuery = {}): Promise<ApplicationView[]> {
    return call('list_applications', { query });
  }
  renderReceipt(id: AppId, paper: ReceiptPaper = 'office'): Promise<PdfPath> {
    return call('render_receipt', { id, paper });
  }
  renderDocument(id: AppId): Promise<PdfPath> {
    return call('render_document', { id });
  }
  async openPath(path: string): Promise<void> {
    await call<unknown>('open_path', { path });
  }
  syncNow(automatic = false): Promise<SyncResult> {
    return call('sync_now', { automatic });
  }
  async onSyncProgress(cb: (p: LaneProgress) => void): Promise<() => void> {
    return listen<LaneProgress>('sync-progress', (ev) => cb(ev.payload));
  }
  outboxItems(): Promise<OutboxItem[]> {
    return call('outbox_items');
  }
  retryNow(id?: string): Promise<number> {
    return call('retry_now', { id: id ?? null });
  }
  syncLanes(): Promise<SyncLanes> {
    return call('sync_lanes');
  }
  enrollDevice(code: string): Promise<EnrollResult> {
    return call('enroll_device', { code });
  }
  verifyApplicationDocument(id: AppId): Promise<VerifyView> {
    return call('verify_application_document', { id });
  }
  verifyBytes(name: string, bytesBase64: string): Promise<VerifyView> {
    return call('verify_bytes', { name, bytesBase64 });
  }
}

// ---------------------------------------------------------------------------
// No backend at all (page opened outside Tauri): every call rejects with a
// clear, translated error. This is NOT a mock; it never returns data.

export class UnavailableBackend implements Backend {
  readonly available = false;

  private fail<T>(): Promise<T> {
    const err: AppError = { code: 'backend_unavailable', message: t('backendUnavailable') };
    return Promise.reject(err);
  }
  sessionState(): Promise<SessionInfo> {
    return this.fail();
  }
  createFirstOperator(): Promise<SessionInfo> {
    return this.fail();
  }
  login(): Promise<SessionInfo> {
    return this.fail();
  }
  logout(): Promise<SessionInfo> {
    return this.fail();
  }
  addOperator(): Promise<OperatorInfo> {
    return this.fail();
  }
  appInfo(): Promise<AppInfo> {
    return this.fail();
  }
  setSettings(): Promise<AppInfo> {
    return this.fail();
  }
  checkForm(): Promise<CheckView> {
    return this.fail();
  }
  catalogue(): Promise<CatalogueView> {
    return this.fail();
  }
  checkApplication(): Promise<ApplicationCheckView> {
    return this.fail();
  }
  submitApplication(): Promise<ApplicationView> {
    return this.fail();
  }
  correctApplication(): Promise<ApplicationView> {
    return this.fail();
  }
  applicationForm(): Promise<StoredForm> {
    return this.fail();
  }
  scanThumbnail(): Promise<string> {
    return this.fail();
  }
  attachScan(): Promise<ScanView> {
    return this.fail();
  }
  findResidents(): Promise<Resident[]> {
    return this.fail();
  }
  household(): Promise<Resident[]> {
    return this.fail();
  }
  villageName(): Promise<string | null> {
    return this.fail();
  }
  removableDrives(): Promise<Drive[]> {
    return this.fail();
  }
  exportBundle(): Promise<ExportView> {
    return this.fail();
  }
  listApplications(): Promise<ApplicationView[]> {
    return this.fail();
  }
  renderReceipt(): Promise<PdfPath> {
    return this.fail();
  }
  renderDocument(): Promise<PdfPath> {
    return this.fail();
  }
  openPath(): Promise<void> {
    return this.fail();
  }
  syncNow(): Promise<SyncResult> {
    return this.fail();
  }
  onSyncProgress(): Promise<() => void> {
    return Promise.resolve(() => {});
  }
  outboxItems(): Promise<OutboxItem[]> {
    return this.fail();
  }
  retryNow(): Promise<number> {
    return this.fail();
  }
  syncLanes(): Promise<SyncLanes> {
    return this.fail();
  }
  enrollDevice(): Promise<EnrollResult> {
    return this.fail();
  }
  verifyApplicationDocument(): Promise<VerifyView> {
    return this.fail();
  }
  verifyBytes(): Promise<VerifyView> {
    return this.fail();
  }
}

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

export function createBackend(): Backend {
  if (typeof window !== 'undefined' && window.__TAURI_INTERNALS__) {
    return new TauriBackend();
  }
  return new UnavailableBackend();
}
