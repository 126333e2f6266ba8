import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import { checkEmailPassword, effectiveScopes, memberWithWorkspace } from "../auth/index.ts";
import type { Db } from "../kernel/index.ts";
import type { LoginThrottle } from "../limits/index.ts";
import { apiScopesOf } from "./scopes.ts";
import { consentPage, loginPage, messagePage } from "./views.ts";

const MAX_FORM_BYTES = 16 * 1024;

export interface InteractionDeps {
  provider: Provider;
  db: Db;
  /** Keys the CSRF tokens; shared by every process (it lives with the cookie keys). */
  csrfSecret: string;
  /** The mount path of the authorization server, e.g. `/oauth`. */
  mountPath: string;
  logins: LoginThrottle;
}

function send(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...headers,
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
  });
  res.end(html);
}

/** The form is over MAX_FORM_BYTES: the client's mistake (413), not a server failure (503). */
const TOO_LARGE = Symbol("form too large");

async function readForm(req: IncomingMessage): Promise<URLSearchParams | typeof TOO_LARGE> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return TOO_LARGE;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/**
 * CSRF: each form carries an HMAC of its interaction's uid. The interaction itself is bound to
 * the browser by oidc-provider's signed, SameSite=Lax `_interaction` cookie, so a forged post from
 * another site has neither the cookie nor the token.
 */
function csrfToken(secret: string, uid: string): string {
  return createHmac("sha256", secret).update(`csrf:${uid}`).digest("base64url");
}

function csrfValid(secret: string, uid: string, presented: string | null): boolean {
  const expected = Buffer.from(csrfToken(secret, uid));
  const given = Buffer.from(presented ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** GET/POST `/oauth/interaction/:uid[/login|/confirm]`: the login and consent pages. */
export async function handleInteraction(
  deps: InteractionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const { provider, db, csrfSecret, mountPath } = deps;
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|confirm))?$/.exec(path.slice(mountPath.length));
  const uid = match?.[1];
  const action = match?.[2];
  if (!uid || (action && req.method !== "POST") || (!action && req.method !== "GET")) {
    send(res, 404, messagePage("Not found", "There is no such page."));
    return;
  }
  let details: Awaited<ReturnType<Provider["interactionDetails"]>>;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    send(
      res,
      400,
      messagePage("Sign-in expired", "This sign-in has expired. Start again from the application."),
    );
    return;
  }
  if (details.uid !== uid) {
    send(
      res,
      400,
      messagePage("Sign-in expired", "This sign-in has expired. Start again from the application."),
    );
    return;
  }
  const client = await provider.Client.find(String(details.params.client_id));
  const clientName = client?.clientName ?? "An application";
  const base = `${mountPath}/interaction/${uid}`;
  const csrf = csrfToken(csrfSecret, uid);

  if (!action) {
    if (details.prompt.name === "login") {
      send(res, 200, loginPage({ action: `${base}/login`, csrf, clientName }));
      return;
    }
    const accountId = details.session?.accountId;
    const row = accountId ? await memberWithWorkspace(db, accountId) : undefined;
    if (!row) {
      send(res, 400, messagePage("Sign-in expired", "Sign in again from the application."));
      return;
    }
    const scopes = effectiveScopes(row.role, apiScopesOf(String(details.params.scope ?? "")));
    send(res, 200, consentPage({ action: `${base}/confirm`, csrf, clientName, ...row, scopes }));
    return;
  }

  const form = await readForm(req);
  if (form === TOO_LARGE) {
    res.setHeader("connection", "close"); // the rest of the body is not read
    send(
      res,
      413,
      messagePage("Form too large", `The form is over ${MAX_FORM_BYTES / 1024} KiB; send less.`),
    );
    return;
  }
  if (!csrfValid(csrfSecret, uid, form.get("csrf"))) {
    send(res, 403, messagePage("Request refused", "The form was not sent from this sign-in page."));
    return;
  }
  if (action === "login") {
    if (details.prompt.name !== "login") {
      send(res, 400, messagePage("Sign-in expired", "Start again from the application."));
      return;
    }
    const email = form.get("email") ?? "";
    const address = req.socket.remoteAddress ?? "";
    const wait = deps.logins.lockedFor(email, address);
    if (wait > 0) {
      const error = `Too many failed sign-ins; try again in ${wait} seconds.`;
      const page = loginPage({ action: `${base}/login`, csrf, clientName, email, error });
      send(res, 429, page, { "retry-after": String(wait) });
      return;
    }
    const result = await checkEmailPassword(db, email, form.get("password") ?? "");
    if (result.ok) deps.logins.succeeded(email, address);
    else deps.logins.failed(email, address);
    if (!result.ok) {
      const error =
        result.reason === "ambiguous"
          ? "This email and password belong to several workspaces; give each a different password."
          : "The email or password is wrong.";
      send(res, 401, loginPage({ action: `${base}/login`, csrf, clientName, email, error }));
      return;
    }
    // `remember: false`: a browser-session cookie only, and the session ends with the authorization.
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: result.member.id, remember: false } },
      { mergeWithLastSubmission: false },
    );
    return;
  }

  if (details.prompt.name !== "consent" || !details.session?.accountId) {
    send(res, 400, messagePage("Sign-in expired", "Start again from the application."));
    return;
  }
  if (form.get("decision") !== "allow") {
    await provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "The user denied access." },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({
        accountId: details.session.accountId,
        clientId: String(details.params.client_id),
      });
  if (!grant) {
    send(res, 400, messagePage("Sign-in expired", "Start again from the application."));
    return;
  }
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { consent: details.grantId ? {} : { grantId } },
    { mergeWithLastSubmission: true },
  );
}
