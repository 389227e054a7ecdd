/**
 * Over a real socket: the request bytes are those the firmware's HTTP client writes, in its order
 * (ESP8266HTTPClient::sendHeader(): request line, Host (with the port when it is not 80/443),
 * User-Agent, Connection: close (setReuse(false)), Accept-Encoding, Authorization when a user or
 * password is set, then the headers added by sendData() and Content-Length).
 */

import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPTURED_BODY,
  CHIP,
  DEVICE,
  firmwareBody,
  type PushHarness,
  pushHarness,
  removeTempDirs,
  VERSION,
} from './helpers';

const MAC = 'a0b1c2d3e4f5';

function firmwareRequest(
  port: number,
  body: string,
  opts: { sensor?: string; pin?: number; user?: string; password?: string } = {},
): string {
  const sensor = opts.sensor ?? `esp8266-${CHIP}`;
  const chip = sensor.slice(sensor.indexOf('-') + 1);
  let head = `POST /push/airrohr HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
  head += `User-Agent: ${VERSION}/${chip}/${MAC}\r\nConnection: close\r\n`;
  head += 'Accept-Encoding: identity;q=1,chunked;q=0.1,*;q=0\r\n';
  if (opts.user !== undefined || opts.password !== undefined) {
    head += `Authorization: Basic ${Buffer.from(`${opts.user ?? ''}:${opts.password ?? ''}`).toString('base64')}\r\n`;
  }
  head += `Content-Type: application/json\r\nX-Sensor: ${sensor}\r\nX-MAC-ID: esp8266-${MAC}\r\n`;
  if (opts.pin) head += `X-PIN: ${opts.pin}\r\n`;
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return head + body;
}

/** Send raw bytes, read until the server closes (Connection: close), split status and JSON body. */
function exchange(port: number, request: string): Promise<{ status: number; headers: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]);
      resolve({ status, headers, body: JSON.parse(text.slice(split + 4)) });
    });
    socket.write(request);
  });
}

describe('airrohr push over real HTTP', () => {
  let h: PushHarness;
  let port: number;

  beforeAll(async () => {
    h = await pushHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    port = (h.app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await h?.close();
    removeTempDirs();
  });

  it('accepts the firmware request byte for byte and closes the connection', async () => {
    const res = await exchange(port, firmwareRequest(port, CAPTURED_BODY));
    expect(res.status).toBe(200);
    expect(res.headers).toMatch(/^content-type: application\/json/im);
    expect(res.body).toEqual({ ok: true });
    const [r] = h.readings();
    expect(r).toMatchObject({ device: DEVICE, values: { pm10: 12.3, pm25: 7.5, temperature: 29.4, humidity: 71.2 } });
  });

  it('answers an unregistered sensor 403 with a body the firmware prints in its debug log', async () => {
    const body = firmwareBody([['SDS_P1', '4.00']], '424242');
    const res = await exchange(port, firmwareRequest(port, body, { sensor: 'esp8266-424242' }));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ ok: false, reason: 'unregistered_sensor' });
  });

  it('accepts basic auth as the firmware sends it, and a plain fetch client', async () => {
    const sensor = 'esp32-a1b2c3d4e5f6';
    const body = firmwareBody([['SDS_P2', '6.50']], 'a1b2c3d4e5f6');
    const raw = await exchange(
      port,
      firmwareRequest(port, body, { sensor, user: 'citizen', password: 'chiangmai-2024' }),
    );
    expect(raw.status).toBe(200);

    const fetched = await fetch(`http://127.0.0.1:${port}/push/airrohr`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Sensor': sensor,
        'X-PIN': '1',
        Authorization: `Basic ${Buffer.from('citizen:chiangmai-2024').toString('base64')}`,
      },
      body: '{"software_version": "NRZ-2020-133", "sensordatavalues":[{"value_type":"P1","value":"10.00"},{"value_type":"P2","value":"6.60"}]}',
    });
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual({ ok: true });
    expect(h.readings().filter((r) => r.device === 'cm-air-citizen-0002')).toHaveLength(2);
  });
});
