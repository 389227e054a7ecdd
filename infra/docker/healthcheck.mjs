// The image's HEALTHCHECK (infra/docker/Dockerfile): GET /readyz on the app's own HTTP port, read
// from the same variable and default the app uses, so an overridden port is still checked. Exit 0
// when it answers 2xx, 1 otherwise (Docker's healthy / unhealthy). CNX_APP is set by the image.
const env = process.env;
const ports = {
  gateway: env.GATEWAY_HTTP_PORT || '8081',
  api: env.API_PORT || '8080',
  alerts: env.ALERTS_HTTP_PORT || '8082',
  dashboard: env.PORT || '3000',
};
const app = env.CNX_APP ?? '';
const port = Object.hasOwn(ports, app) ? ports[app] : undefined;
if (!port) {
  console.error(`healthcheck: CNX_APP must be one of ${Object.keys(ports).join(', ')}`);
  process.exit(1); // Docker reserves exit code 2
}
fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(4000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
