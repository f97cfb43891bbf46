/* fieldservice phone pages: location for travel and check-in, and the signature pad. Our own code. */
(function () {
  "use strict";

  function setField(form, suffix, value) {
    var input = form.querySelector('input[name$="' + suffix + '"]');
    if (input) { input.value = value; }
  }

  // Forms marked data-geolocate send the phone's position when the engineer allows it. Without
  // it (denied, no GPS, timeout) the form is sent anyway with the reason; the server logs that.
  document.querySelectorAll("form[data-geolocate]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.located === "1") { return; }
      if (!navigator.geolocation) { setField(form, "location_error", "unsupported"); return; }
      event.preventDefault();
      var button = form.querySelector('button[type="submit"]');
      if (button) {
        button.disabled = true;
        if (form.dataset.locatingText) { button.textContent = form.dataset.locatingText; }
      }
      var send = function () { form.dataset.located = "1"; form.submit(); };
      navigator.geolocation.getCurrentPosition(function (position) {
        setField(form, "latitude", position.coords.latitude.toFixed(6));
        setField(form, "longitude", position.coords.longitude.toFixed(6));
        setField(form, "accuracy", Math.round(position.coords.accuracy));
        send();
      }, function (error) {
        var reasons = { 1: "denied", 2: "unavailable", 3: "timeout" };
        setField(form, "location_error", reasons[error.code] || "unavailable");
        send();
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  });

  // The signature pad: pointer events (finger, pen, mouse) on a white canvas, sent as a PNG data URL.
  // A pad marked data-live (a job step, sent by htmx) keeps its input current after every stroke.
  function initPad(pad) {
    if (pad.dataset.ready === "1") { return; }
    pad.dataset.ready = "1";
    var canvas = pad.querySelector("canvas");
    var input = pad.querySelector('input[name="signature"]');
    var clear = pad.querySelector("[data-clear]");
    var form = pad.closest("form");
    var live = pad.hasAttribute("data-live");
    var context = canvas.getContext("2d");
    var drawing = false;
    var inked = false;
    var last = null;
    var ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 2);

    function blank() {
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.fillStyle = "#fff";
      context.fillRect(0, 0, rect.width, rect.height);
      context.strokeStyle = "#111";
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      inked = false;
      input.value = "";
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      context.beginPath();
      context.arc(last.x, last.y, 1.2, 0, 2 * Math.PI);
      context.fillStyle = "#111";
      context.fill();
      inked = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      var next = point(event);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
      inked = true;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () {
        if (drawing && live) { input.value = canvas.toDataURL("image/png"); }
        drawing = false;
      });
    });
    clear.addEventListener("click", blank);
    if (!live) {
      form.addEventListener("submit", function (event) {
        if (!inked) {
          event.preventDefault();
          window.alert(pad.dataset.emptyText);
          return;
        }
        input.value = canvas.toDataURL("image/png");
      });
    }
    blank();
  }
  document.querySelectorAll("[data-signature-pad]").forEach(initPad);

  // Job steps: a number outside its range is flagged as it is typed (the server decides again and
  // asks for a comment); a refused answer (400, 409) comes back as the step's card with the reason.
  function flagRange(input) {
    var card = input.closest("[data-step]");
    var flag = card && card.querySelector("[data-range-flag]");
    if (!flag) { return; }
    var value = parseFloat(String(input.value).replace(",", "."));
    var low = input.dataset.min !== undefined ? parseFloat(input.dataset.min) : null;
    var high = input.dataset.max !== undefined ? parseFloat(input.dataset.max) : null;
    var out = !isNaN(value) && ((low !== null && value < low) || (high !== null && value > high));
    flag.hidden = !out;
    card.classList.toggle("flagged", out);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-range-input]")) { flagRange(event.target); }
  });
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // One by one (walk) or all at once (list): the walk shows the first open step, and moves on
  // when a step's answer is saved.
  var steps = document.querySelector("[data-steps]");
  function cards() { return steps ? Array.prototype.slice.call(steps.querySelectorAll("[data-step]")) : []; }
  var current = 0;
  function show() {
    if (!steps) { return; }
    var all = cards();
    var walk = steps.dataset.mode === "walk";
    current = Math.max(0, Math.min(current, all.length - 1));
    all.forEach(function (card, index) { card.hidden = walk && index !== current; });
    var nav = steps.querySelector("[data-steps-nav]");
    if (nav) {
      nav.hidden = !walk;
      nav.querySelector("[data-step-count]").textContent = (current + 1) + " / " + all.length;
      nav.querySelector("[data-step-prev]").disabled = current === 0;
      nav.querySelector("[data-step-next]").disabled = current >= all.length - 1;
    }
    steps.querySelectorAll("[data-mode-button]").forEach(function (button) {
      button.classList.toggle("primary", button.dataset.modeButton === steps.dataset.mode);
      button.setAttribute("aria-pressed", button.dataset.modeButton === steps.dataset.mode ? "true" : "false");
    });
    var done = all.filter(function (card) { return card.dataset.answered === "1"; }).length;
    var progress = steps.querySelector("[data-steps-progress]");
    if (progress && progress.dataset.template === undefined) { progress.dataset.template = progress.textContent.replace(/\d+/, "{done}"); }
    if (progress) { progress.textContent = progress.dataset.template.replace("{done}", done); }
  }
  if (steps) {
    var first = cards().findIndex(function (card) { return card.dataset.answered !== "1"; });
    current = first < 0 ? 0 : first;
    steps.addEventListener("click", function (event) {
      var target = event.target;
      if (target.dataset.modeButton) { steps.dataset.mode = target.dataset.modeButton; show(); }
      else if (target.hasAttribute("data-step-prev")) { current -= 1; show(); }
      else if (target.hasAttribute("data-step-next")) { current += 1; show(); }
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var card = event.detail.target && event.detail.target.id ? document.getElementById(event.detail.target.id) : null;
      card = card || event.detail.elt;
      if (event.detail.xhr.status === 200 && steps.dataset.mode === "walk") {
        var all = cards();
        var index = all.indexOf(card);
        if (index >= 0 && index < all.length - 1) { current = index + 1; }
      }
      show();
    });
    show();
  }
  document.body.addEventListener("htmx:load", function (event) {
    var root = event.detail.elt;
    if (root.matches && root.matches("[data-signature-pad]")) { initPad(root); }
    if (root.querySelectorAll) { root.querySelectorAll("[data-signature-pad]").forEach(initPad); }
  });
})();
