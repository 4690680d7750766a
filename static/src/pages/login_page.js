/** /web/login: "Log in with this phone" (enrolled phone) and "Log in with your phone" (QR). */
import { answer, fetchOptions, localEnrolments, postJson, showError } from "./common.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 500;
const errorBox = $("masterkey_error");

/** Posts the approved request id to Odoo's session endpoint (a top-level form, since the
 *  login page's own form cannot contain another one). */
export function submitSession(rid) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = "/auth_masterkey/login/session";
    const fields = { rid, redirect: new URLSearchParams(window.location.search).get("redirect") || "" };
    for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
}

async function phoneLogin() {
    try {
        const [enrolment] = await localEnrolments();
        const request = await postJson("/auth_masterkey/login/new", { qr: false });
        const options = await fetchOptions(request.rid, enrolment);
        await answer(enrolment, options, { approve: true });
        submitSession(request.rid);
    } catch (error) {
        showError(errorBox, error);
    }
}

let current = null;

async function startQr() {
    const panel = $("masterkey_qr_panel");
    panel.classList.remove("d-none");
    try {
        current = await postJson("/auth_masterkey/login/new", {});
    } catch (error) {
        showError(errorBox, error);
        return;
    }
    $("masterkey_qr").innerHTML = current.qr_svg; // SVG made by the server's qrcode package
    $("masterkey_qr").dataset.url = current.approve_url;
    $("masterkey_match_code").textContent = current.match_code;
    $("masterkey_qr_status").textContent = "Waiting for your phone…";
    poll(current.rid);
}

async function poll(rid) {
    if (!current || current.rid !== rid) {
        return;
    }
    let state;
    try {
        state = (await postJson("/auth_masterkey/login/status", { rid })).state;
    } catch (error) {
        state = error.status === 410 ? "expired" : "error";
    }
    const status = $("masterkey_qr_status");
    if (state === "approved") {
        status.textContent = "Approved. Logging in…";
        submitSession(rid);
    } else if (state === "denied") {
        status.textContent = "The login was denied on the phone.";
        $("masterkey_qr").innerHTML = "";
    } else if (state === "expired") {
        status.textContent = "The code expired; here is a new one.";
        startQr(); // refreshed automatically
    } else if (state === "error" || state === "consumed") {
        status.textContent = "Something went wrong; start again.";
    } else {
        status.textContent = state === "scanned" ? "Your phone is answering…" : "Waiting for your phone…";
        setTimeout(() => poll(rid), POLL_MS);
    }
}

async function init() {
    $("masterkey_qr_login")?.addEventListener("click", startQr);
    const phoneButton = $("masterkey_phone_login");
    if (phoneButton && window.isSecureContext && (await localEnrolments()).length) {
        phoneButton.classList.remove("d-none");
        phoneButton.addEventListener("click", phoneLogin);
    }
}

init();
