// The passkey button of the sign-in's second step (docs/api.md §11). The page carries the
// request options (PublicKeyCredentialRequestOptionsJSON) in the button's data-options; the
// browser's answer goes back in a plain form post, as the code does. No inline script: the
// page's Content-Security-Policy allows scripts from this origin only.
"use strict";
(function () {
  const button = document.getElementById("passkey");
  const status = document.getElementById("passkey-status");
  if (!button) return;
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) {
    button.disabled = true;
    status.textContent = "This browser cannot use passkeys here; use a code instead.";
    return;
  }
  button.disabled = false; // the page ships it disabled until this script listens
  button.addEventListener("click", async function () {
    button.disabled = true;
    status.textContent = "Waiting for your passkey…";
    try {
      const options = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(button.dataset.options));
      const credential = await navigator.credentials.get({ publicKey: options });
      document.getElementById("credential").value = JSON.stringify(credential.toJSON());
      document.getElementById("passkey-form").submit();
    } catch (error) {
      button.disabled = false;
      status.textContent = "The passkey was not used (" + error.name + "). Try again, or use a code.";
    }
  });
})();
