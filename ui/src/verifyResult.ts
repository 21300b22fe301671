// One renderer for verification results, used by #verify-result (verify
// screen) and #list-verify-result (applications list).

import type { VerifyView } from './backend';
import { h, isoToDisplayDate, setChildren } from './dom';
import { t, type MsgKey } from './i18n';

const ICON: Record<string, string> = { valid: '✓', invalid: '✗', unreadable: '?' };

export function renderVerifyBusy(el: HTMLElement, label: string): void {
  el.hidden = false;
  el.removeAttribute('data-verdict');
  el.className = 'verify-result busy';
  el.setAttribute('aria-busy', 'true');
  setChildren(el, h('div', { class: 'verify-busy' }, label));
}

export function clearVerifyResult(el: HTMLElement): void {
  el.hidden = true;
  el.removeAttribute('data-verdict');
  el.removeAttribute('aria-busy');
  el.className = 'verify-result';
  el.replaceChildren();
}

export function renderVerifyResult(el: HTMLElement, view: VerifyView, fileName?: string): void {
  const verdict = view.verdict === 'valid' || view.verdict === 'invalid' ? view.verdict : 'unreadable';
  el.hidden = false;
  el.removeAttribute('aria-busy');
  el.setAttribute('data-verdict', verdict);
  el.className = `verify-result verdict-${verdict}`;
  el.setAttribute('role', verdict === 'invalid' ? 'alert' : 'status');

  const rows: [MsgKey, string][] = view.fields
    ? [
        ['vfDocType', view.fields.doc_type],
        ['vfDocNumber', view.fields.doc_number],
        ['vfHolder', view.fields.holder_name],
        ['vfNik', view.fields.nik],
        ['vfBirthDate', isoToDisplayDate(String(view.fields.birth_date ?? ''))],
        ['vfIssuedOn', isoToDisplayDate(String(view.fields.issued_on ?? ''))],
        ['vfDistrict', view.fields.district],
        ['vfKeyId', view.fields.key_id],
        ['vfRevision', String(view.fields.revision ?? '')],
      ]
    : [];

  setChildren(
    el,
    h(
      'div',
      { class: 'verify-header' },
      h('span', { class: 'verify-icon', 'aria-hidden': 'true' }, ICON[verdict] ?? '?'),
      h('h3', { class: 'verify-title' }, view.title),
    ),
    h(
      'div',
      { class: 'verify-body' },
      verdict === 'invalid' && h('p', { class: 'verify-warn' }, t('verifyInvalidWarn')),
      view.reason && h('p', { class: 'verify-reason' }, view.reason),
      verdict === 'unreadable' && h('p', { class: 'verify-hint' }, t('verifyUnreadableHint')),
      fileName && h('p', { class: 'verify-file muted' }, t('verifyFileLabel', { name: fileName })),
      rows.length > 0 &&
        h(
          'table',
          { class: 'verify-fields' },
          h(
            'tbody',
            null,
            rows.map(([key, value]) =>
              h('tr', null, h('th', { scope: 'row' }, t(key)), h('td', { class: key === 'vfNik' || key === 'vfKeyId' || key === 'vfDocNumber' ? 'mono' : null }, value || '—')),
            ),
          ),
        ),
      h('p', { class: 'verify-note' }, t('verifyOffline')),
    ),
  );
}
