import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { describeDatabase, StartFootprint } from "./data-dir.js";

describe("describeDatabase", () => {
  it("a SQLite file as an absolute path, wherever the service was started", () => {
    expect(describeDatabase("./airlock.db")).toBe(join(process.cwd(), "airlock.db"));
    expect(describeDatabase("sqlite:///srv/data/x.db")).toBe("/srv/data/x.db");
    expect(describeDatabase(":memory:")).toBe("in memory");
  });

  it("a PostgreSQL URL without user, password or password parameters", () => {
    expect(describeDatabase("postgres://airlock:s3cret@db.internal:5432/airlock?schema=a")).toBe(
      "postgres://db.internal:5432/airlock?schema=a",
    );
    expect(describeDatabase("postgresql://db/airlock?sslmode=require&password=s3cret")).toBe(
      "postgresql://db/airlock?sslmode=require",
    );
    expect(describeDatabase("postgres://a:%zz@[bad")).not.toContain("%zz");
  });
});

describe("StartFootprint", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const temp = () => {
    const dir = mkdtempSync(join(tmpdir(), "airlock-footprint-"));
    dirs.push(dir);
    return dir;
  };

  it("removes the files and folders it saw missing, and nothing that was there before", () => {
    const dir = temp();
    writeFileSync(join(dir, "kept.db"), "old");
    const footprint = new StartFootprint();
    expect(footprint.sqlite(join(dir, "kept.db"))).toBe(false);
    expect(footprint.sqlite(join(dir, "a", "b", "new.db"))).toBe(true);
    expect(footprint.dir(join(dir, ".airlock", "journal"))).toBe(true);
    mkdirSync(join(dir, "a", "b"), { recursive: true });
    writeFileSync(join(dir, "a", "b", "new.db"), "");
    writeFileSync(join(dir, "a", "b", "new.db-wal"), "");
    mkdirSync(join(dir, ".airlock", "journal"), { recursive: true });

    footprint.undo();

    expect(readdirSync(dir)).toEqual(["kept.db"]);
  });

  it("leaves a new folder that holds something it did not note", () => {
    const dir = temp();
    const footprint = new StartFootprint();
    footprint.file(join(dir, ".airlock", "demo-keys.json"));
    mkdirSync(join(dir, ".airlock"));
    writeFileSync(join(dir, ".airlock", "demo-keys.json"), "{}");
    writeFileSync(join(dir, ".airlock", "someone-elses"), "");

    footprint.undo();

    expect(existsSync(join(dir, ".airlock", "demo-keys.json"))).toBe(false);
    expect(readdirSync(join(dir, ".airlock"))).toEqual(["someone-elses"]);
  });

  it("never throws: a path under a regular file (ENOTDIR) is left alone", () => {
    const dir = temp();
    writeFileSync(join(dir, "file"), "");
    const footprint = new StartFootprint();
    footprint.file(join(dir, "file", "journal", ".reserve"));
    expect(() => footprint.undo()).not.toThrow();
    expect(readdirSync(dir)).toEqual(["file"]);
  });
});
