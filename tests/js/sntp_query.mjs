// A JavaScript host embedding netkit's SNTP client through jco's typed bindings:
//   node sntp_query.mjs DIR/sntp_client.js HOST PORT [TIMEOUT_MS]
// prints one JSON line: {"ok":true,"report":{...}} or {"ok":false,"error":{tag,val}}.
import { pathToFileURL } from 'node:url';

const [module, server, port, timeout] = process.argv.slice(2);
const { sntpClient } = await import(pathToFileURL(module).href);
const json = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
try {
  const report = sntpClient.query(server, Number(port), {
    timeoutMs: BigInt(timeout ?? 2000),
    tries: 1,
    samples: 1,
    burst: true,
    family: 'any',
  });
  console.log(json({ ok: true, report }));
} catch (e) {
  // A WIT error comes as a ComponentError whose payload is the sntp-error variant.
  console.log(json({ ok: false, error: e.payload ?? String(e) }));
  process.exitCode = 1;
}
