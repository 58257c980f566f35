/**
 * nginx for the comparison, as two separate instances so each can be pinned on its own: a static
 * upstream (`return 200` with a whoami-shaped body: the trivially fast upstream) and the
 * header-injecting reverse proxy (`proxy_set_header Authorization`, keep-alive to the upstream: the
 * practical floor for a proxy that adds a token). One worker each, no access log.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitFor } from "../test/multiprocess/harness.js";
import { stopChild } from "./env.js";

export interface Nginx {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The body the static upstream returns for every path. */
export const STATIC_BODY = '{"id":"usrBenchStatic0001","scopes":["data.records:read","schema.bases:read"]}';

function config(dir: string, servers: string): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
${servers}
}
`;
}

async function start(dir: string, servers: string, port: number): Promise<Nginx> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "nginx.conf"), config(dir, servers));
  const child: ChildProcess = spawn(
    "nginx",
    ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      return (await fetch(`${url}/__ping`).catch(() => null)) !== null;
    },
    { timeoutMs: 10_000, message: `nginx did not start: ${stderr}` },
  );
  return {
    url,
    pid: child.pid!,
    stop: () => stopChild(child),
  };
}

/** nginx answering 200 with STATIC_BODY on every path. */
export async function startStaticUpstream(dir: string): Promise<Nginx> {
  const port = await freePort();
  return start(
    dir,
    `  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location / {
      default_type application/json;
      return 200 '${STATIC_BODY}';
    }
  }`,
    port,
  );
}

/**
 * nginx proxying `/v1/proxy/<identifier>/…` to `upstream` with `Authorization: Bearer <token>` set,
 * the caller's own Authorization replaced, over a keep-alive upstream pool.
 */
export async function startHeaderProxy(
  dir: string,
  upstream: string,
  identifier: string,
  token: string,
): Promise<Nginx> {
  const port = await freePort();
  return start(
    dir,
    `  upstream airtable {
    server ${new URL(upstream).host};
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location = /__ping { return 204; }
    location /v1/proxy/${identifier}/ {
      proxy_pass http://airtable/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${new URL(upstream).host};
      proxy_set_header Authorization "Bearer ${token}";
      proxy_set_header Cookie "";
      proxy_hide_header Set-Cookie;
    }
  }`,
    port,
  );
}
