// "Ambil dari kamera": photograph a paper document with the laptop's webcam, inside the window.
//
// Linux (WebKitGTK): works because src-tauri/src/camera.rs turns on `enable-media-stream` and
// allows camera-only requests from our own page. Without a webcam, WebKitGTK rejects with
// OverconstrainedError (observed with 2.50), not NotFoundError, so both mean "no camera" here.
// Windows (WebView2): the first call shows WebView2's own permission prompt; "Block" (or the
// Windows privacy switch for desktop apps) gives NotAllowedError.
//
// The strings live here rather than in i18n.ts so this module stands alone; callers pass the
// language ('id' | 'en', as getLang() returns).

import { h } from './dom';

export type CameraLang = 'id' | 'en';

const id = {
  title: 'Ambil foto dokumen',
  hint: 'Letakkan dokumen di permukaan rata yang terang, isi bingkai dengan dokumen, lalu tekan Potret.',
  starting: 'Membuka kamera…',
  capturing: 'Memotret…',
  take: 'Potret',
  cancel: 'Batal',
  close: 'Tutup',
  retry: 'Coba lagi',
  select: 'Kamera',
  unnamed: 'Kamera {n}',
  errNone: 'Tidak ada kamera yang terdeteksi. Sambungkan webcam, lalu tekan Coba lagi — atau pilih berkas hasil pindaian.',
  errDenied:
    'Akses ke kamera ditolak. Izinkan Loket memakai kamera (di jendela izin atau di pengaturan privasi kamera sistem), lalu tekan Coba lagi.',
  errBusy: 'Kamera sedang dipakai aplikasi lain atau tidak bisa dinyalakan. Tutup aplikasi lain yang memakai kamera, lalu tekan Coba lagi.',
  errUnsupported: 'Kamera tidak dapat dipakai di jendela ini. Pilih berkas hasil pindaian sebagai gantinya.',
  errOther: 'Kamera tidak dapat dibuka ({detail}).',
  errCapture: 'Foto gagal diambil. Tekan Coba lagi.',
};

/** The words of the camera overlay, by language. */
export type CameraKey = keyof typeof id;

/** Every string the overlay shows, in Bahasa Indonesia and English. */
export const cameraStrings: Record<CameraLang, Record<CameraKey, string>> = {
  id,
  en: {
    title: 'Photograph a document',
    hint: 'Lay the document on a flat, well-lit surface, fill the frame with it, then press Take photo.',
    starting: 'Opening the camera…',
    capturing: 'Taking the photo…',
    take: 'Take photo',
    cancel: 'Cancel',
    close: 'Close',
    retry: 'Try again',
    select: 'Camera',
    unnamed: 'Camera {n}',
    errNone: 'No camera was found. Connect a webcam and press Try again — or pick a scanned file instead.',
    errDenied:
      'Access to the camera was denied. Allow Loket to use the camera (in the permission prompt or the system camera privacy settings), then press Try again.',
    errBusy: 'The camera is in use by another application or could not be started. Close other applications using the camera, then press Try again.',
    errUnsupported: 'The camera cannot be used in this window. Pick a scanned file instead.',
    errOther: 'The camera could not be opened ({detail}).',
    errCapture: 'The photo could not be taken. Press Try again.',
  },
};

/** Why the camera could not be used, as shown to the operator. */
export type CameraProblem = 'none' | 'denied' | 'busy' | 'unsupported' | 'other';

/** Map a getUserMedia rejection to what the operator can do about it. */
export function classifyCameraError(err: unknown): CameraProblem {
  const name = errorName(err);
  switch (name) {
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    // WebKitGTK rejects with this when it has no capture device at all.
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return 'none';
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'denied';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    default:
      return 'other';
  }
}

/** The camera chosen last time (a webcam on a stand beats the built-in one). */
const DEVICE_KEY = 'loket.camera.deviceId';
const JPEG_QUALITY = 0.92;
/** Asked as "ideal", so the webview picks the largest mode the camera has (never an error). */
const IDEAL_SIZE = { width: { ideal: 4096 }, height: { ideal: 2160 } };
const REAR_LABEL = /\b(back|rear|environment|world|belakang)\b/i;

/**
 * Open an overlay inside `host` with a live preview of the webcam and let the operator take a
 * photo. Resolves to the JPEG bytes of one full-resolution frame, or `null` if the operator
 * cancelled (or the overlay was removed, e.g. by the idle lock). Never rejects: a missing camera
 * or a refused permission is explained inside the overlay. All camera tracks are stopped when it
 * closes. Put `host` inside the current screen so a re-render also closes the camera.
 */
export async function captureFromCamera(host: HTMLElement, lang: CameraLang): Promise<Uint8Array | null> {
  ensureStyle();
  const s = cameraStrings[lang];
  const previousFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;

  const video = h('video', { id: 'camera-video', class: 'cam-video', autoplay: true, muted: true, playsinline: true });
  video.muted = true; // the attribute alone does not always set the property
  const status = h('div', { id: 'camera-status', class: 'cam-status', 'aria-live': 'polite' }, s.starting);
  const stage = h('div', { class: 'cam-stage' }, video, status);
  const problem = h('div', { id: 'camera-problem', class: 'banner banner-error cam-problem', role: 'alert', hidden: true });
  const select = h('select', { id: 'camera-select' });
  const selectField = h('label', { class: 'cam-select', hidden: true }, h('span', null, s.select), select);
  const takeBtn = h('button', { id: 'camera-take', type: 'button', class: 'btn btn-primary btn-large', disabled: true }, s.take);
  const retryBtn = h('button', { id: 'camera-retry', type: 'button', class: 'btn', hidden: true }, s.retry);
  const cancelBtn = h('button', { id: 'camera-cancel', type: 'button', class: 'btn' }, s.cancel);
  const dialog = h(
    'div',
    { class: 'panel cam-dialog' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'camera-title' }, s.title)),
    h('p', { class: 'muted small cam-hint' }, s.hint),
    stage,
    problem,
    h('div', { class: 'cam-controls' }, selectField, h('span', { class: 'cam-spacer' }), cancelBtn, retryBtn, takeBtn),
  );
  const overlay = h('div', { id: 'camera-overlay', class: 'cam-overlay', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'camera-title' }, dialog);

  return new Promise<Uint8Array | null>((resolve) => {
    let stream: MediaStream | null = null;
    let finished = false;
    let attempt = 0; // a newer start (camera switch, retry) makes older ones give up

    const stopStream = (): void => {
      stream?.getTracks().forEach((track) => track.stop());
      stream = null;
      video.srcObject = null;
    };

    const finish = (result: Uint8Array | null): void => {
      if (finished) return;
      finished = true;
      attempt++;
      stopStream();
      observer.disconnect();
      overlay.remove();
      if (previousFocus?.isConnected) previousFocus.focus();
      resolve(result);
    };

    // If a re-render (screen switch, idle lock) removes the overlay, the camera must go off too.
    const observer = new MutationObserver(() => {
      if (!overlay.isConnected) finish(null);
    });

    const showStatus = (text: string | null): void => {
      status.hidden = text === null;
      status.textContent = text ?? '';
    };

    const showProblem = (kind: CameraProblem, err?: unknown, override?: string): void => {
      const text: Record<CameraProblem, string> = {
        none: s.errNone,
        denied: s.errDenied,
        busy: s.errBusy,
        unsupported: s.errUnsupported,
        other: s.errOther.replace('{detail}', errorDetail(err)),
      };
      stopStream();
      showStatus(null);
      problem.dataset.problem = kind;
      problem.replaceChildren(h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '!'), h('div', { class: 'banner-text' }, override ?? text[kind]));
      problem.hidden = false;
      stage.hidden = true; // a black box under the message would suggest a broken camera
      takeBtn.disabled = true;
      takeBtn.hidden = true;
      retryBtn.hidden = kind === 'unsupported';
      cancelBtn.textContent = s.close;
      (retryBtn.hidden ? cancelBtn : retryBtn).focus();
    };

    const clearProblem = (): void => {
      problem.hidden = true;
      stage.hidden = false;
      delete problem.dataset.problem;
      retryBtn.hidden = true;
      takeBtn.hidden = false;
      cancelBtn.textContent = s.cancel;
    };

    const start = async (deviceId: string | null): Promise<void> => {
      const mine = ++attempt;
      stopStream();
      clearProblem();
      takeBtn.disabled = true;
      showStatus(s.starting);
      const media = navigator.mediaDevices as MediaDevices | undefined;
      if (!media || typeof media.getUserMedia !== 'function') {
        showProblem('unsupported');
        return;
      }
      try {
        let next: MediaStream;
        try {
          next = await openStream(media, deviceId);
        } catch (e) {
          // A remembered camera that is gone: fall back to whatever is there.
          if (deviceId === null || classifyCameraError(e) !== 'none') throw e;
          localStorage.removeItem(DEVICE_KEY);
          next = await openStream(media, null);
        }
        if (finished || mine !== attempt) {
          next.getTracks().forEach((track) => track.stop());
          return;
        }
        stream = next;
        // Several cameras and none chosen yet: prefer one facing away from the operator.
        const cameras = await listCameras(media);
        if (finished || mine !== attempt) return;
        const current = next.getVideoTracks()[0]?.getSettings();
        if (deviceId === null && cameras.length > 1 && current?.facingMode !== 'environment') {
          const rear = cameras.find((c) => REAR_LABEL.test(c.label) && c.deviceId !== current?.deviceId);
          if (rear) {
            void start(rear.deviceId);
            return;
          }
        }
        fillSelector(cameras, current?.deviceId ?? null);
        video.srcObject = next;
        await video.play().catch(() => undefined); // muted video may always play; the frame wait below decides
        await firstFrame(video);
        if (finished || mine !== attempt) return;
        showStatus(null);
        takeBtn.disabled = false;
        takeBtn.focus();
      } catch (e) {
        if (finished || mine !== attempt) return;
        showProblem(classifyCameraError(e), e);
      }
    };

    const fillSelector = (cameras: MediaDeviceInfo[], currentId: string | null): void => {
      selectField.hidden = cameras.length < 2;
      select.replaceChildren(
        ...cameras.map((c, i) =>
          h('option', { value: c.deviceId }, c.label.trim() || s.unnamed.replace('{n}', String(i + 1))),
        ),
      );
      if (currentId) select.value = currentId;
    };

    const take = async (): Promise<void> => {
      const width = video.videoWidth;
      const height = video.videoHeight;
      if (!stream || width === 0 || height === 0) return;
      takeBtn.disabled = true;
      showStatus(s.capturing);
      try {
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('no 2d canvas');
        ctx.drawImage(video, 0, 0, width, height);
        const bytes = await canvasJpeg(canvas);
        if (!finished) finish(bytes);
      } catch (e) {
        if (finished) return;
        console.error('camera capture failed', e);
        showProblem('other', e, s.errCapture);
      }
    };

    takeBtn.addEventListener('click', () => void take());
    retryBtn.addEventListener('click', () => void start(localStorage.getItem(DEVICE_KEY)));
    cancelBtn.addEventListener('click', () => finish(null));
    select.addEventListener('change', () => {
      localStorage.setItem(DEVICE_KEY, select.value);
      void start(select.value);
    });
    overlay.addEventListener('keydown', (ev) => {
      // Keep the app's shortcuts (Alt+1..4 switch screens) from acting behind the dialog.
      ev.stopPropagation();
      if (ev.key === 'Escape') {
        ev.preventDefault();
        finish(null);
      } else if (ev.key === 'Tab') {
        trapFocus(overlay, ev);
      }
    });

    host.appendChild(overlay);
    observer.observe(document.body, { childList: true, subtree: true });
    cancelBtn.focus();
    void start(localStorage.getItem(DEVICE_KEY));
  });
}

function openStream(media: MediaDevices, deviceId: string | null): Promise<MediaStream> {
  const video: MediaTrackConstraints = deviceId
    ? { deviceId: { exact: deviceId }, ...IDEAL_SIZE }
    : { facingMode: { ideal: 'environment' }, ...IDEAL_SIZE };
  return media.getUserMedia({ video, audio: false });
}

async function listCameras(media: MediaDevices): Promise<MediaDeviceInfo[]> {
  try {
    return (await media.enumerateDevices()).filter((d) => d.kind === 'videoinput' && d.deviceId !== '');
  } catch {
    return [];
  }
}

/** Resolves once the video has a frame with a size (or after 5 s, leaving the button to judge). */
function firstFrame(video: HTMLVideoElement): Promise<void> {
  if (video.videoWidth > 0 && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      if (video.videoWidth === 0) return;
      window.clearTimeout(timer);
      video.removeEventListener('loadeddata', done);
      video.removeEventListener('resize', done);
      resolve();
    };
    const timer = window.setTimeout(() => {
      video.removeEventListener('loadeddata', done);
      video.removeEventListener('resize', done);
      resolve();
    }, 5000);
    video.addEventListener('loadeddata', done);
    video.addEventListener('resize', done);
  });
}

async function canvasJpeg(canvas: HTMLCanvasElement): Promise<Uint8Array> {
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY));
  let bytes: Uint8Array;
  if (blob) {
    bytes = new Uint8Array(await blob.arrayBuffer());
  } else {
    const url = canvas.toDataURL('image/jpeg', JPEG_QUALITY);
    const binary = atob(url.slice(url.indexOf(',') + 1));
    bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  // The contract is JPEG; a webview that silently fell back to PNG must not slip through.
  if (bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) {
    throw new Error('the webview did not encode JPEG');
  }
  return bytes;
}

/** DOMException, Error, or WebKit's OverconstrainedError (not always an Error): all have a name. */
function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
}

function errorDetail(err: unknown): string {
  const name = errorName(err);
  const message = typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : '';
  if (name || message) return [name, message].filter(Boolean).join(': ');
  return String(err ?? '?');
}

function trapFocus(root: HTMLElement, ev: KeyboardEvent): void {
  const focusable = Array.from(root.querySelectorAll<HTMLElement>('button, select')).filter(
    (el) => !(el as HTMLButtonElement).disabled && el.offsetParent !== null,
  );
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (!first || !last) return;
  if (ev.shiftKey && document.activeElement === first) {
    ev.preventDefault();
    last.focus();
  } else if (!ev.shiftKey && document.activeElement === last) {
    ev.preventDefault();
    first.focus();
  }
}

const STYLE_ID = 'loket-camera-style';

/** Layout of the overlay only; colours, buttons and banners come from style.css. */
function ensureStyle(): void {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = `
.cam-overlay { position: fixed; inset: 0; z-index: 1000; display: flex; align-items: center; justify-content: center;
  padding: 16px; background: rgba(28, 39, 51, 0.6); }
.cam-dialog { display: flex; flex-direction: column; gap: 10px; width: min(960px, 100%); max-height: 100%; margin: 0; }
.cam-hint { margin: 0; }
.cam-stage { position: relative; flex: 1 1 auto; min-height: 240px; display: flex; align-items: center; justify-content: center;
  background: #111; border-radius: var(--radius, 6px); overflow: hidden; }
.cam-video { display: block; width: 100%; max-height: calc(100vh - 260px); object-fit: contain; }
.cam-status { position: absolute; inset: auto 0 0 0; padding: 8px 12px; color: #fff; background: rgba(0, 0, 0, 0.55); text-align: center; }
.cam-problem { margin: 0; }
.cam-controls { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.cam-select { display: flex; align-items: center; gap: 8px; }
.cam-select select { max-width: 360px; }
.cam-spacer { flex: 1; }
`;
  document.head.appendChild(style);
}
