// Renders the Mermaid source the server put in #diagram-source, again each
// time polling swaps in a changed source.
(function () {
  "use strict";
  var rendered = 0;

  function render() {
    var holder = document.querySelector("#diagram-source .mermaid-source");
    var figure = document.getElementById("diagram");
    if (!holder || !figure || typeof mermaid === "undefined") return;
    var text = holder.textContent;
    var listing = document.getElementById("diagram-text");
    if (listing) listing.textContent = text;
    rendered += 1;
    mermaid
      .render("diagram-svg-" + rendered, text)
      .then(function (result) {
        figure.innerHTML = result.svg;
        figure.setAttribute("data-rendered", holder.parentElement.getAttribute("data-hash"));
      })
      .catch(function (error) {
        figure.textContent = "The diagram could not be drawn: " + error.message;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof mermaid === "undefined") return;
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral", er: { useMaxWidth: false } });
    render();
  });
  document.addEventListener("change", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-submit-on-change")) {
      event.target.form.requestSubmit();
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "diagram-source") render();
    if (event.detail.elt && event.detail.elt.id === "diagram-source") render();
  });
})();
