import { type InfluxDBHandle, type MosquittoHandle, startInfluxDB, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../src/loadgen';
import { countStored, LatencyProber, percentile, readCpuSeconds, readMem, waitForQuiesce } from '../src/measure';
import { connectRawPublisher } from '../src/raw-publisher';

describe('measure', () => {
  it('percentile picks the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('reads CPU time and RSS of a live process, undefined for a missing one', () => {
    const cpu = readCpuSeconds(process.pid);
    expect(cpu).toBeGreaterThan(0);
    const mem = readMem(process.pid);
    expect(mem?.rssKb).toBeGreaterThan(1000);
    expect(mem!.hwmKb).toBeGreaterThanOrEqual(mem!.rssKb);
    expect(readCpuSeconds(2 ** 22 + 1)).toBeUndefined();
  });
});

describe('with mosquitto and influxd', () => {
  let mosq: MosquittoHandle;
  let influx: InfluxDBHandle;
  beforeAll(async () => {
    [mosq, influx] = await Promise.all([startMosquitto(), startInfluxDB({ database: 'bench' })]);
  });
  afterAll(async () => {
    await Promise.all([mosq?.stop(), influx?.stop()]);
  });

  it('the raw publisher delivers QoS 1 messages intact and counts their PUBACKs', async () => {
    const sub = mqtt.connect(mosq.url, { clientId: 'raw-test-sub' });
    const got: string[] = [];
    sub.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await sub.subscribeAsync('raw/#', { qos: 1 });
    const pub = await connectRawPublisher(mosq.url, 'raw-test-pub');
    const long = 'x'.repeat(300); // remaining length needs two bytes
    for (let i = 0; i < 1000; i++) pub.publish(`raw/${i % 7}`, i === 500 ? long : `{"i":${i},"th":"ฝุ่น"}`);
    pub.flush();
    const deadline = Date.now() + 10_000;
    while ((pub.acked < 1000 || got.length < 1000) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(pub.acked).toBe(1000);
    expect(got).toHaveLength(1000);
    expect(got[0]).toBe('raw/0 {"i":0,"th":"ฝุ่น"}');
    expect(got[500]).toBe(`raw/3 ${long}`);
    await pub.end();
    await sub.endAsync();
  });

  it('loadgen keeps a modest schedule with unique (device, ts), and the prober sees the samples', async () => {
    const devices = ['dev-a', 'dev-b', 'dev-c'];
    const sub = mqtt.connect(mosq.url, { clientId: 'loadgen-test-sub' });
    const seen = new Set<string>();
    let lines: string[] = [];
    sub.on('message', (topic, payload) => {
      const device = topic.split('/')[4]!;
      const m = JSON.parse(payload.toString());
      seen.add(`${device}@${m.ts}`);
      lines.push(`reading,city=t,station=${device},device=${device} pm25=${m.values.pm25},seq=${m.seq}i,qc="" ${m.ts}`);
    });
    await sub.subscribeAsync('cnx/v1/t/devices/+/telemetry', { qos: 1 });
    const flusher = setInterval(() => {
      if (lines.length === 0) return;
      const body = lines.join('\n');
      lines = [];
      void influx.write(body);
    }, 50);
    const prober = new LatencyProber(influx.url, 'bench', 25, 20, 100);
    prober.start();
    const r = await runLoad({
      url: mosq.url,
      city: 't',
      deviceIds: devices,
      rate: 600,
      durationS: 2,
      clients: 2,
      sampleEvery: 50,
      onSamples: (s) => prober.add(s),
    });
    expect(r.planned).toBe(1200);
    expect(r.sent).toBe(1200);
    expect(r.acked).toBe(1200);
    expect(r.achievedRate).toBe(600);
    const q = await waitForQuiesce(() => countStored(influx.url, 'bench', r.startedAt, r.maxTs + 1), r.acked, {
      maxMs: 10_000,
    });
    clearInterval(flusher);
    await prober.stop();
    expect(seen.size).toBe(1200); // (device, ts) unique
    expect(q.count).toBe(1200);
    const lat = prober.summary();
    expect(lat.samples).toBeGreaterThanOrEqual(20);
    expect(lat.unseen).toBe(0);
    expect(lat.p50Ms).toBeGreaterThan(0);
    await sub.endAsync();
  });
});
