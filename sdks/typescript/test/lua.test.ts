import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { LUA_DIR, loadScript } from "bananas-client";

// build/test → package root → repository root
const ORIGINALS = join(__dirname, "..", "..", "..", "..", "bananas", "queue", "lua");

function luaFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith(".lua")).sort();
}

test("package ships exactly the Lua scripts of the Python package", () => {
  assert.deepEqual(luaFiles(LUA_DIR), luaFiles(ORIGINALS));
  assert.ok(luaFiles(ORIGINALS).includes("submit.lua"));
});

test("every shipped Lua script is byte-identical to its original", () => {
  for (const name of luaFiles(ORIGINALS)) {
    const copy = readFileSync(join(LUA_DIR, name));
    const original = readFileSync(join(ORIGINALS, name));
    assert.ok(copy.equals(original), `lua/${name} differs from bananas/queue/lua/${name}: run npm run build`);
  }
});

test("loadScript reads the submit script", () => {
  assert.match(loadScript("submit"), /KEYS: 1 job hash/);
});

test("loadScript puts the shared library after the flags line, as the Python loader does", () => {
  const settle = loadScript("settle");
  assert.ok(settle.startsWith("#!lua flags=allow-oom\n"));
  assert.match(settle, /local function end_job/);
  assert.ok(loadScript("submit").startsWith("-- Shared by the lifecycle scripts"));
});
