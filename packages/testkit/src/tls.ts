import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './require';

/** PEM files of a throw-away certificate authority, a server certificate and a client certificate. */
export interface TestCertificates {
  dir: string;
  caFile: string;
  /** For 127.0.0.1 and localhost (subjectAltName), signed by the CA. */
  serverCert: string;
  serverKey: string;
  /** Common name `clientCn`, signed by the CA (a broker with require_certificate takes it). */
  clientCert: string;
  clientKey: string;
  /** A client certificate of another CA: a broker that trusts only `caFile` refuses it. */
  strangerCert: string;
  strangerKey: string;
}

/**
 * Makes a CA, a server and a client certificate in `dir` with Debian's `openssl` (EC P-256 keys,
 * valid 2 days), as an operator would for a broker with its own CA and client certificates.
 */
export function makeTestCertificates(dir: string, clientCn = 'cnx-gateway'): TestCertificates {
  const openssl = requireBinary('openssl', 'openssl');
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name);
  const ca = (name: string, cn: string) => {
    key(`${name}.key`);
    run(
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-sha256',
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-out',
      `${name}.pem`,
    );
  };
  const leaf = (name: string, cn: string, signer: string, ext: string) => {
    key(`${name}.key`);
    run('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.pem`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  ca('ca', 'cnx-sense test CA');
  ca('stranger-ca', 'someone else');
  leaf('server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', clientCn, 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('stranger', clientCn, 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const f = (name: string) => join(dir, name);
  return {
    dir,
    caFile: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    strangerCert: f('stranger.pem'),
    strangerKey: f('stranger.key'),
  };
}
