/** The bench's reading of wrk's report (bench/wrk.ts): units, percentiles, error counts. */
import { describe, expect, it } from "vitest";
import { parseWrk, parseWrkDuration } from "../bench/wrk.js";

const REPORT = `Running 5s test @ http://127.0.0.1:8080/v1/proxy/u/v0/meta/whoami
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms    2.05ms  45.12ms   97.12%
    Req/Sec    14.20k     1.01k   15.90k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.01ms
     90%    1.30ms
     99%   12.40ms
  70656 requests in 5.00s, 14.42MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  14131.20
Transfer/sec:      2.88MB
`;

describe("parseWrk", () => {
  it("reads count, rate, percentiles in ms and the error counts", () => {
    expect(parseWrk(REPORT)).toEqual({
      requests: 70656,
      durationSeconds: 5,
      requestsPerSecond: 14131,
      non2xx: 4,
      socketErrors: 3,
      p50Ms: 0.812,
      p99Ms: 12.4,
    });
  });

  it("converts every unit wrk prints and refuses anything else", () => {
    expect(parseWrkDuration("612.00us")).toBeCloseTo(0.612);
    expect(parseWrkDuration("2.00s")).toBe(2000);
    expect(parseWrkDuration("1.00m")).toBe(60_000);
    expect(() => parseWrkDuration("fast")).toThrow(/not a wrk duration/);
    expect(() => parseWrk("nothing")).toThrow(/no 50% latency line|no request count/);
  });
});
