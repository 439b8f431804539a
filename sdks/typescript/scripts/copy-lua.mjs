// Copy the lifecycle scripts from the Python package into this package, so both clients
// run the very same Lua files. Fails when the source folder is missing (not a checkout).
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "..", "..", "..", "bananas", "queue", "lua");
const target = join(here, "..", "lua");

const names = readdirSync(source).filter((name) => name.endsWith(".lua")).sort();
if (names.length === 0) {
  throw new Error(`no .lua files in ${source}`);
}
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const name of names) {
  copyFileSync(join(source, name), join(target, name));
}
console.log(`copied ${names.length} Lua scripts from ${source}`);
