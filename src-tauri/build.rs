fn main() {
    // The window embeds ui/dist at compile time; rebuild when the UI build changes, or a stale UI
    // would ship (tauri-build itself only watches tauri.conf.json and capabilities/).
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build()
}
