// A real OpenID provider for the SSO tests: node's oidc-provider (certified by the OpenID
// Foundation), on 127.0.0.1.
//
// Environment:
//   PORT      the port to listen on (the issuer is http://127.0.0.1:PORT)
//   CLIENTS   JSON list of oidc-provider client metadata (client_id, client_secret, redirect_uris)
//   ACCOUNTS  JSON object: email -> claims ({"email_verified": true, "name": "…", "amr": ["pwd", "mfa"]})
//
// Sign-in is automatic: the interaction signs in the account named by the authorization
// request's login_hint (an email of ACCOUNTS) and grants what the client asked for, so a test
// drives the whole flow with plain HTTP. Tests can make the token endpoint misbehave the ways
// an attacker or a broken provider would: POST /__test/mode with one of
//   ok | amr | wrong-nonce | wrong-aud | expired | bad-signature | slow | error | down | userinfo-other-sub
// (amr: a well-signed ID token that says how the person signed in, ["pwd", "mfa"]; down: the
// token endpoint drops the connection)
// (the last answers userinfo, which holds the email here as oidc-provider keeps it out of the ID
// token by default, about another subject)
// Prints "listening <issuer>" once it serves.
import { createServer } from "node:http";
import { exportJWK, generateKeyPair, importJWK, SignJWT, decodeJwt, decodeProtectedHeader } from "jose";
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS || "[]");
const accounts = JSON.parse(process.env.ACCOUNTS || "{}");

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: "idp-key-1", alg: "RS256", use: "sig" };
const { privateKey: strangerKey } = await generateKeyPair("RS256", { extractable: true });
let mode = "ok";

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], amr: null },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: id, ...accounts[id] }),
  }),
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 600 },
});
provider.proxy = false;

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const email = details.params.login_hint;
  if (!email || !accounts[email]) {
    res.writeHead(400, { "content-type": "text/plain" }).end(`no test account ${email}`);
    return;
  }
  const amr = accounts[email].amr;
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: email, ...(amr ? { amr } : {}) } },
    { mergeWithLastSubmission: false },
  );
}

async function tamper(body) {
  const answer = JSON.parse(body);
  if (!answer.id_token || mode === "ok") return body;
  const claims = decodeJwt(answer.id_token);
  const header = decodeProtectedHeader(answer.id_token);
  let key = await importJWK(signingJwk, "RS256");
  if (mode === "amr") claims.amr = ["pwd", "mfa"];
  if (mode === "wrong-nonce") claims.nonce = "not-the-nonce-you-sent";
  if (mode === "wrong-aud") claims.aud = "someone-else";
  if (mode === "expired") {
    claims.iat = Math.floor(Date.now() / 1000) - 7200;
    claims.exp = Math.floor(Date.now() / 1000) - 3600;
  }
  if (mode === "bad-signature") key = strangerKey;
  answer.id_token = await new SignJWT(claims).setProtectedHeader(header).sign(key);
  return JSON.stringify(answer);
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  try {
    if (req.url === "/__test/mode" && req.method === "POST") {
      let text = "";
      for await (const chunk of req) text += chunk;
      mode = text.trim();
      res.writeHead(204).end();
      return;
    }
    if (req.url.startsWith("/interaction/")) {
      await interaction(req, res);
      return;
    }
    if (req.url.startsWith("/me") && mode === "userinfo-other-sub") {
      const write = res.write.bind(res);
      const end = res.end.bind(res);
      const chunks = [];
      res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
      res.end = (chunk) => {
        if (chunk) chunks.push(Buffer.from(chunk));
        const body = JSON.parse(Buffer.concat(chunks).toString());
        res.removeHeader("content-length");
        write(JSON.stringify({ ...body, sub: "someone-else" }));
        end();
      };
    } else if (req.url.startsWith("/token") && mode !== "ok" && mode !== "userinfo-other-sub") {
      if (mode === "slow") await new Promise((done) => setTimeout(done, 15000));
      if (mode === "error") {
        res.writeHead(500, { "content-type": "text/plain" }).end("broken");
        return;
      }
      if (mode === "down") {
        req.socket.destroy();
        return;
      }
      const write = res.write.bind(res);
      const end = res.end.bind(res);
      const chunks = [];
      res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
      res.end = async (chunk) => {
        if (chunk) chunks.push(Buffer.from(chunk));
        const body = await tamper(Buffer.concat(chunks).toString());
        res.removeHeader("content-length");
        write(body);
        end();
      };
    }
    callback(req, res);
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain" }).end(String(error));
  }
});
server.listen(port, "127.0.0.1", () => console.log(`listening ${issuer}`));
