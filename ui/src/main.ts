// Loket UI entry point: top bar, navigation, screens, keyboard shortcuts.

import './style.css';
import { backend, ctx, renderErrorBanner, reportError } from './app';
import { byId, h, setChildren } from './dom';
import { getLang, setLang, t, type Lang, type MsgKey } from './i18n';
import { focusRegister, invalidateCatalogue, renderRegisterScreen } from './register';
import { refreshList, renderListScreen } from './list';
import { focusVerify, renderVerifyScreen } from './verify';
import { loadDrives, renderSettingsScreen } from './settings';
import { renderFirstRun, renderLogin } from './session';
import type { SessionInfo } from './backend';

type Screen = 'register' | 'list' | 'verify' | 'settings';

const SCREENS: { id: Screen; label: MsgKey; key: string }[] = [
  { id: 'register', label: 'navRegister', key: '1' },
  { id: 'list', label: 'navList', key: '2' },
  { id: 'verify', label: 'navVerify', key: '3' },
  { id: 'settings', label: 'navSettings', key: '4' },
];

let current: Screen = 'register';

// ---------------------------------------------------------------------------
// Rendering

function renderTopBar(): HTMLElement {
  const info = ctx.info;
  const lang = getLang();
  const langBtn = (l: Lang, label: string): HTMLElement =>
    h(
      'button',
      {
        type: 'button',
        id: `lang-${l}`,
        class: 'lang-btn' + (lang === l ? ' active' : ''),
        'aria-pressed': lang === l ? 'true' : 'false',
        lang: l,
        title: l === 'id' ? t('langId') : t('langEn'),
        onclick: () => void changeLanguage(l),
      },
      label,
    );
  return h(
    'header',
    { class: 'topbar' },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'L'),
      h('div', null, h('h1', { class: 'brand-name' }, t('appName')), h('div', { class: 'brand-sub' }, t('appSubtitle'))),
    ),
    h(
      'dl',
      { class: 'topbar-info' },
      h(
        'div',
        null,
        h('dt', null, t('village')),
        h('dd', { id: 'top-village' }, info ? [info.village_name, ' ', h('span', { class: 'mono code' }, info.village_code)] : '—'),
      ),
      h('div', null, h('dt', null, t('device')), h('dd', { id: 'top-device', class: 'mono' }, info ? String(info.device_no) : '—')),
      h('div', { class: 'topbar-server' }, h('dt', null, t('server')), h('dd', { id: 'top-server', class: 'mono', title: info?.server_url ?? '' }, info?.server_url || '—')),
      info?.operator ? h('div', null, h('dt', null, t('operator')), h('dd', { id: 'top-operator' }, info.operator)) : null,
    ),
    h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('language') }, langBtn('id', 'ID'), langBtn('en', 'EN')),
    h(
      'button',
      {
        type: 'button',
        id: 'btn-lock',
        class: 'btn btn-small btn-ghost lock-btn',
        title: t('btnLockTitle', { minutes: String(session.idleMinutes) }),
        onclick: () => void lockNow(),
      },
      t('btnLock'),
    ),
  );
}

function renderNav(): HTMLElement {
  return h(
    'nav',
    { class: 'nav', 'aria-label': 'Menu' },
    SCREENS.map((s) =>
      h(
        'button',
        {
          type: 'button',
          id: `nav-${s.id}`,
          class: 'nav-btn',
          'aria-keyshortcuts': `Alt+${s.key}`,
          onclick: () => showScreen(s.id),
        },
        h('span', { class: 'nav-label' }, t(s.label)),
        h('kbd', { class: 'nav-kbd', 'aria-hidden': 'true' }, `Alt+${s.key}`),
      ),
    ),
    h('span', { class: 'nav-hint muted' }, t('shortcutsHint')),
  );
}

function renderApp(): void {
  const root = byId('app');
  if (!root) return;
  document.title = ctx.info ? `${t('appName')} — ${ctx.info.village_name}` : t('appName');
  setChildren(
    root,
    renderTopBar(),
    renderNav(),
    backend.available ? null : h('div', { id: 'backend-banner', class: 'banner banner-warning', role: 'alert' }, h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '!'), h('div', { class: 'banner-text' }, t('backendUnavailable'))),
    h('div', { id: 'error-banner', class: 'banner banner-error', role: 'alert', hidden: true }),
    h(
      'main',
      { id: 'main', class: 'main' },
      renderRegisterScreen(),
      renderListScreen(),
      renderVerifyScreen(),
      renderSettingsScreen((lang) => {
        applyLanguage(lang);
      }),
    ),
  );
  renderErrorBanner();
  showScreen(current, { focus: false, refresh: false });
}

function showScreen(screen: Screen, opts: { focus?: boolean; refresh?: boolean } = {}): void {
  const { focus = true, refresh = true } = opts;
  current = screen;
  for (const s of SCREENS) {
    const section = byId(`screen-${s.id}`);
    const nav = byId(`nav-${s.id}`);
    if (section) section.hidden = s.id !== screen;
    if (nav) {
      nav.classList.toggle('active', s.id === screen);
      if (s.id === screen) nav.setAttribute('aria-current', 'page');
      else nav.removeAttribute('aria-current');
    }
  }
  if (screen === 'list' && refresh) void refreshList();
  if (screen === 'settings' && refresh) void loadDrives();
  if (!focus) return;
  if (screen === 'register') focusRegister();
  else if (screen === 'verify') focusVerify();
  else if (screen === 'settings') byId('f-server-url')?.focus();
  else byId('btn-sync')?.focus();
}

function applyLanguage(lang: Lang): void {
  setLang(lang);
  // Service names and labels come from the catalogue in the chosen language.
  invalidateCatalogue();
  renderApp();
}

async function changeLanguage(lang: Lang): Promise<void> {
  if (lang === getLang()) return;
  if (!ctx.info) {
    // No backend info: switch locally only (nothing can be persisted).
    applyLanguage(lang);
    return;
  }
  try {
    ctx.info = await backend.setSettings({ serverUrl: ctx.info.server_url, lang });
    applyLanguage(ctx.info.lang === 'en' ? 'en' : 'id');
  } catch (e) {
    reportError(e);
  }
  byId(`lang-${getLang()}`)?.focus();
}

// ---------------------------------------------------------------------------
// Keyboard: Alt+1..4 switch screens (use the physical key so layouts don't matter).

document.addEventListener('keydown', (ev) => {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  // Alt+L: the service picker, Alt+P: the resident picker (on the register screen).
  const field = ev.code === 'KeyL' ? 'f-service' : ev.code === 'KeyP' ? 'resident-search' : null;
  if (field) {
    ev.preventDefault();
    if (current !== 'register') showScreen('register');
    byId(field)?.focus();
    return;
  }
  const m = /^(?:Digit|Numpad)([1-4])$/.exec(ev.code);
  const digit = m?.[1] ?? (/^[1-4]$/.test(ev.key) ? ev.key : null);
  const target = SCREENS.find((s) => s.key === digit);
  if (!target) return;
  ev.preventDefault();
  showScreen(target.id);
});

// ---------------------------------------------------------------------------
// Session: first run, login, lock (button, idle timer, or Rust saying "locked").

const session: { unlocked: boolean; idleMinutes: number; lastUser: string | null; timer: number | null } = {
  unlocked: false,
  idleMinutes: 10,
  lastUser: null,
  timer: null,
};

function resetIdleTimer(): void {
  if (session.timer !== null) window.clearTimeout(session.timer);
  session.timer = null;
  if (!session.unlocked) return;
  session.timer = window.setTimeout(() => void lockNow(), session.idleMinutes * 60_000);
}

for (const ev of ['keydown', 'pointerdown', 'wheel', 'input'] as const) {
  document.addEventListener(ev, () => resetIdleTimer(), { capture: true, passive: true });
}

function showLocked(): void {
  session.unlocked = false;
  resetIdleTimer();
  ctx.info = null;
  ctx.lastError = null;
  document.title = t('appName');
  const root = byId('app');
  if (root) renderLogin(root, session.lastUser, (s) => void onUnlocked(s));
}

async function lockNow(): Promise<void> {
  try {
    await backend.logout();
  } catch {
    // Locking the screen must happen even if Rust cannot answer.
  }
  showLocked();
}

ctx.onLocked = showLocked;

async function onUnlocked(s: SessionInfo): Promise<void> {
  session.unlocked = true;
  session.idleMinutes = s.idle_minutes;
  session.lastUser = s.operator?.username ?? session.lastUser;
  resetIdleTimer();
  current = 'register';
  try {
    ctx.info = await backend.appInfo();
    setLang(ctx.info.lang === 'en' ? 'en' : 'id');
  } catch (e) {
    reportError(e);
  }
  renderApp();
  focusRegister();
}

function showSession(s: SessionInfo): void {
  setLang(s.lang === 'en' ? 'en' : 'id');
  session.idleMinutes = s.idle_minutes;
  const root = byId('app');
  if (!root) return;
  if (s.state === 'unlocked') void onUnlocked(s);
  else if (s.state === 'first_run') renderFirstRun(root, s, (next) => void onUnlocked(next));
  else showLocked();
}

// ---------------------------------------------------------------------------
// Start

async function start(): Promise<void> {
  setLang('id');
  if (!backend.available) {
    renderApp();
    focusRegister();
    return;
  }
  try {
    showSession(await backend.sessionState());
  } catch (e) {
    renderApp();
    reportError(e);
  }
}

void start();
