/* Airline: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  /* Airport autocomplete from GET /api/v1/airports?q= (a native datalist, so it stays accessible). */
  function airportAutocomplete(input, index) {
    var list = document.createElement("datalist");
    list.id = "airport-options-" + index;
    input.setAttribute("list", list.id);
    input.after(list);
    var timer = null;
    var lastQuery = "";
    input.addEventListener("input", function () {
      var query = input.value.trim();
      if (query.length < 1 || query === lastQuery || /^[A-Za-z]{3}$/.test(query) && list.querySelector('option[value="' + query.toUpperCase() + '"]')) return;
      clearTimeout(timer);
      timer = setTimeout(function () {
        lastQuery = query;
        fetch("/api/v1/airports?page_size=8&q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            list.replaceChildren.apply(list, (data.results || []).map(function (airport) {
              var option = document.createElement("option");
              option.value = airport.code;
              option.textContent = airport.city + " · " + airport.name;
              return option;
            }));
          })
          .catch(function () { /* autocomplete is a nicety: typing the code still works */ });
      }, 180);
    });
  }

  /* The search box's trip kind: shows the return date or the multi-city rows only when they count,
     and leaves the hidden ones out of the search (disabled), so a one-way link stays short. Without
     this every field shows and a one-way search ignores the others. */
  function tripChoice(form) {
    var radios = form.querySelectorAll('input[name="trip"]');
    function refresh() {
      var checked = form.querySelector('input[name="trip"]:checked');
      var trip = checked ? checked.value : "one_way";
      form.querySelectorAll("[data-trip-only]").forEach(function (part) {
        var shown = part.dataset.tripOnly === trip;
        part.hidden = !shown;
        part.querySelectorAll("input").forEach(function (input) { input.disabled = !shown; });
      });
    }
    radios.forEach(function (radio) { radio.addEventListener("change", refresh); });
    refresh();
  }

  /* Live countdown to the hold's expiry; counts from the server's "seconds left" (no clock skew).
     At zero the page says what a reload would: the hold, its messages and the pay form go, the
     heading changes and the expired notice shows. */
  function countdown(box) {
    var clock = box.querySelector("[data-countdown-clock]");
    var deadline = Date.now() + parseInt(box.dataset.secondsLeft, 10) * 1000;
    var expiredNote = document.querySelector("[data-countdown-expired]");
    var form = document.querySelector("[data-pay-form]");
    var heading = document.querySelector("[data-countdown-heading]");
    var messages = document.querySelector(".messages");
    function tick() {
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      clock.textContent = String(minutes).padStart(2, "0") + ":" + String(seconds).padStart(2, "0");
      if (left === 60) box.setAttribute("aria-live", "polite");
      if (left > 0) return;
      clearInterval(timer);
      box.classList.add("is-expired");
      box.hidden = true;
      if (messages) messages.hidden = true;  /* "your seats are held" and the like: no longer true */
      if (heading) heading.textContent = heading.dataset.countdownHeading;
      if (expiredNote) expiredNote.hidden = false;
      if (form) {
        form.querySelectorAll("button, input").forEach(function (el) { el.disabled = true; });
        form.hidden = true;
      }
    }
    var timer = setInterval(tick, 1000);
    tick();
  }

  /* One submission per form: a second click does nothing (the server is safe anyway). */
  function submitOnce(button) {
    var form = button.form;
    if (!form) return;
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      setTimeout(function () {
        button.disabled = true;
        button.textContent = "Please wait…";
      }, 0);
    });
  }

  /* Seat map: click a free seat to give it to the selected traveller; the selects stay the truth.
     The map is one tab stop (a roving tabindex: the seat last focused has tabindex 0, the others -1);
     the arrow keys move along a row (Left, Right) and between rows (Up, Down), Home and End go to the
     row's ends, and Space or Enter (the button's own keys) chooses. Taken seats can be focused, so a
     screen reader hears them, but not chosen (aria-disabled). */
  function seatPicker(form) {
    var selects = Array.prototype.slice.call(form.querySelectorAll("select[name=seats]"));
    var buttons = Array.prototype.slice.call(form.querySelectorAll("button[data-seat]"));
    var rows = Array.prototype.slice.call(form.querySelectorAll(".seatmap tr"))
      .map(function (tr) { return Array.prototype.slice.call(tr.querySelectorAll("button[data-seat]")); })
      .filter(function (seats) { return seats.length; });
    var active = 0;
    var keysHint = form.querySelector("[data-seat-keys]");
    if (keysHint) keysHint.hidden = false;
    function refresh() {
      var chosen = {};
      selects.forEach(function (select, index) {
        if (select.value) chosen[select.value] = index + 1;
        select.closest(".traveller-seat").classList.toggle("is-active", index === active);
      });
      buttons.forEach(function (button) {
        var traveller = chosen[button.dataset.seat];
        var state = button.getAttribute("aria-disabled") === "true" ? "taken"
          : traveller ? "chosen for traveller " + traveller : "available";
        button.classList.toggle("seat--chosen", Boolean(traveller));
        button.setAttribute("aria-pressed", traveller ? "true" : "false");
        button.setAttribute("aria-label", button.dataset.label + ", " + state);
        button.title = traveller ? "Traveller " + traveller : "";
      });
    }
    function makeTabStop(seat) {
      buttons.forEach(function (button) { button.tabIndex = button === seat ? 0 : -1; });
    }
    function moveTo(seat) {
      if (!seat) return;
      makeTabStop(seat);
      seat.focus();
    }
    function column(seat) { return seat.closest("td").cellIndex; }
    function nearest(seats, target) {
      return seats.reduce(function (best, seat) {
        return Math.abs(column(seat) - column(target)) < Math.abs(column(best) - column(target)) ? seat : best;
      });
    }
    selects.forEach(function (select, index) {
      select.addEventListener("focus", function () { active = index; refresh(); });
      select.addEventListener("change", function () {
        selects.forEach(function (other) {
          if (other !== select && other.value && other.value === select.value) other.value = "";
        });
        refresh();
      });
    });
    buttons.forEach(function (button) {
      button.addEventListener("focus", function () { makeTabStop(button); });
      button.addEventListener("click", function () {
        if (button.getAttribute("aria-disabled") === "true") return;
        var code = button.dataset.seat;
        var owner = selects.findIndex(function (select) { return select.value === code; });
        if (owner !== -1) {
          selects[owner].value = "";
          active = owner;
        } else {
          selects[active].value = code;
          var next = selects.findIndex(function (select) { return !select.value; });
          if (next !== -1) active = next;
        }
        refresh();
      });
      button.addEventListener("keydown", function (event) {
        if (event.altKey || event.ctrlKey || event.metaKey) return;
        var r = rows.findIndex(function (seats) { return seats.indexOf(button) !== -1; });
        var row = rows[r];
        var i = row.indexOf(button);
        var target = {
          ArrowLeft: row[i - 1],
          ArrowRight: row[i + 1],
          ArrowUp: r > 0 ? nearest(rows[r - 1], button) : null,
          ArrowDown: r < rows.length - 1 ? nearest(rows[r + 1], button) : null,
          Home: row[0],
          End: row[row.length - 1]
        };
        if (!(event.key in target)) return;
        event.preventDefault();  /* the arrows would scroll the page */
        moveTo(target[event.key]);
      });
    });
    refresh();
  }

  onReady(function () {
    /* The refine panel is folded on phones; on a wide screen it sits beside the results, open. */
    if (window.matchMedia("(min-width: 900px)").matches) {
      document.querySelectorAll("details[data-refine]").forEach(function (panel) { panel.open = true; });
    }
    document.querySelectorAll("[data-airport-autocomplete]").forEach(airportAutocomplete);
    document.querySelectorAll("[data-trip-form]").forEach(tripChoice);
    document.querySelectorAll("[data-countdown]").forEach(countdown);
    document.querySelectorAll("[data-submit-once]").forEach(submitOnce);
    document.querySelectorAll("[data-seat-picker]").forEach(seatPicker);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
