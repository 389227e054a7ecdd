// Static validation of infra/k8s (no cluster runs here). Every object of every manifest is
//   1. validated against the Kubernetes API schema of its kind by kubernetes-models (types,
//      required fields, enums, formats: the models' JSON schemas, compiled with ajv);
//   2. checked for unknown fields by the TypeScript compiler: the objects are written out as typed
//      literals (`const o: IStatefulSet = {...}`) and tsc's excess-property check rejects any field
//      the Kubernetes types do not have (the schemas alone accept unknown fields);
//   3. checked for the deployment's own rules (probes, resources, PDBs, one alerts sender, the
//      share group and EMQX's hash strategy, selectors matching, references resolving);
// and yamllint runs on the folder. Missing tools fail with the package to install.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadApiConfig } from '@cnx/api';
import { loadGatewayConfig } from '@cnx/gateway';
import { makeTempDir, removeDir, requireBinary } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = path.join(repoRoot, 'infra/k8s');
const run = promisify(execFile);

// Imported by a computed name: tsc would otherwise type-check all of apps/alerts under this
// workspace's settings, where its fetch body types differ (DOM lib from the browser-test packages).
const alertsModule: string = '@cnx/alerts';
const { loadAlertsConfig } = (await import(alertsModule)) as {
  loadAlertsConfig: (env: Record<string, string | undefined>) => unknown;
};

// biome-ignore lint/suspicious/noExplicitAny: manifests are arbitrary YAML, checked field by field
type Obj = Record<string, any>;
interface Loaded {
  file: string;
  obj: Obj;
}

function load(): Loaded[] {
  const out: Loaded[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as Obj | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

/** `apps/v1` + `StatefulSet` -> the kubernetes-models module path `apps/v1/StatefulSet`. */
const modelPath = (o: Obj) => `kubernetes-models/${o.apiVersion}/${o.kind}`;
const where = (l: Loaded) => `${l.file}: ${l.obj.kind}/${l.obj.metadata?.name}`;

describe('infra/k8s manifests', () => {
  const all = load();
  const of = (kind: string) => all.filter((l) => l.obj.kind === kind);
  const workloads = [...of('Deployment'), ...of('StatefulSet')];
  const named = (kind: string, name: string) =>
    all.find((l) => l.obj.kind === kind && l.obj.metadata.name === name)?.obj;
  let work: string;

  beforeAll(async () => {
    work = await makeTempDir('cnx-k8s-');
  });
  afterAll(async () => {
    if (work) await removeDir(work);
  });

  it('kustomization.yaml lists every manifest but the secrets example', () => {
    const k = parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as Obj;
    const files = readdirSync(dir).filter(
      (f) => f.endsWith('.yaml') && !['kustomization.yaml', 'secrets.example.yaml'].includes(f),
    );
    expect([...k.resources].sort()).toEqual(files.sort());
  });

  it('every object validates against its Kubernetes schema (kubernetes-models)', async () => {
    expect(all.length).toBeGreaterThan(15);
    const problems: string[] = [];
    for (const l of all) {
      const mod = (await import(modelPath(l.obj))) as Record<string, new (o: Obj) => { validate(): void }>;
      const Model = mod[l.obj.kind];
      if (!Model) throw new Error(`${modelPath(l.obj)} exports no ${l.obj.kind}`);
      try {
        new Model(l.obj).validate();
      } catch (error) {
        problems.push(`${where(l)}: ${(error as Error).message}`);
      }
      if (l.obj.kind !== 'Namespace') expect(l.obj.metadata.namespace, where(l)).toBe('cnx');
    }
    expect(problems).toEqual([]);
  });

  it('no object has a field its Kubernetes type lacks (tsc excess-property check)', async () => {
    const lines = all.map((l, i) => {
      const type = `I${l.obj.kind}`;
      return `import type { ${type} as T${i} } from '${modelPath(l.obj)}';\n// ${where(l)}\nexport const o${i}: T${i} = ${JSON.stringify(l.obj, null, 1)};`;
    });
    writeFileSync(path.join(work, 'manifests.ts'), `${lines.join('\n')}\n`);
    writeFileSync(
      path.join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          module: 'esnext',
          moduleResolution: 'bundler',
          target: 'es2022',
          baseUrl: work,
          paths: { 'kubernetes-models/*': [path.join(repoRoot, 'node_modules/kubernetes-models/*')] },
        },
        files: ['manifests.ts'],
      }),
    );
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', work]).catch((e: { stdout: string }) => e);
    expect(result.stdout.trim(), 'tsc reported unknown or mistyped fields').toBe('');
  }, 120_000);

  it('yamllint accepts the folder', async () => {
    const yamllint = requireBinary('yamllint', 'yamllint');
    await run(yamllint, ['-s', '-c', path.join(repoRoot, '.yamllint.yaml'), dir]);
  });

  it('every container has startup, liveness and readiness probes on its own ports, resources, no escalation', () => {
    for (const w of workloads) {
      const spec = w.obj.spec;
      for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(spec.template.metadata.labels[k]).toBe(v);
      expect(spec.template.spec.securityContext?.runAsNonRoot, where(w)).toBe(true);
      for (const c of spec.template.spec.containers as Obj[]) {
        const ports = new Set((c.ports ?? []).map((p: Obj) => p.name));
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const p = c[probe];
          expect(p, `${where(w)} ${c.name} ${probe}`).toBeDefined();
          const port = p.httpGet?.port ?? p.tcpSocket?.port;
          expect(ports.has(port), `${where(w)} ${probe} port ${port}`).toBe(true);
        }
        expect(c.resources?.requests?.cpu, where(w)).toBeDefined();
        expect(c.resources?.limits?.memory, where(w)).toBeDefined();
        expect(c.securityContext?.allowPrivilegeEscalation, where(w)).toBe(false);
      }
    }
  });

  it("the apps' liveness is /livez (never the broker or the store), readiness /readyz", () => {
    const apps = ['cnx-gateway', 'cnx-api', 'cnx-alerts', 'cnx-dashboard'];
    const seen: string[] = [];
    for (const w of workloads)
      for (const c of w.obj.spec.template.spec.containers as Obj[]) {
        const image = String(c.image);
        if (!apps.some((a) => image.includes(`/${a}:`))) continue;
        seen.push(c.name);
        expect(c.startupProbe.httpGet?.path, `${where(w)} startup`).toBe('/livez');
        expect(c.livenessProbe.httpGet?.path, `${where(w)} liveness`).toBe('/livez');
        expect(c.readinessProbe.httpGet?.path, `${where(w)} readiness`).toBe('/readyz');
      }
    expect(seen.sort()).toEqual(['alerts', 'api', 'dashboard', 'gateway']);
  });

  it('Services select a workload; envFrom and volumes reference objects that exist', () => {
    const secretKeys = new Set(['cnx-secrets', 'cnx-staff', 'emqx-tls']); // created by the operator
    expect(Object.keys(named('Secret', 'cnx-secrets')?.stringData ?? {})).toContain('INFLUX_TOKEN');
    for (const s of of('Service')) {
      const matches = workloads.filter((w) =>
        Object.entries(s.obj.spec.selector).every(([k, v]) => w.obj.spec.template.metadata.labels[k] === v),
      );
      expect(matches.length, where(s)).toBe(1);
    }
    for (const w of workloads) {
      const pod = w.obj.spec.template.spec;
      for (const c of pod.containers as Obj[]) {
        for (const e of c.envFrom ?? []) {
          if (e.configMapRef) expect(named('ConfigMap', e.configMapRef.name), where(w)).toBeDefined();
          if (e.secretRef) expect(secretKeys.has(e.secretRef.name), where(w)).toBe(true);
        }
      }
      for (const v of pod.volumes ?? []) {
        if (v.configMap) expect(named('ConfigMap', v.configMap.name), where(w)).toBeDefined();
        if (v.secret) expect(secretKeys.has(v.secret.secretName), where(w)).toBe(true);
      }
    }
  });

  it('several gateways in one share group behind EMQX hash_clientid; several APIs; PDBs for each', () => {
    const cfg = named('ConfigMap', 'cnx-config')?.data;
    expect(cfg.GATEWAY_MQTT_SHARE_GROUP).toBe('gateways');
    expect(cfg.INFLUX_VERSION).toBe('3');
    const emqx = named('StatefulSet', 'emqx');
    const env = Object.fromEntries(emqx?.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value]));
    expect(env.EMQX_BROKER__SHARED_SUBSCRIPTION_STRATEGY).toBe('hash_clientid');
    expect(emqx?.spec.replicas).toBeGreaterThanOrEqual(3);
    expect(named('StatefulSet', 'gateway')?.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(named('Deployment', 'api')?.spec.replicas).toBeGreaterThanOrEqual(2);
    for (const name of ['emqx', 'gateway', 'api', 'dashboard']) {
      const pdb = of('PodDisruptionBudget').find(
        (p) => p.obj.spec.selector.matchLabels['app.kubernetes.io/name'] === name,
      );
      expect(pdb, `PDB for ${name}`).toBeDefined();
    }
  });

  it("each app's own configuration check accepts the environment its pod gets", () => {
    // envFrom (cnx-config, the example cnx-secrets) + the container's env, as the kubelet builds it.
    const staff = path.join(repoRoot, 'infra/compose/secrets.example/staff.json');
    const podEnv = (kind: string, name: string): Record<string, string> => {
      const c = named(kind, name)?.spec.template.spec.containers[0];
      const out: Record<string, string> = {};
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef) Object.assign(out, named('ConfigMap', e.configMapRef.name)?.data);
        if (e.secretRef) Object.assign(out, named('Secret', e.secretRef.name)?.stringData);
      }
      for (const e of c.env ?? []) if (e.value !== undefined) out[e.name] = e.value;
      return out;
    };
    expect(() => loadGatewayConfig(podEnv('StatefulSet', 'gateway'))).not.toThrow();
    expect(() => loadApiConfig(podEnv('Deployment', 'api'))).not.toThrow();
    const alerts = podEnv('StatefulSet', 'alerts');
    expect(alerts.ALERTS_STAFF_FILE).toBe('/etc/cnx/staff/staff.json');
    expect(() => loadAlertsConfig({ ...alerts, ALERTS_STAFF_FILE: staff })).not.toThrow();
  });

  it('alerts: one replica of a StatefulSet on a ReadWriteOncePod volume, and no PDB that blocks drains', () => {
    const alerts = named('StatefulSet', 'alerts');
    expect(alerts?.spec.replicas).toBe(1);
    expect(alerts?.spec.volumeClaimTemplates[0].spec.accessModes).toEqual(['ReadWriteOncePod']);
    expect(of('Deployment').map((d) => d.obj.metadata.name)).not.toContain('alerts');
    const pdb = of('PodDisruptionBudget').find(
      (p) => p.obj.spec.selector.matchLabels['app.kubernetes.io/name'] === 'alerts',
    );
    expect(pdb).toBeUndefined();
  });
});
