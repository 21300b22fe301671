import { defineConfig } from 'vite';

// Loket UI. Built into ui/dist, which the Tauri (Rust) side embeds.
// WebKitGTK 2.50 handles ES2021 comfortably; keep the target conservative.
export default defineConfig({
  base: './',
  clearScreen: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2021',
    cssTarget: 'es2021',
  },
  server: {
    port: 1420,
    strictPort: true,
  },
  preview: {
    port: 4173,
    strictPort: true,
  },
});
