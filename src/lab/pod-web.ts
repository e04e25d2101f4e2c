/**
 * The book's test web server (contrailk8sdayone/contrail-webserver, book lines 926-941):
 * `node pod-web.js --ip <ip> --hostname <pod> [--port N]...` inside a pod's namespace,
 * answering every GET on port 80 (and each --port) with the page naming the pod.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

export function podPage(ip: string, hostname: string): string {
  return `<html>
<style>
  h1   {color:green}
  h2   {color:red}
</style>
  <div align="center">
  <head>
    <title>Contrail Pod</title>
  </head>
  <body>
    <h1>Hello</h1><br><h2>This page is served by a <b>Contrail</b> pod</h2><br><h3>IP address = ${ip}<br>Hostname = ${hostname}</h3>
    <img src="/static/giphy.gif">
  </body>
  </div>
</html>
`;
}

function main(): void {
  const { values } = parseArgs({ options: { ip: { type: 'string' }, hostname: { type: 'string' }, port: { type: 'string', multiple: true } }, strict: true });
  if (values.ip === undefined || values.hostname === undefined) {
    process.stderr.write('usage: pod-web --ip <ip> --hostname <name> [--port N]...\n');
    process.exit(2);
  }
  const page = podPage(values.ip, values.hostname);
  const ports = [80, ...(values.port ?? []).map(Number)];
  for (const port of new Set(ports)) {
    http
      .createServer((req, res) => {
        // The page only: the book's image is not part of the lab.
        const found = req.url === '/' || req.url === '/index.html';
        res.writeHead(found ? 200 : 404, { 'content-type': found ? 'text/html; charset=utf-8' : 'text/plain' });
        res.end(found ? page : 'not found\n');
      })
      .listen(port, '0.0.0.0', () => process.stdout.write(`pod-web: ${values.hostname} (${values.ip}) on port ${port}\n`));
  }
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1]?.endsWith('pod-web.js')) main();
