import { t } from './i18n';

// Tiny render helpers. No framework: build elements with h(), mutate them
// directly afterwards.

export type Child = Node | string | number | null | undefined | false | Child[];

type AttrValue = string | number | boolean | null | undefined;
type Handler = (ev: Event) => void;
export type Attrs = Record<string, AttrValue | Handler>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  let value: AttrValue | undefined;
  if (attrs) {
    for (const [key, v] of Object.entries(attrs)) {
      if (typeof v === 'function') {
        el.addEventListener(key.replace(/^on/, '').toLowerCase(), v);
      } else if (key === 'value') {
        value = v;
      } else if (v === true) {
        el.setAttribute(key, '');
      } else if (v !== false && v !== null && v !== undefined) {
        el.setAttribute(key, String(v));
      }
    }
  }
  append(el, children);
  // Set value as a property after the children exist (needed for <select>).
  if (value !== undefined && value !== null && 'value' in el) {
    (el as HTMLInputElement).value = String(value);
  }
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

export function setChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

// ---------------------------------------------------------------------------
// Formatting

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "YYYY-MM-DD" → "DD-MM-YYYY"; anything else is returned unchanged. */
export function isoToDisplayDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso.trim());
  return m ? `${m[3]}-${m[2]}-${m[1]}` : iso;
}

/**
 * Parse what the operator typed as a date of birth (DD-MM-YYYY; "/", "." or
 * spaces are accepted as separators, as are 8 plain digits) into
 * "YYYY-MM-DD". Returns "" if it is not a real calendar date.
 */
export function parseDisplayDate(input: string): string {
  const s = input.trim();
  let m = /^(\d{1,2})[-/. ]+(\d{1,2})[-/. ]+(\d{4})$/.exec(s);
  if (!m) m = /^(\d{2})(\d{2})(\d{4})$/.exec(s);
  if (!m) return '';
  const d = Number(m[1]);
  const mo = Number(m[2]);
  const y = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return '';
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > daysInMonth) return '';
  return `${String(y).padStart(4, '0')}-${pad2(mo)}-${pad2(d)}`;
}

/** Normalise the typed date for display (e.g. "1/8/1990" → "01-08-1990"); keeps unparsable input. */
export function normaliseDisplayDate(input: string): string {
  const iso = parseDisplayDate(input);
  return iso ? isoToDisplayDate(iso) : input;
}

/** ISO timestamp → local "DD-MM-YYYY HH:MM". */
export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad2(d.getDate())}-${pad2(d.getMonth() + 1)}-${d.getFullYear()} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** A file's bytes as base64, the form the Rust commands take them in (scans, documents to verify). */
export function readAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = typeof reader.result === 'string' ? reader.result : '';
      const comma = url.indexOf(',');
      resolve(comma >= 0 ? url.slice(comma + 1) : '');
    };
    reader.onerror = () => reject({ code: 'file_read', message: t('fileReadError') });
    reader.readAsDataURL(file);
  });
}
