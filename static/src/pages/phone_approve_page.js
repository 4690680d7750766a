/** The phone's page for a workstation's QR code: who is asking, number matching, approve/deny. */
import { answer, fetchOptions, localEnrolments, secureContextProblem, showError } from "./common.js";

const $ = (id) => document.getElementById(id);
const errorBox = $("mk_error");
const rid = new URLSearchParams(window.location.hash.slice(1)).get("rid");
let enrolment = null;
let options = null;
let matchCode = null;

async function decide(approve) {
    $("mk_approve").disabled = $("mk_deny").disabled = true;
    try {
        const result = await answer(enrolment, options, { approve, matchCode });
        $("mk_status").textContent = result.state === "approved"
            ? "Approved. The computer is being logged in." : "Denied. The computer was not logged in.";
    } catch (error) {
        showError(errorBox, error);
    }
}

async function init() {
    const problem = secureContextProblem();
    if (problem) {
        return showError(errorBox, new Error(problem));
    }
    if (!rid) {
        return showError(errorBox, new Error("This link is incomplete: scan the code on the computer again."));
    }
    [enrolment] = await localEnrolments();
    if (!enrolment) {
        return showError(errorBox, new Error("This phone is not enrolled on this Odoo. Add it from your Preferences first."));
    }
    try {
        options = await fetchOptions(rid, enrolment);
    } catch (error) {
        return showError(errorBox, error);
    }
    const r = options.requester;
    $("mk_request").textContent = `${r.browser} on ${r.os}, from ${r.ip}, at ${r.time}, asks to log in as you.`;
    $("mk_deny").disabled = false;
    $("mk_deny").addEventListener("click", () => decide(false));
    $("mk_approve").addEventListener("click", () => decide(true));
    if (options.same_browser) {
        $("mk_approve").disabled = false;
        return;
    }
    $("mk_match").hidden = false;
    for (const code of options.match_choices) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = code;
        button.dataset.code = code;
        button.addEventListener("click", () => {
            matchCode = code;
            for (const b of $("mk_match_choices").children) {
                b.classList.toggle("mk-secondary", b !== button);
            }
            $("mk_approve").disabled = false;
        });
        $("mk_match_choices").appendChild(button);
    }
}

init();
