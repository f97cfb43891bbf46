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
  document.querySelectorAll("[data-signature-pad]").forEach(function (pad) {
    var canvas = pad.querySelector("canvas");
    var input = pad.querySelector('input[name="signature"]');
    var clear = pad.querySelector("[data-clear]");
    var form = pad.closest("form");
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
      canvas.addEventListener(name, function () { drawing = false; });
    });
    clear.addEventListener("click", blank);
    form.addEventListener("submit", function (event) {
      if (!inked) {
        event.preventDefault();
        window.alert(pad.dataset.emptyText);
        return;
      }
      input.value = canvas.toDataURL("image/png");
    });
    blank();
  });
})();
