document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var source = document.querySelector(button.getAttribute("data-copy"));
    var text = source.value !== undefined ? source.value : source.textContent.trim();
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; });
  });
});
