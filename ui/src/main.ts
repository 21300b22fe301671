// Loket UI entry point: top bar, navigation, screens, keyboard shortcuts.

import './style.css';
import { backend, ctx, renderErrorBanner, reportError } from './app';
import { byId, h, setChildren } from './dom';
import { getLang, setLang, t, type Lang, type MsgKey } from './i18n';
import { focusRegister, renderRegisterScreen } from './register';
import { refreshList, renderListScreen } from './list';
import { focusVerify, renderVerifyScreen } from './verify';
import { renderSettingsScreen } from './settings';

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
  if (!focus) return;
  if (screen === 'register') focusRegister();
  else if (screen === 'verify') focusVerify();
  else if (screen === 'settings') byId('f-server-url')?.focus();
  else byId('btn-sync')?.focus();
}

function applyLanguage(lang: Lang): void {
  setLang(lang);
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
  const m = /^(?:Digit|Numpad)([1-4])$/.exec(ev.code);
  const digit = m?.[1] ?? (/^[1-4]$/.test(ev.key) ? ev.key : null);
  const target = SCREENS.find((s) => s.key === digit);
  if (!target) return;
  ev.preventDefault();
  showScreen(target.id);
});

// ---------------------------------------------------------------------------
// Start

async function start(): Promise<void> {
  setLang('id');
  renderApp();
  focusRegister();
  if (!backend.available) return;
  try {
    ctx.info = await backend.appInfo();
    setLang(ctx.info.lang === 'en' ? 'en' : 'id');
    const active = document.activeElement?.id;
    renderApp();
    if (active) byId(active)?.focus();
    else focusRegister();
  } catch (e) {
    reportError(e);
  }
}

void start();
