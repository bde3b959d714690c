// Passkeys (WebAuthn) for Rempart's pages: sign in, register a key, confirm an action.
// It only talks to Rempart's own JSON endpoints (/api/v1/auth/...); messages are written with
// textContent, never as HTML. Loaded as a file: the CSP allows no inline script.
"use strict";

(function () {
  const MESSAGES = {
    unsupported: "Votre navigateur ne permet pas d'utiliser les clés d'accès.",
    waiting: "Suivez les instructions de votre navigateur…",
    cancelled: "Opération annulée ou délai dépassé. Vous pouvez réessayer.",
    wrongSite:
      "Cette clé ne peut pas être utilisée à cette adresse : ouvrez le portail à son adresse officielle.",
    done: "C'est fait : redirection en cours…",
    step_up_required:
      "Le code ou la clé n'a pas été accepté : saisissez un nouveau code de votre application, puis recommencez.",
    forbidden:
      "Votre première clé d'accès doit d'abord être approuvée par une autre personne (responsable sécurité ou administrateur).",
    unauthenticated: "La vérification a échoué. Recommencez la connexion.",
    session_revoked: "Votre session a été fermée. Reconnectez-vous.",
    conflict: "Cette clé est déjà enregistrée, ou le nombre maximal de clés est atteint.",
    throttled: "Trop de tentatives : patientez avant de réessayer.",
    account_locked: "Ce compte est verrouillé.",
    csrf: "La page a expiré : rechargez-la.",
    generic: "La clé d'accès n'a pas pu être vérifiée.",
  };

  function b64urlToBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function bytesToB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    const publicKey = Object.assign({}, options);
    publicKey.challenge = b64urlToBytes(options.challenge);
    publicKey.user = Object.assign({}, options.user, { id: b64urlToBytes(options.user.id) });
    publicKey.excludeCredentials = (options.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: b64urlToBytes(c.id) });
    });
    return publicKey;
  }

  function requestOptions(options) {
    const publicKey = Object.assign({}, options);
    publicKey.challenge = b64urlToBytes(options.challenge);
    publicKey.allowCredentials = (options.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: b64urlToBytes(c.id) });
    });
    return publicKey;
  }

  function registrationJson(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: bytesToB64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: bytesToB64url(response.clientDataJSON),
        attestationObject: bytesToB64url(response.attestationObject),
        transports: typeof response.getTransports === "function" ? response.getTransports() : [],
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function assertionJson(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: bytesToB64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: bytesToB64url(response.clientDataJSON),
        authenticatorData: bytesToB64url(response.authenticatorData),
        signature: bytesToB64url(response.signature),
        userHandle: response.userHandle ? bytesToB64url(response.userHandle) : null,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  class ApiError extends Error {
    constructor(code) {
      super(code);
      this.code = code;
    }
  }

  async function post(url, body, csrf, proof) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (csrf) {
      headers["X-CSRF-Token"] = csrf;
    }
    if (proof) {
      headers["X-Factor-Proof"] = proof;
    }
    const response = await fetch(url, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) {
      let code = "generic";
      try {
        const problem = await response.json();
        code = typeof problem.code === "string" ? problem.code : code;
      } catch (_ignored) {
        // not a problem+json answer
      }
      throw new ApiError(code);
    }
    return response.status === 204 ? {} : response.json();
  }

  function say(text) {
    const status = document.getElementById("passkey-status");
    if (status) {
      status.textContent = text;
    }
  }

  function explain(error) {
    if (error instanceof ApiError) {
      return MESSAGES[error.code] || MESSAGES.generic;
    }
    if (error && error.name === "NotAllowedError") {
      return MESSAGES.cancelled;
    }
    if (error && error.name === "SecurityError") {
      return MESSAGES.wrongSite;
    }
    if (error && error.name === "InvalidStateError") {
      return MESSAGES.conflict;
    }
    return MESSAGES.generic;
  }

  // A local path only: never send the browser to another site.
  function localPath(target, fallback) {
    if (typeof target === "string" && target.charAt(0) === "/" && target.charAt(1) !== "/") {
      return target;
    }
    return fallback;
  }

  async function signIn(form) {
    const challenge = form.elements.namedItem("challenge").value;
    const begin = await post("/api/v1/auth/webauthn/login/begin", { challenge: challenge });
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(begin.options),
    });
    await post("/api/v1/auth/webauthn/login/finish", {
      challenge: challenge,
      credential: assertionJson(credential),
    });
    say(MESSAGES.done);
    window.location.assign(localPath(form.dataset.next, "/accueil"));
  }

  // A factor change needs a proof made for it: a new code of the app, or the key itself.
  async function proveFor(action, form, csrf) {
    const field = form.elements.namedItem("proof_code");
    if (field && field.value.trim()) {
      const made = await post(
        "/api/v1/auth/factors/proof/totp",
        { action: action, code: field.value.trim() },
        csrf,
      );
      return made.proof;
    }
    const begin = await post("/api/v1/auth/factors/proof/webauthn/begin", { action: action }, csrf);
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(begin.options),
    });
    const made = await post(
      "/api/v1/auth/factors/proof/webauthn/finish",
      { challenge: begin.challenge, credential: assertionJson(credential) },
      csrf,
    );
    return made.proof;
  }

  async function register(form) {
    const csrf = form.dataset.csrf;
    const name = form.elements.namedItem("name").value.trim() || "Clé d'accès";
    const proof = await proveFor("webauthn_register", form, csrf);
    const begin = await post("/api/v1/auth/webauthn/register/begin", {}, csrf, proof);
    const credential = await navigator.credentials.create({
      publicKey: creationOptions(begin.options),
    });
    await post(
      "/api/v1/auth/webauthn/register/finish",
      { challenge: begin.challenge, credential: registrationJson(credential), name: name },
      csrf,
    );
    say(MESSAGES.done);
    window.location.assign("/compte/securite?ok=cle_ajoutee");
  }

  async function stepUp(form) {
    const csrf = form.dataset.csrf;
    const begin = await post("/api/v1/auth/step-up/webauthn/begin", {}, csrf);
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(begin.options),
    });
    await post(
      "/api/v1/auth/step-up/webauthn/finish",
      { challenge: begin.challenge, credential: assertionJson(credential) },
      csrf,
    );
    say(MESSAGES.done);
    const replay = document.getElementById("replay");
    const target = localPath(replay.getAttribute("action"), "/accueil");
    if (replay.getAttribute("method") === "post") {
      replay.submit();
    } else {
      window.location.assign(target);
    }
  }

  const CEREMONIES = { login: signIn, register: register, "step-up": stepUp };

  function wire(form) {
    const ceremony = CEREMONIES[form.dataset.passkey];
    if (!ceremony) {
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(MESSAGES.unsupported);
      form.querySelectorAll("button").forEach(function (b) {
        b.disabled = true;
      });
      return;
    }
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) {
        b.disabled = true;
      });
      say(MESSAGES.waiting);
      try {
        await ceremony(form);
      } catch (error) {
        say(explain(error));
        buttons.forEach(function (b) {
          b.disabled = false;
        });
      }
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(wire);
})();
