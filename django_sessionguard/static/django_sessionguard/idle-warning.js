/* django-sessionguard: warn before an idle sign-out, in step across tabs.
 * Plain JS, no inline code (works under script-src 'self'). The server is the
 * authority: deadlines come from it, and this page leaves for the sign-in page
 * only once it says the session is over. See docs/idle-warning.md. */
(function () {
  "use strict";
  var root = document.querySelector("[data-sessionguard-idle]");
  if (!root || !window.fetch) return;
  var d = root.dataset, KEY = "sessionguard-idle", chan = null;
  try { chan = new BroadcastChannel(KEY); } catch (e) { /* storage fallback */ }

  function send(m) {
    if (chan) return chan.postMessage(m);
    m.n = Math.random(); // a storage event needs a changed value
    try { localStorage.setItem(KEY, JSON.stringify(m)); } catch (e) { /* no storage */ }
  }

  // A signed-out page: tell the other tabs, which check with the server.
  if ("signedOut" in d) return send({ t: "out" });

  var INF = 1 / 0, warnBefore = +d.warningBefore, seen = +d.serverTime;
  var idle = num(d.idleDeadline), abs = num(d.absoluteDeadline);
  var skew = seen - Date.now() / 1000; // server clock minus ours
  var shown = false, leaving = false, busy = 0, failed = 0, verifyUntil = 0, back;
  var stay = root.querySelector("[data-sessionguard-idle-extend]");
  var out = root.querySelector("[data-sessionguard-idle-signout]");
  var err = root.querySelector("[data-sessionguard-idle-error]");
  var time = root.querySelector("[data-sessionguard-idle-time]");
  var live = document.querySelector("[data-sessionguard-idle-status]");

  function num(v) { return v ? +v : null; }
  function now() { return Date.now() / 1000 + skew; }

  function fmt(s) {
    var m = s > 90, v = m ? Math.ceil(s / 60) : s;
    try {
      return new Intl.NumberFormat(d.lang, { style: "unit", unit: m ? "minute" : "second", unitDisplay: "long" }).format(v);
    } catch (e) { return v + (m ? " min" : " s"); }
  }

  // Adopt what the server said (own answer, or a peer's), newest first.
  function apply(s, own) {
    if (!s.authenticated) return leave();
    if (own) skew = s.server_time - Date.now() / 1000;
    if (s.server_time >= seen) {
      seen = s.server_time; idle = s.idle_deadline; abs = s.absolute_deadline;
      if (own) send({ t: "s", s: s });
    }
    tick();
  }

  function ask(url, body) {
    busy++;
    return fetch(url, {
      method: body ? "POST" : "GET", body: body, credentials: "same-origin",
      cache: "no-store", headers: { Accept: "application/json" }
    }).then(function (r) {
      if (r.status === 401) return { authenticated: false };
      if (!r.ok) throw r;
      return r.json();
    }).then(function (s) {
      busy--; failed = 0; apply(s, true); return true;
    }, function () {
      busy--; failed = Date.now(); return false;
    });
  }

  function check() {
    if (!busy && !leaving && Date.now() - failed > 5000) ask(d.statusUrl);
  }

  function tick() {
    if (leaving) return;
    var t = now(), i = idle == null ? INF : idle, a = abs == null ? INF : abs;
    var warn = i <= a && i - t <= warnBefore;
    if (Math.min(i, a) <= t || Date.now() < verifyUntil) check();
    else if (warn && !shown) {
      // Show only on fresh news: activity elsewhere may have moved the deadline.
      if (i - seen <= warnBefore + 1 || failed) show(); else check();
    }
    if (shown && !warn) hide();
    if (shown && time) time.textContent = fmt(Math.max(0, Math.ceil(i - t)));
    // The next moment that matters, if it falls before the next 1 s tick.
    var next = (shown || i > a ? Math.min(i, a) : i - warnBefore) - t;
    if (next > 0 && next < 1) setTimeout(tick, next * 1000 + 20);
  }

  function show() {
    shown = true; back = document.activeElement; err.hidden = true;
    if (live) live.textContent = "";
    if (root.showModal) root.showModal(); else root.setAttribute("open", "");
    stay.querySelector("button").focus();
  }

  function hide() {
    shown = false;
    if (root.close) root.close(); else root.removeAttribute("open");
    if (live) live.textContent = d.extendedText;
    if (back && back.focus) back.focus();
  }

  function leave() {
    if (leaving) return;
    leaving = true; send({ t: "out" }); location.assign(d.loginUrl);
  }

  function extend() {
    ask(d.extendUrl, new FormData(stay)).then(function (ok) { if (!ok) err.hidden = false; });
  }

  stay.addEventListener("submit", function (e) { e.preventDefault(); extend(); });
  // Escape means "I am here", never a silent dismissal.
  root.addEventListener("cancel", function (e) { e.preventDefault(); extend(); });
  if (out) out.addEventListener("submit", function () { leaving = true; send({ t: "out" }); });

  function receive(m) {
    if (!m || leaving) return;
    if (m.t === "s") apply(m.s, false);
    // Another tab signed out: confirm with the server (the sign-out may still be in flight).
    if (m.t === "out") { verifyUntil = Date.now() + 10000; check(); }
  }
  if (chan) chan.onmessage = function (e) { receive(e.data); };
  else addEventListener("storage", function (e) {
    if (e.key === KEY && e.newValue) try { receive(JSON.parse(e.newValue)); } catch (x) { /* ignore */ }
  });

  // Back from the page cache (e.g. after signing out): ask before showing anything.
  addEventListener("pageshow", function (e) { if (e.persisted) { leaving = false; check(); } });
  document.addEventListener("visibilitychange", tick);
  setInterval(tick, 1000);
  send({ t: "s", s: { authenticated: true, idle_deadline: idle, absolute_deadline: abs, server_time: seen } });
  tick();
})();
