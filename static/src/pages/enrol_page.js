/** Workstation's "Add a phone" page: shows the QR code and follows the phone's progress. */
import { postJson, showError } from "./common.js";

const section = document.getElementById("mk_enrol");
const status = document.getElementById("mk_status");
const rid = section.dataset.rid;
const deadline = Date.now() + Number(section.dataset.ttl) * 1000;

async function poll() {
    if (Date.now() > deadline) {
        status.textContent = "This code expired. Reload the page for a new one.";
        document.getElementById("mk_enrol_qr").innerHTML = "";
        return;
    }
    try {
        const result = await postJson("/auth_masterkey/enrol/status", { rid });
        if (result.state === "done") {
            status.textContent = `Phone "${result.phone}" enrolled. You can now log in with it.`;
            document.getElementById("mk_enrol_qr").innerHTML = "";
            return;
        }
        if (result.state === "denied") {
            status.textContent = "You rejected that phone. Reload the page to start again.";
            document.getElementById("mk_enrol_qr").innerHTML = "";
            return;
        }
        if (result.state === "confirm") {
            return askConfirmation(result);
        }
        status.textContent = result.state === "scanned" ? "Your phone is enrolling…" : "Waiting for your phone…";
    } catch (error) {
        return showError(document.getElementById("mk_error"), error);
    }
    setTimeout(poll, 700);
}

function askConfirmation(result) {
    document.getElementById("mk_enrol_qr").innerHTML = "";
    status.textContent = `A phone named "${result.phone}" (from ${result.ip}) answered and shows ${result.code}. ` +
        "Is it yours?";
    const box = document.getElementById("mk_confirm");
    box.hidden = false;
    const decide = async (accept) => {
        box.hidden = true;
        try {
            await postJson("/auth_masterkey/enrol/confirm", { rid, accept });
        } catch (error) {
            return showError(document.getElementById("mk_error"), error);
        }
        poll();
    };
    document.getElementById("mk_confirm_yes").onclick = () => decide(true);
    document.getElementById("mk_confirm_no").onclick = () => decide(false);
}

poll();
