// certdesk's only script: keyboard moves in the queue (and "?" for the list
// of keys), canned responses in a reply, local times, and live refresh of
// the case page. Every action also works
// without it (plain forms).
(function () {
  "use strict";

  // Queue: j/k move, Enter opens, / focuses the search.
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-href]"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, j) { r.classList.toggle("current", j === current); });
    var link = rows[current].querySelector("a");
    if (link) link.focus();
  }
  // Help: "?" opens the list of keys (a modal dialog: Esc closes it and
  // focus goes back where it was).
  var keys = [
    ["j", "next case in the queue"], ["k", "previous case in the queue"], ["Enter", "open the selected case"], ["x", "select the case for a bulk action"],
    ["/", "search the cases"], ["Ctrl+Shift+1…9", "insert a canned response into the reply"],
    ["?", "show these keys"], ["Esc", "close this list"]
  ];
  // Only the console has these keys: the portal loads this script too.
  var help = location.pathname.indexOf("/console") === 0 ? makeHelp() : null;
  function makeHelp() {
    var help = document.createElement("dialog");
    help.id = "keys-help";
    help.setAttribute("aria-labelledby", "keys-help-h");
    var h = document.createElement("h2");
    h.id = "keys-help-h";
    h.textContent = "Keyboard shortcuts";
    var dl = document.createElement("dl");
    dl.className = "keys";
    keys.forEach(function (k) {
      var dt = document.createElement("dt"), kbd = document.createElement("kbd"), dd = document.createElement("dd");
      kbd.textContent = k[0];
      dt.appendChild(kbd);
      dd.textContent = k[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    var form = document.createElement("form");
    form.method = "dialog";
    var close = document.createElement("button");
    close.textContent = "Close";
    form.appendChild(close);
    help.appendChild(h);
    help.appendChild(dl);
    help.appendChild(form);
    document.body.appendChild(help);
    var opener = document.createElement("button");
    opener.type = "button";
    opener.className = "link keys-open";
    opener.setAttribute("aria-keyshortcuts", "?");
    opener.textContent = "Keyboard shortcuts (?)";
    var main = document.getElementById("main");
    if (main) main.appendChild(opener);
    opener.addEventListener("click", function () { openHelp(); });
    return help;
  }
  var helpFrom = null;
  function openHelp() {
    if (!help || help.open) return;
    helpFrom = document.activeElement;
    help.showModal();
  }
  if (help) help.addEventListener("close", function () {
    if (helpFrom && helpFrom.focus) helpFrom.focus();
    helpFrom = null;
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (e.key === "?" && help && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      openHelp();
      return;
    }
    if (help && help.open) return;
    if (e.key === "/" && !typing) {
      var q = document.querySelector("[data-hotkey='/']");
      if (q) { e.preventDefault(); q.focus(); q.select(); }
      return;
    }
    if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "j") { e.preventDefault(); select(current + 1); }
    else if (e.key === "k") { e.preventDefault(); select(current - 1); }
    else if (e.key === "x" && current >= 0) {
      var box = rows[current].querySelector("input[type=checkbox]");
      if (box) { e.preventDefault(); box.checked = !box.checked; }
    }
    else if (e.key === "Enter" && current >= 0 && document.activeElement === document.body) {
      window.location.href = rows[current].getAttribute("data-href");
    }
  });

  // Case page: a canned response goes into the reply where the cursor is,
  // by choosing it or by Ctrl+Shift+1..9 (its number in the list). The
  // listeners sit on the document: the live refresh replaces the page.
  function insertCanned(option) {
    var pick = option.parentNode;
    var box = document.getElementById(pick.getAttribute("data-canned-for"));
    if (!box) return;
    var text = option.getAttribute("data-text");
    var start = box.selectionStart, end = box.selectionEnd;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.setSelectionRange(start + text.length, start + text.length);
    pick.selectedIndex = 0; // ready to insert another
    var id = document.getElementById("canned-id");
    if (id) id.value = option.value;
  }
  document.addEventListener("change", function (e) {
    var pick = e.target;
    if (pick.matches && pick.matches("select[data-canned-for]") && pick.selectedIndex > 0) {
      insertCanned(pick.options[pick.selectedIndex]);
    }
  });
  document.addEventListener("keydown", function (e) {
    var m = /^Digit([1-9])$/.exec(e.code || "");
    if (!m || !e.ctrlKey || !e.shiftKey || e.altKey || e.metaKey) return;
    var option = document.querySelector("select[data-canned-for] option[data-key='" + m[1] + "']");
    if (option) { e.preventDefault(); insertCanned(option); }
  });
  // Times in the reader's own zone and words ("Thu 3 Dec 2026, 08:02").
  function localTimes(root) {
    Array.prototype.forEach.call(root.querySelectorAll("time[data-local][datetime]"), function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.textContent;
      el.textContent = d.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
    });
  }
  localTimes(document);
  document.documentElement.classList.add("js"); // choosing inserts: no "Insert" button

  // Portal: while a case is between steps, refresh until it settles
  // (never while the learner is typing in a form).
  var moving = document.querySelector("[data-reload=moving]");
  if (moving) {
    setTimeout(function () {
      var busy = Array.prototype.some.call(document.querySelectorAll("input[type=email], input[type=text], textarea"),
        function (f) { return f.value.trim() !== "" || f === document.activeElement; });
      if (!busy) window.location.reload();
    }, 2000);
  }

  // Case page: when the case changes elsewhere (another agent, a learner's
  // click), show the fresh page — unless the agent is typing, then say so.
  var page = document.querySelector("article.case[data-case]");
  if (!page) return;
  var id = page.getAttribute("data-case");
  var version = page.getAttribute("data-version");
  var live = document.getElementById("live");
  function typing() {
    var fields = page.querySelectorAll("textarea, input[type=radio]:checked, select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f === document.activeElement) return true;
      if (f.tagName === "TEXTAREA" && f.value.trim() !== "") return true;
    }
    return false;
  }
  function refresh() {
    fetch("/api/v1/cases/" + encodeURIComponent(id), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (!c || String(c.version) === version) return;
        if (typing()) {
          live.textContent = "This case changed since you opened it. Reload to see the fresh state.";
          return;
        }
        return fetch(window.location.pathname, { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.querySelector("article.case[data-case]");
            if (!fresh) return;
            localTimes(fresh);
            page.replaceWith(fresh);
            page = fresh;
            version = fresh.getAttribute("data-version");
            live.textContent = "Updated: the case changed.";
          });
      })
      .catch(function () {})
      .then(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 2000);

  // Who else has this case open: the page says it is here every few seconds.
  var viewing = document.getElementById("viewers");
  function present() {
    fetch("/console/cases/" + encodeURIComponent(id) + "/viewers", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) { if (v && viewing && viewing.textContent !== v.text) viewing.textContent = v.text; })
      .catch(function () {})
      .then(function () { setTimeout(present, 5000); });
  }
  if (viewing) setTimeout(present, 5000);
})();
