// The rule form: show only the target field the chosen target needs, and hide target and
// strategy for a pool rule. Without script every field stays visible and the server decides.
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  if (!form) return;
  function row(name) {
    var input = form.querySelector("[name=" + name + "]");
    return input ? input.closest(".field") : null;
  }
  function show(name, visible) {
    var element = row(name);
    if (element) element.hidden = !visible;
  }
  function update() {
    var action = form.querySelector("[name=action]").value;
    var kind = form.querySelector("[name=target_kind]").value;
    var assign = action === "assign";
    show("target_kind", assign);
    show("strategy", assign);
    show("target_engineer", assign && kind === "engineer");
    show("target_team", assign && kind === "team");
    show("target_provider", assign && kind === "provider");
    show("pool_minutes", !assign);
    show("pool_requires_approval", !assign);
  }
  form.addEventListener("change", update);
  update();
})();
