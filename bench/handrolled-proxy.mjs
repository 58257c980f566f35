/**
 * The comparison point "what tutorials teach": an Express app that checks a shared secret, reads
 * the connection's access token from SQLite on every request (better-sqlite3, a prepared
 * statement, as the tutorials do) and forwards the request with axios (Node's default keep-alive
 * agent), copying status, headers and body back. Plain JavaScript on purpose: this is the code a
 * user would write instead of running Airlock. Used by bench/compare.ts only.
 *
 * Env: PORT, UPSTREAM (origin), DB (SQLite file with `tokens(identifier, access_token)`),
 * SECRET (the key callers send as `Authorization: Bearer …`).
 */
import axios from "axios";
import Database from "better-sqlite3";
import express from "express";

const upstream = process.env.UPSTREAM;
const secret = process.env.SECRET;
const db = new Database(process.env.DB, { readonly: true });
const findToken = db.prepare("SELECT access_token FROM tokens WHERE identifier = ?");
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

const app = express();
app.disable("x-powered-by");
app.use(express.raw({ type: "*/*", limit: "10mb" }));

app.all("/v1/proxy/:identifier/*rest", async (req, res) => {
  if (req.headers.authorization !== `Bearer ${secret}`)
    return res.status(401).json({ error: "unauthorized" });
  const row = findToken.get(req.params.identifier);
  if (!row) return res.status(404).json({ error: "not_found" });
  const headers = { ...req.headers, authorization: `Bearer ${row.access_token}` };
  delete headers.host;
  delete headers.cookie;
  try {
    const response = await axios({
      method: req.method,
      url: `${upstream}${req.originalUrl.slice(`/v1/proxy/${req.params.identifier}`.length)}`,
      headers,
      data: Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined,
      responseType: "arraybuffer",
      validateStatus: () => true,
    });
    for (const [name, value] of Object.entries(response.headers)) {
      if (!HOP_BY_HOP.has(name) && name !== "set-cookie") res.setHeader(name, value);
    }
    res.status(response.status).send(Buffer.from(response.data));
  } catch {
    res.status(502).json({ error: "bad_gateway" });
  }
});

app.listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("listening\n"));
