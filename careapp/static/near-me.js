// Near me: the phone's position fills the search form's lat/lng and submits it.
// A progressive enhancement: without this script the form offers a list of places instead.
(function () {
  "use strict";
  var button = document.getElementById("use-my-location");
  if (!button || !("geolocation" in navigator)) {
    return;
  }
  var form = button.form;
  var status = document.getElementById("near-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.locating;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lng.value = position.coords.longitude.toFixed(6);
        if (form.elements.near) {
          form.elements.near.value = "";
        }
        form.elements.sort.value = "distance";
        form.submit();
      },
      function () {
        status.textContent = button.dataset.failed;
        button.disabled = false;
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
    );
  });
})();
