//! Lets the window's own page use the webcam, for "Ambil dari kamera" (`ui/src/camera.ts`).
//!
//! - **Linux (WebKitGTK):** `navigator.mediaDevices` is gated by the WebKit setting
//!   `enable-media-stream` (on by default in WebKitGTK 2.50, off in older releases), and WebKitGTK
//!   denies every permission request the embedding app does not answer (wry connects no handler
//!   unless Tauri's permission hook is used, and that hook is not told which page asks). So this
//!   module turns the setting on and answers `permission-request` itself: camera-only requests
//!   (`UserMediaPermissionRequest` for video and not audio) and device-list requests
//!   (`DeviceInfoPermissionRequest`, so the camera selector can show names) are allowed while the
//!   main frame shows our own page (`tauri://localhost`); any other media request is denied;
//!   other kinds (geolocation, notifications…) keep WebKit's default, which is to deny. Without
//!   any capture device WebKitGTK rejects `getUserMedia` with `OverconstrainedError` before it
//!   asks for permission. Debug builds honour `LOKET_FAKE_CAMERA=1` (WebKit's test-pattern
//!   cameras) for the end-to-end test.
//! - **Windows (WebView2):** nothing is done here. The API is present (the page is
//!   `http://tauri.localhost`, a secure context for Chromium); the first `getUserMedia` shows
//!   WebView2's own Allow/Block prompt, and WebView2 saves the answer for the origin in its
//!   profile (`EBWebView` in the app's local data folder), so a "Block" keeps failing with
//!   `NotAllowedError` without asking again. Windows' privacy switch "Let desktop apps access
//!   your camera" being off gives `NotAllowedError` too.

use tauri::WebviewWindow;

/// Called once when the main window exists so the page can open the webcam (video only).
pub fn enable_camera(window: &WebviewWindow) -> tauri::Result<()> {
    #[cfg(target_os = "linux")]
    return linux::enable(window);
    #[cfg(not(target_os = "linux"))]
    {
        // WebView2 asks the operator itself (see the module documentation).
        let _ = window;
        Ok(())
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use tauri::WebviewWindow;
    use webkit2gtk::glib::prelude::*;
    use webkit2gtk::{
        DeviceInfoPermissionRequest, PermissionRequest, PermissionRequestExt, SettingsExt,
        UserMediaPermissionRequest, UserMediaPermissionRequestExt, WebView, WebViewExt,
    };

    pub(super) fn enable(window: &WebviewWindow) -> tauri::Result<()> {
        window.with_webview(|platform| {
            let webview = platform.inner();
            if let Some(settings) = WebViewExt::settings(&webview) {
                // On by default in WebKitGTK 2.50, off in older releases; the page needs it.
                settings.set_enable_media_stream(true);
                // Debug builds only: WebKit's two test-pattern cameras, so the end-to-end test
                // can photograph without a webcam. Release builds ignore the variable.
                if cfg!(debug_assertions)
                    && std::env::var_os("LOKET_FAKE_CAMERA").is_some_and(|v| v == "1")
                {
                    settings.set_enable_mock_capture_devices(true);
                }
            }
            webview.connect_permission_request(answer);
        })
    }

    /// `true` = answered here; `false` = WebKit's default, which denies.
    fn answer(webview: &WebView, request: &PermissionRequest) -> bool {
        let own_page = webview.uri().is_some_and(|uri| is_own_page(&uri));
        if let Some(media) = request.downcast_ref::<UserMediaPermissionRequest>() {
            // Screen capture asks for neither device, so it is denied here too.
            if own_page && media.is_for_video_device() && !media.is_for_audio_device() {
                request.allow();
            } else {
                request.deny();
            }
            return true;
        }
        if request.is::<DeviceInfoPermissionRequest>() {
            if own_page {
                request.allow();
            } else {
                request.deny();
            }
            return true;
        }
        false
    }

    /// Our bundled UI, as WebKitGTK names it (`tauri://localhost/…`); nothing else gets the camera.
    fn is_own_page(uri: &str) -> bool {
        tauri::Url::parse(uri).is_ok_and(|url| {
            url.scheme() == "tauri" && url.host_str() == Some("localhost") && url.port().is_none()
        })
    }

    #[cfg(test)]
    mod tests {
        use super::is_own_page;

        #[test]
        fn only_the_bundled_ui_is_our_page() {
            assert!(is_own_page("tauri://localhost"));
            assert!(is_own_page("tauri://localhost/index.html#verify"));
            assert!(!is_own_page("tauri://localhost.evil.example/"));
            assert!(!is_own_page("tauri://localhost:8080/"));
            assert!(!is_own_page("http://localhost/"));
            assert!(!is_own_page("https://tauri.localhost/"));
            assert!(!is_own_page("about:blank"));
            assert!(!is_own_page(""));
        }
    }
}
