// Throw-away PKI for one envtest: a CA, a serving certificate for 127.0.0.1/localhost, the
// ServiceAccount signing key pair, and the static token file. openssl is used because Node's crypto
// can make keys but not X.509 certificates.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certificates {
  caCertPath: string;
  caCertPem: string;
  serverCertPath: string;
  serverKeyPath: string;
  saPublicKeyPath: string;
  saPrivateKeyPath: string;
  tokenFilePath: string;
}

export interface StaticToken {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${stderr}`);
  }
}

export function makeCertificates(dir: string, tokens: StaticToken[]): Certificates {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=envtest-ca'], pki);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], pki);
  writeFileSync(join(pki, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'],
    pki,
  );
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'sa.key'], pki);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], pki);

  // Static token file format: token,user,uid,"group1,group2"
  const tokenFilePath = join(pki, 'tokens.csv');
  writeFileSync(
    tokenFilePath,
    tokens.map((t) => `${t.token},${t.user},${t.uid},"${t.groups.join(',')}"`).join('\n') + '\n',
    { mode: 0o600 },
  );
  return {
    caCertPath: join(pki, 'ca.crt'),
    caCertPem: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    serverCertPath: join(pki, 'server.crt'),
    serverKeyPath: join(pki, 'server.key'),
    saPublicKeyPath: join(pki, 'sa.pub'),
    saPrivateKeyPath: join(pki, 'sa.key'),
    tokenFilePath,
  };
}
