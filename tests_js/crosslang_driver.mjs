// Test driver for tests_core/test_crosslang.py: one long-lived process per test holding a
// PhoneVault on a memory store, so ephemeral keys stay in memory between steps.
//
// Protocol: one JSON object per line on stdin, {"id": n, "cmd": "...", ...args}; one JSON
// object per line on stdout, {"id": n, "ok": true, "result": ...} or
// {"id": n, "ok": false, "code": "...", "message": "..."}.
//
// Commands: enrol, startLogin (returns a "login" handle), finish {login, envelope}, sign,
// list, has, remove, canonical {label, fields}, b64encode {hex}, b64decode {value}.

import { createInterface } from "node:readline";

import {
    MasterKeyError,
    PhoneVault,
    b64urlDecode,
    b64urlEncode,
    canonical,
    memoryStore,
} from "../static/src/core/masterkey_phone.js";

const vault = new PhoneVault(memoryStore());
const logins = new Map();
let nextLogin = 1;

const hex = (bytes) => Buffer.from(bytes).toString("hex");

const commands = {
    async enrol(args) {
        return vault.enrol(args);
    },
    async startLogin(args) {
        const { finish, ...rest } = await vault.startLogin(args);
        const login = nextLogin++;
        logins.set(login, finish);
        return { ...rest, login };
    },
    async finish({ login, envelope }) {
        const finish = logins.get(login);
        if (!finish) {
            throw new MasterKeyError("unknown_login", "no such login handle");
        }
        return finish(envelope);
    },
    async sign(args) {
        return vault.sign(args);
    },
    async list() {
        return vault.list();
    },
    async has({ enrolmentId }) {
        return vault.has(enrolmentId);
    },
    async remove({ enrolmentId }) {
        await vault.remove(enrolmentId);
        return null;
    },
    async canonical({ label, fields }) {
        return hex(canonical(label, ...fields));
    },
    async b64encode({ hex: value }) {
        return b64urlEncode(Buffer.from(value, "hex"));
    },
    async b64decode({ value }) {
        return hex(b64urlDecode(value));
    },
};

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
// Answer in order: each line is handled after the previous one finished.
let queue = Promise.resolve();
rl.on("line", (line) => {
    queue = queue.then(() => handle(line));
});

async function handle(line) {
    let id = null;
    let reply;
    try {
        const request = JSON.parse(line);
        id = request.id ?? null;
        const { cmd, ...args } = request;
        delete args.id;
        const fn = Object.hasOwn(commands, cmd) ? commands[cmd] : null;
        if (!fn) {
            throw new MasterKeyError("unknown_command", `unknown command ${cmd}`);
        }
        reply = { id, ok: true, result: (await fn(args)) ?? null };
    } catch (exc) {
        reply = {
            id,
            ok: false,
            code: exc instanceof MasterKeyError ? exc.code : "internal_error",
            message: String(exc && exc.message),
        };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
}
