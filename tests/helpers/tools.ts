// Real peers: the built lgsp CLI, xmlsec1 and xmllint, run as child processes.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'dist/src/cli/lgsp.js');

export interface Run { status: number; stdout: string; stderr: string }

function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function lgsp(...args: string[]): Run {
  if (!fs.existsSync(CLI)) throw new Error('build first: npm run build (npm test does it)');
  return run(process.execPath, [CLI, ...args]);
}

/** The CLI without blocking this process (for hubs running in it). */
export function lgspAsync(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

export function lgspJson(...args: string[]): { status: number; json: Record<string, unknown> } {
  const r = lgsp(...args, '--json');
  return { status: r.status, json: JSON.parse(r.stdout) as Record<string, unknown> };
}

export function xmlsec1(...args: string[]): Run {
  return run('xmlsec1', args);
}

export function xmllint(...args: string[]): Run {
  return run('xmllint', args);
}

export function tempDir(): { dir: string; file: (name: string, data: string | Uint8Array) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lgsp-test-'));
  return {
    dir,
    file: (name, data) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, data);
      return f;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

const ALG = {
  exclusive: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  inclusive: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
};

/** An xmlsec1 signing template inserted before </edXML:edXMLHeader> of an unsigned package. */
export function xmlsecTemplate(unsigned: Buffer, c14n: keyof typeof ALG, legacy = false): Buffer {
  const sigAlg = legacy ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
  const digestAlg = legacy ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256';
  const template = `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>` +
    `<CanonicalizationMethod Algorithm="${ALG[c14n]}"/><SignatureMethod Algorithm="${sigAlg}"/>` +
    `<Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
    `<Transform Algorithm="${ALG[c14n]}"/></Transforms><DigestMethod Algorithm="${digestAlg}"/><DigestValue/></Reference>` +
    `</SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>`;
  const text = unsigned.toString('utf8');
  if (!text.includes('</edXML:edXMLHeader>')) throw new Error('no </edXML:edXMLHeader> to put the template before');
  return Buffer.from(text.replace('</edXML:edXMLHeader>', `${template}</edXML:edXMLHeader>`), 'utf8');
}
