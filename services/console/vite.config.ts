import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console is served by the control plane under /console/ (everything bundled, nothing from a
 * CDN). `npm run dev -w @livescope/console` serves it with hot reload and proxies the API to
 * LIVESCOPE_API_URL (default http://127.0.0.1:8787).
 */
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: { host: '127.0.0.1', proxy: Object.fromEntries(['/v1', '/auth'].map((p) => [p, process.env.LIVESCOPE_API_URL ?? 'http://127.0.0.1:8787'])) },
});
