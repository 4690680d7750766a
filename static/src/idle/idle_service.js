/** @odoo-module **/
/**
 * Idle-session auto-logout in the web client.
 *
 * Keyboard, pointer and touch input mark the session active (a ping, at most every 30 s);
 * background RPCs and the bus do not. Shortly before the timeout a warning with a countdown
 * appears; any input dismisses it. At the timeout the page goes to /web/login with a message
 * (leaving the page lets Odoo save a dirty form first).
 */
import { registry } from "@web/core/registry";
import { browser } from "@web/core/browser/browser";

const PING_EVERY_MS = 30000;
const ACTIVITY_EVENTS = ["keydown", "pointerdown", "pointermove", "touchstart", "wheel"];

async function call(active) {
    const response = await browser.fetch("/auth_masterkey/activity", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ active }),
    });
    if (!response.ok) {
        throw new Error(`activity ${response.status}`);
    }
    return response.json();
}

export const idleService = {
    start() {
        let lastPing = 0;
        let deadline = null; // epoch ms at which the server ends the session
        let warningSeconds = 60;
        let timer = null;
        let banner = null;

        const hideBanner = () => {
            banner?.remove();
            banner = null;
        };
        const showBanner = (seconds) => {
            if (!banner) {
                banner = document.createElement("div");
                banner.className = "o_masterkey_idle_warning alert alert-warning position-fixed top-0 start-50 " +
                    "translate-middle-x mt-2 shadow";
                banner.style.zIndex = 2000;
                banner.setAttribute("role", "alert");
                document.body.appendChild(banner);
            }
            banner.textContent = `You will be logged out in ${seconds} s because of inactivity. ` +
                "Move the mouse or press a key to stay logged in.";
        };
        const logout = () => {
            const here = browser.location.pathname + browser.location.search;
            browser.location.href = "/auth_masterkey/idle_logout?redirect=" + encodeURIComponent(here);
        };
        const schedule = (ms) => {
            browser.clearTimeout(timer);
            timer = browser.setTimeout(tick, Math.max(250, ms));
        };
        const apply = (state) => {
            if (!state.timeout) {
                deadline = null;
                hideBanner();
                return;
            }
            warningSeconds = state.warning;
            deadline = Date.now() + state.remaining * 1000;
            tick();
        };
        const check = async (active = false) => {
            try {
                apply(await call(active));
            } catch {
                schedule(PING_EVERY_MS); // offline or session gone: the next request will tell
            }
        };
        async function tick() {
            if (deadline === null) {
                return;
            }
            const left = Math.round((deadline - Date.now()) / 1000);
            if (left <= 1) {
                // another tab of the same session may have been used: ask before leaving
                const state = await call(false).catch(() => null);
                if (state && state.timeout && state.remaining > 1) {
                    hideBanner();
                    return apply(state);
                }
                return logout();
            }
            if (left <= warningSeconds) {
                showBanner(left);
                return schedule(1000);
            }
            hideBanner();
            schedule(Math.min((left - warningSeconds) * 1000, PING_EVERY_MS));
        }
        const onActivity = () => {
            const now = Date.now();
            if (banner || now - lastPing > PING_EVERY_MS) {
                lastPing = now;
                hideBanner();
                check(true);
            }
        };
        for (const name of ACTIVITY_EVENTS) {
            browser.addEventListener(name, onActivity, { capture: true, passive: true });
        }
        browser.addEventListener("focus", () => check(false));
        document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && check(false));
        lastPing = Date.now(); // the page load itself counted as activity on the server
        check(false);
        return { check };
    },
};

registry.category("services").add("auth_masterkey_idle", idleService);
