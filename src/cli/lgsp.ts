#!/usr/bin/env node
// The lgsp command: the edge where process, argv and the clock are read, then passed down.
import { fail } from '../errors.js';
import { reportError, processIo, type ExitStatus } from './report.js';
import { runValidate } from './validate.js';
import { runVerify } from './verify.js';
import { runSign } from './sign.js';
import { runPki } from './pki.js';
import { runStart } from './start.js';
import { runDemo } from './demo.js';
import { runCert, runCrl, runHubKey } from './cert.js';
import { runLedger } from './ledger.js';
import { runBroker } from './broker.js';
import { runAgency, runHub } from './directory.js';

// Each command's usage, as data: `lgsp help` prints them all, `lgsp <command> --help` its own.
const COMMANDS: Record<string, string> = {
  validate: `  lgsp validate FILE [--json]                         XSD and edXML rules`,
  verify: `  lgsp verify FILE --trust CA.pem [--trust ...] [--crl CRL.pem] [--allow-legacy] [--at ISO] [--json]
                                                      the full hop check minus routing`,
  sign: `  lgsp sign FILE --key KEY.pem --cert CERT.pem [-o OUT] [--c14n exclusive|inclusive]`,
  pki: `  lgsp pki init [--dir certs/dev] [--name CN] [--days 3650] [--force]
  lgsp pki issue --agency CODE [--name CN] [--out BASENAME] [--days 365]
                 [--not-before ISO] [--not-after ISO] [--no-signing-usage] [--dir certs/dev]
  lgsp pki revoke --cert CERT.pem [--dir certs/dev]   adds it to the development CRL (crl.pem)`,
  start: `  lgsp start [--config lgsp.config.json] [--hub ID ...] [--port N] [--log-level info] [--json]
                                                      runs the hubs of a configuration, or only those named;
                                                      --port N with one --hub: a replica of that hub on port N
                                                      (AMQP_URL, or AMQP_URLS: a cluster's nodes, overrides its broker)
                                                      (LGSP_BROKER_USER_SECRET: each hub connects as lgsp-<hub id> with
                                                      the password derived from it, replacing the URLs' user and password)
                                                      a hub that cannot start exits 2 (UNAVAILABLE …); one whose broker
                                                      goes away mid-start starts again, 3 starts in all`,
  broker: `  lgsp broker users [--config lgsp.config.json] [--hub ID ...] [--json]
                                                      declares the hubs' queues and creates or updates a broker user
                                                      lgsp-<hub id> for each, reaching only its own queues and its
                                                      neighbours' ingress (docs/security.md, "Broker users"); from the
                                                      environment: LGSP_BROKER_USER_SECRET (the passwords derive from it),
                                                      LGSP_BROKER_ADMIN_URL (amqp://admin@host:5672), RABBITMQ_MANAGEMENT_URL
                                                      (http://admin@host:15672), LGSP_BROKER_ADMIN_PASSWORD (or in the URLs)`,
  demo: `  lgsp demo [--once] [--tiers 3|2] [--dir data/demo] [--port 8701] [--province H41] [--json]
                                                      a three-level network with a worked example
                                                      (--tiers 2: a province hub and two commune hubs, no district)
  lgsp demo --national [--province H41] [--other-province H42] [--once] [--dir data/demo] [--port 8701]
                                                      our hub as the national axis (a ministry) and two provinces,
                                                      three tiers and two, linked up through their upstream`,
  ledger: `  lgsp ledger export --before DATE --out DIR [--config lgsp.config.json] [--hub ID] [--json]
                                                      archives packages acknowledged before DATE (one .edxml each, manifest.json with SHA-256)`,
  cert: `  lgsp cert list [--agency CODE] [--expiring 60d]
  lgsp cert add --agency CODE --cert CERT.pem [--retire-others-at ISO]
  lgsp cert rotate --agency CODE --cert CERT.pem [--overlap 7d]   the others retire after the overlap
  lgsp cert retire FINGERPRINT [--at ISO]
  lgsp cert revoke FINGERPRINT [--reason TEXT]`,
  crl: `  lgsp crl import FILE | lgsp crl fetch URL            PEM or DER, checked against the trusted CAs`,
  'hub-key': `  lgsp hub-key rotate --key KEY.pem --cert CERT.pem    the hub switches once its neighbours trust the new certificate`,
  agency: `  lgsp agency close CODE --into CODE [--from ISO]     documents for CODE go to its successor (docs/directory.md)
  lgsp agency move CODE --hub HUB                    new documents and its waiting mailbox go to HUB
  lgsp agency import FILE.csv [--dry-run]            a restructuring plan (code,name,hubId,successor,from), all or nothing`,
  hub: `  lgsp hub retire ID --into PARENT                   its agencies and child hubs go to PARENT; what waits in it drains through PARENT`,
};
const OPERATOR_COMMANDS = new Set(['cert', 'crl', 'hub-key', 'agency', 'hub']);
const OPERATOR_NOTE = 'Operator commands, through a running hub\'s admin API (--url, --token; or LGSP_URL, LGSP_ADMIN_TOKEN):';
const EXIT_NOTE = 'Exit status: 0 success, 1 the input was rejected, 2 usage or environment error.';

const USAGE = ['lgsp: the LGSP edXML hub', '',
  ...Object.entries(COMMANDS).filter(([c]) => !OPERATOR_COMMANDS.has(c)).map(([, u]) => u), '',
  OPERATOR_NOTE, ...[...OPERATOR_COMMANDS].map((c) => COMMANDS[c]!), '', EXIT_NOTE].join('\n');

/** One command's usage, for `lgsp <command> --help`. */
function usageOf(command: string): string {
  const note = OPERATOR_COMMANDS.has(command) ? [OPERATOR_NOTE] : [];
  return ['Usage:', ...note, COMMANDS[command]!, '', EXIT_NOTE].join('\n');
}

async function main(argv: string[]): Promise<ExitStatus> {
  const [command, ...args] = argv;
  const now = new Date();
  if (command !== undefined && command in COMMANDS && (args.includes('--help') || args.includes('-h'))) {
    processIo.out(usageOf(command));
    return 0;
  }
  switch (command) {
    case 'validate': return runValidate(args, processIo);
    case 'verify': return runVerify(args, processIo, now);
    case 'sign': return runSign(args, processIo);
    case 'pki': return runPki(args, processIo, now);
    case 'start': return runStart(args, processIo, process.env);
    case 'demo': return runDemo(args, processIo, process.env, now);
    case 'ledger': return runLedger(args, processIo, process.env, now);
    case 'broker': return runBroker(args, processIo, process.env);
    case 'cert': return runCert(args, processIo, process.env, now);
    case 'crl': return runCrl(args, processIo, process.env);
    case 'hub-key': return runHubKey(args, processIo, process.env);
    case 'agency': return runAgency(args, processIo, process.env);
    case 'hub': return runHub(args, processIo, process.env);
    case 'help': case '--help': case '-h':
      processIo.out(USAGE);
      return 0;
    default:
      processIo.err(USAGE);
      return reportError(fail('USAGE', command === undefined ? 'no command given' : `unknown command "${command}"`).error,
        argv.includes('--json'), processIo);
  }
}

process.exitCode = await main(process.argv.slice(2));
