// Screen: verify a document file (PDF, or PNG/JPEG photo of its QR code).

import type { VerifyView } from './backend';
import { backend, reportError } from './app';
import { byId, h, readAsBase64 } from './dom';
import { t } from './i18n';
import { clearVerifyResult, renderVerifyBusy, renderVerifyResult } from './verifyResult';

const state: { result: { view: VerifyView; name: string } | null; busy: boolean } = { result: null, busy: false };

export function renderVerifyScreen(): HTMLElement {
  const input = h('input', {
    type: 'file',
    id: 'verify-file',
    accept: 'application/pdf,image/png,image/jpeg',
    onchange: (ev: Event) => {
      const file = (ev.target as HTMLInputElement).files?.[0];
      if (file) void verifyFile(file);
    },
  });
  const zone = h(
    'div',
    {
      id: 'verify-drop',
      class: 'drop-zone',
      ondragenter: (ev: Event) => onDrag(ev, true),
      ondragover: (ev: Event) => onDrag(ev, true),
      ondragleave: (ev: Event) => onDrag(ev, false),
      ondrop: (ev: Event) => {
        onDrag(ev, false);
        const file = (ev as DragEvent).dataTransfer?.files?.[0];
        if (file) void verifyFile(file);
      },
    },
    h('div', { class: 'drop-icon', 'aria-hidden': 'true' }, '⇩'),
    h('label', { for: 'verify-file', class: 'drop-label' }, t('dropZone')),
    input,
    h('div', { class: 'muted small' }, t('dropZoneTypes')),
  );
  const section = h(
    'section',
    { id: 'screen-verify', class: 'screen', 'aria-labelledby': 'verify-heading' },
    h(
      'div',
      { class: 'verify-layout' },
      h(
        'div',
        { class: 'panel' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'verify-heading' }, t('verifyTitle'))),
        h('p', { class: 'muted intro' }, t('verifyIntro')),
        zone,
      ),
      h('div', { id: 'verify-result', class: 'verify-result', 'aria-live': 'polite', tabindex: -1, hidden: true }),
    ),
  );
  queueMicrotask(() => {
    const el = byId('verify-result');
    if (el && state.result) renderVerifyResult(el, state.result.view, state.result.name);
  });
  return section;
}

function onDrag(ev: Event, over: boolean): void {
  ev.preventDefault();
  const zone = byId('verify-drop');
  zone?.classList.toggle('drag-over', over);
}


async function verifyFile(file: File): Promise<void> {
  const el = byId('verify-result');
  if (!el || state.busy) return;
  state.busy = true;
  state.result = null;
  renderVerifyBusy(el, t('verifying', { name: file.name }));
  try {
    const b64 = await readAsBase64(file);
    const view = await backend.verifyBytes(file.name, b64);
    state.result = { view, name: file.name };
    renderVerifyResult(el, view, file.name);
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  } catch (e) {
    clearVerifyResult(el);
    reportError(e);
  } finally {
    state.busy = false;
    // Allow choosing the same file again.
    const input = byId<HTMLInputElement>('verify-file');
    if (input) input.value = '';
  }
}

export function focusVerify(): void {
  byId('verify-file')?.focus();
}
