// The build stamp: one hash of every file the build is made from, written into the build so a test can tell a
// stale build from a current one without Node.js. tests/test_ui_build.py computes the same hash in Python:
// sha256 over "<path>\0<sha256 of the file>\n" for each file, paths relative to ui/, sorted, "/"-separated.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";

export const STAMPED = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts",
  "stamp.ts", "src", "public"];

function files(root: string, entry: string): string[] {
  const path = join(root, entry);
  if (!statSync(path, { throwIfNoEntry: false })) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(root, join(entry, name)));
}

export function sourceHash(root: string): string {
  const all = STAMPED.flatMap((entry) => files(root, entry))
    .map((path) => relative(root, path).split(sep).join("/"))
    .sort();
  const outer = createHash("sha256");
  for (const path of all) {
    const inner = createHash("sha256").update(readFileSync(join(root, path))).digest("hex");
    outer.update(`${path}\0${inner}\n`);
  }
  return outer.digest("hex");
}
