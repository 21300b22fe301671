// Shared application context: the backend instance, the device info and the
// global error banner.

import { createBackend, toAppError, type AppInfo } from './backend';
import { byId, h, setChildren } from './dom';
import { t } from './i18n';

export const backend = createBackend();

export const ctx: { info: AppInfo | null; lastError: string | null; onLocked: (() => void) | null } = {
  info: null,
  lastError: null,
  // Set by main.ts: shows the login screen when Rust says the session is locked.
  onLocked: null,
};

/** Show `message` in the global error banner (stays until closed or replaced). */
export function showError(message: string): void {
  ctx.lastError = message;
  renderErrorBanner();
}

/** Show any rejected-promise value in the error banner; returns its message. */
export function reportError(e: unknown): string {
  const { code, message } = toAppError(e);
  if (code === 'locked' && ctx.onLocked) {
    ctx.onLocked();
    return message;
  }
  // Without a backend the permanent "Backend tidak tersedia" banner already says it all.
  if (!(code === 'backend_unavailable' && !backend.available)) showError(message);
  return message;
}

export function clearError(): void {
  ctx.lastError = null;
  renderErrorBanner();
}

export function renderErrorBanner(): void {
  const el = byId('error-banner');
  if (!el) return;
  if (!ctx.lastError) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.hidden = false;
  setChildren(
    el,
    h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '!'),
    h('div', { class: 'banner-text' }, h('strong', null, t('errorTitle')), ' ', h('span', { id: 'error-message' }, ctx.lastError)),
    h('button', { type: 'button', class: 'btn btn-small btn-ghost', id: 'error-close', onclick: () => clearError() }, t('close')),
  );
}
