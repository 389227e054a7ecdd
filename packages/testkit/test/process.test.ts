import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, ManagedProcess, makeTempDir, removeDir, requireBinary, ServiceStartError } from '../src/index';

describe('requireBinary', () => {
  it('finds the Debian daemons, also in sbin', () => {
    expect(requireBinary('mosquitto', 'mosquitto')).toMatch(/\/mosquitto$/);
    expect(requireBinary('influxd', 'influxdb')).toMatch(/\/influxd$/);
  });

  it('fails loudly naming exactly what to install', () => {
    expect(() => requireBinary('cnx-no-such-binary', 'cnx-no-such-package')).toThrow(
      'apt-get install -y cnx-no-such-package',
    );
  });
});

describe('freePort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('ManagedProcess', () => {
  const node = process.execPath;

  it('fails readiness with the exit status and the last output lines when the child exits', async () => {
    const proc = ManagedProcess.spawn({
      name: 'crasher',
      command: node,
      args: [
        '-e',
        'for (let i = 0; i < 200; i++) console.log("line " + i); console.error("fatal: boom"); process.exit(3)',
      ],
      tailLines: 5,
    });
    const err = await proc.waitUntilReady(async () => false, { what: 'never' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceStartError);
    const e = err as ServiceStartError;
    expect(e.message).toContain('crasher exited before never (exit code 3)');
    expect(e.output).toContain('fatal: boom');
    expect(e.output).not.toContain('line 10\n');
    expect(e.output.split('\n')).toHaveLength(5);
  });

  it('times out readiness, kills the child and says what it waited for', async () => {
    const proc = ManagedProcess.spawn({ name: 'sleeper', command: node, args: ['-e', 'setInterval(() => {}, 1000)'] });
    await expect(proc.waitUntilReady(async () => false, { timeoutMs: 300, what: 'a miracle' })).rejects.toThrow(
      'sleeper: timed out after 300 ms waiting for a miracle',
    );
    expect(proc.running).toBe(false);
  });

  it('reports a spawn failure instead of hanging', async () => {
    const proc = ManagedProcess.spawn({ name: 'ghost', command: '/nonexistent/cnx-ghost' });
    await expect(proc.waitUntilReady(async () => true)).rejects.toThrow(/ghost exited before readiness \(spawn failed/);
  });

  it('stops with SIGTERM, escalating to SIGKILL after the grace period', async () => {
    const script =
      'process.on("SIGTERM", () => console.log("ignoring TERM")); console.log("up"); setInterval(() => {}, 1000)';
    const proc = ManagedProcess.spawn({ name: 'stubborn', command: node, args: ['-e', script] });
    await proc.waitUntilReady(async () => proc.output().includes('up'));
    const exit = await proc.stop(300);
    expect(exit.signal).toBe('SIGKILL');
    expect(proc.output()).toContain('ignoring TERM');
    expect(await proc.stop()).toEqual(exit); // idempotent
  });

  it('a polite child exits on SIGTERM', async () => {
    const proc = ManagedProcess.spawn({ name: 'polite', command: node, args: ['-e', 'setInterval(() => {}, 1000)'] });
    expect((await proc.stop()).signal).toBe('SIGTERM');
  });
});

describe('temp dirs', () => {
  it('creates and removes', async () => {
    const dir = await makeTempDir();
    expect(existsSync(dir)).toBe(true);
    await removeDir(dir);
    expect(existsSync(dir)).toBe(false);
    await removeDir(dir); // missing is fine
  });
});
