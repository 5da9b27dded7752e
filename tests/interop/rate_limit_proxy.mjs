// A reverse proxy whose rate limiting is express-rate-limit's (a limiter nobody here wrote,
// the one the MCP TypeScript SDK uses), in front of a real MCP server.
//
//   node rate_limit_proxy.mjs <upstream base URL> <limit> <window ms> <headers>
//
// <headers>: draft-6 | draft-7 | draft-8 (IETF RateLimit fields, as express-rate-limit
// writes them) or legacy (X-RateLimit-*). Only POSTs count against the limit; a refused
// POST gets express-rate-limit's own 429 (with its Retry-After). Every other request, and
// every allowed POST, is piped through unchanged (SSE replies stream). GET /proxy-stats
// answers {"allowed": n, "refused": n}. Listens on 127.0.0.1 (a free port), prints
// "READY <port>", and exits when its stdin ends.
import http from "node:http";
import express from "express";
import { rateLimit } from "express-rate-limit";

const [upstream, limit, windowMs, headers] = process.argv.slice(2);
const target = new URL(upstream);
const stats = { allowed: 0, refused: 0 };

const app = express();
app.get("/proxy-stats", (req, res) => res.json(stats));
app.use(rateLimit({
  windowMs: Number(windowMs),
  limit: Number(limit),
  standardHeaders: headers === "legacy" ? false : headers,
  legacyHeaders: headers === "legacy",
  skip: (req) => req.method !== "POST",
  handler: (req, res, next, options) => {
    stats.refused += 1;
    res.status(options.statusCode).send(options.message);
  },
}));
app.use((req, res) => {
  if (req.method === "POST") stats.allowed += 1;
  const headersOut = { ...req.headers, host: target.host };
  const forward = http.request({
    hostname: target.hostname, port: target.port, path: req.originalUrl,
    method: req.method, headers: headersOut,
  }, (reply) => {
    // Keep the limiter's headers: they were set on res before we got here.
    res.writeHead(reply.statusCode, { ...res.getHeaders(), ...reply.headers });
    reply.pipe(res);
  });
  forward.on("error", () => res.destroy());
  res.on("close", () => forward.destroy());
  req.pipe(forward);
});

const server = app.listen(0, "127.0.0.1", () => {
  process.stdout.write(`READY ${server.address().port}\n`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
