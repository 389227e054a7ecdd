/**
 * The API bench's baseline: a bare fastify hello-world (same fastify as apps/api, no plugins, no
 * logging), run as its own process like the API. Port from API_PORT.
 */
import Fastify from 'fastify';

const port = Number(process.env.API_PORT ?? 8081);
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port });
console.log(`api-hello: listening on ${port}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
