import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // `node build` serves the app (PORT/HOST, as adapter-node documents).
    adapter: adapter({ out: 'build', precompress: true }),
    // Inline small CSS so the first paint needs no second round trip (weak phone connections).
    inlineStyleThreshold: 4096,
    // The Web Push service worker is registered only when a reader asks for browser notifications.
    serviceWorker: { register: false },
  },
};
